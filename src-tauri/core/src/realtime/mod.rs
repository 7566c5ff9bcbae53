//! Realtime mode: speech to speech over the OpenAI Realtime API (one
//! WebSocket, audio both ways). This module grows into the second pipeline
//! behind the engine's seam; so far it holds the wire format (`events`) and
//! the connection (`connection`), and what was heard of a reply (`heard`),
//! which a barge-in truncates to.

pub mod connection;
pub mod events;
pub mod heard;
