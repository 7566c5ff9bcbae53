//! `sori-core`: Sori's engine, with no Tauri anywhere in its dependency tree.
//!
//! A map of the crate (it grows with each capability):
//! - [`app`]: what every front end shares: providers built per stage from
//!   settings and keys, key checks, headless settings.
//! - [`audio`]: devices; capture (cpal on its own thread, rubato to 16 kHz);
//!   voice activity (webrtc-vad behind a noise gate), the utterance segmenter
//!   and the listener (push-to-talk, hands-free, barge-in, level); playback
//!   (rodio), decoded sound (`Pcm`), WAV files, decoding of provider audio,
//!   and recordings in any common container (`audio::recording`).
//! - [`provider`]: the `SpeechToText`, `ChatModel` and `TextToSpeech` traits,
//!   the message model (with tool calls), their OpenAI-compatible clients,
//!   failure kinds, retries, the SSE parser and the tool-call assembler.
//! - [`realtime`]: Realtime mode (speech to speech over one WebSocket); so
//!   far its wire format, checked against the OpenAPI spec.
//! - [`turn`]: one turn in four steps (transcribe, respond, speak, account
//!   for what was heard), utterance or text in, spoken reply out, with metrics.
//! - [`engine`]: the task that owns the conversation, the phase and the
//!   speaker, and runs one job at a time (a turn, a replay, a preview); `EngineHandle`.
//! - [`phase`]: the engine's phase, followed by anyone through a `watch` channel.
//! - [`voice`]: the microphone driving the engine (capture → listener).
//! - [`conversation`]: the persona and the budgeted history.
//! - [`event`]: the event stream that is the contract with the UI, and turn metrics.
//! - [`secrets`]: keys in the OS keychain (or this session's memory), their
//!   status and checks; `ApiKey`, which never prints itself.
//! - [`settings`]: the versioned settings file, validated, atomic, self-healing.
//! - [`history`]: finished turns appended durably, per conversation.
//! - [`text`]: the clause splitter that turns a streamed reply into speakable chunks.
//! - [`request_type`]: what each turn asks for (order status, inquiry,
//!   complaint, other): by a model's structured output, the tools, or rules.
//! - [`tools`]: what the agent can do: the `Tool` trait and the registry that
//!   runs calls (never failing the turn), and the shop's built-in tools
//!   (orders and tickets in SQLite, answers from a folder of Markdown files).
//!
//! Data flows one way: mic → frames → VAD segmenter → utterance → STT →
//! chat stream → clause splitter → TTS stream → playback, each step reporting
//! to one event stream that the UI renders (see `ARCHITECTURE.md`). Nothing
//! flows back but cancellation and the phase, which the engine owns.
//!
//! Modules depend one way: `audio`, `text` and `secrets` are leaves;
//! `provider` uses them, `event` uses `provider`'s error kinds; `turn`,
//! `engine` and `voice` use those; `app` sits on top for the front ends.

pub mod app;
pub mod audio;
pub mod conversation;
pub mod engine;
pub mod event;
pub mod history;
pub mod models;
pub mod phase;
pub mod provider;
pub mod realtime;
pub mod request_type;
pub mod secrets;
pub mod settings;
pub mod text;
pub mod tools;
pub mod turn;
pub mod voice;

/// The engine's version, shown in the UI next to the app's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
