//! `sori-core`: Sori's engine, with no Tauri anywhere in its dependency tree.
//!
//! A map of the crate (it grows with each capability):
//! - [`audio`]: devices; capture (cpal on its own thread, rubato to 16 kHz);
//!   voice activity (webrtc-vad behind a noise gate), the utterance segmenter
//!   and the listener (push-to-talk, hands-free, barge-in, level); playback
//!   (rodio) and decoding of provider audio.
//! - [`provider`]: the `SpeechToText`, `ChatModel` and `TextToSpeech` traits,
//!   their OpenAI-compatible clients, failure kinds, retries and the SSE parser.
//! - [`turn`]: one turn, utterance or text in, spoken reply out, with metrics.
//! - [`engine`]: the task that owns the conversation and runs turns; `EngineHandle`.
//! - [`conversation`]: the persona and the budgeted history.
//! - [`event`]: the event stream that is the contract with the UI, and turn metrics.
//! - [`secrets`]: keys in the OS keychain (or this session's memory), their
//!   status and checks; `ApiKey`, which never prints itself.
//! - [`settings`]: the versioned settings file, validated, atomic, self-healing.
//! - [`history`]: finished turns appended durably, per conversation.
//! - [`text`]: the clause splitter that turns a streamed reply into speakable chunks.
//!
//! Data flows one way: mic → frames → VAD segmenter → utterance → STT →
//! chat stream → clause splitter → TTS stream → playback, each step reporting
//! to one event stream that the UI renders (see `ARCHITECTURE.md`).

pub mod audio;
pub mod conversation;
pub mod engine;
pub mod event;
pub mod history;
pub mod provider;
pub mod secrets;
pub mod settings;
pub mod text;
pub mod turn;
pub mod voice;

/// The engine's version, shown in the UI next to the app's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
