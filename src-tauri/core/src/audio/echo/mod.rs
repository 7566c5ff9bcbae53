//! Hands-free on speakers: the microphone cleaned of Sori's own voice (echo
//! cancellation against what the speaker played), of steady noise, and of
//! uneven level, before voice activity or speech-to-text hear it.

pub mod cleaner;
pub mod double_talk;
pub mod reference;

pub use cleaner::{Cleaner, Cleanup, EchoStats};
pub use reference::EchoReference;
