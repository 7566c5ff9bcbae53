//! Speech engines that run on this computer, with no network: Whisper
//! speech-to-text through CTranslate2, Piper neural voices through ONNX
//! Runtime, and espeak-ng speech (the voice that is always there). This crate holds
//! the heavy native builds and knows nothing of Sori's engine; `sori-core`
//! adapts these to its provider traits (threads, cancellation, events).

pub mod espeak;
pub mod onnx;
pub mod phonemes;
pub mod piper;
pub mod whisper;

pub use espeak::{Espeak, EspeakVoice};
pub use piper::PiperVoice;
pub use whisper::{WhisperModel, WhisperSettings};

/// Why a local engine could not do its work, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The model's files are missing or damaged.
    #[error("The model at {path} could not be loaded: {reason}")]
    Model { path: String, reason: String },
    /// The engine failed while running.
    #[error("{engine} failed: {reason}")]
    Engine { engine: &'static str, reason: String },
    /// A program the engine runs is not installed.
    #[error("{0} is not installed")]
    Missing(&'static str),
}
