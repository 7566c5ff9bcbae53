//! `sori-core`: Sori's engine, with no Tauri anywhere in its dependency tree.
//!
//! A map of the crate (it grows with each capability):
//! - [`audio`]: the sound devices: listing them now; capture, voice activity
//!   and playback as they land.
//!
//! Data will flow one way: mic → frames → VAD segmenter → utterance → STT →
//! chat stream → clause splitter → TTS stream → playback, each step reporting
//! to one event stream that the UI renders (see `ARCHITECTURE.md`).

pub mod audio;

/// The engine's version, shown in the UI next to the app's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
