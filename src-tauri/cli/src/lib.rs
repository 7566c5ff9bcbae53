//! sori-cli's library: the voice-chat server (`server`), which the binary's
//! `serve` command runs and the tests drive.

pub mod server;
