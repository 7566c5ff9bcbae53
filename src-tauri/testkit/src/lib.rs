//! `sori-testkit`: a local OpenAI-compatible (and Google-speech-compatible)
//! server that speaks the real wire formats, so Sori's tests and benchmarks
//! run real HTTP with no cloud.
//!
//! A map of the crate:
//! - [`server`]: [`TestServer`] (start on `127.0.0.1:0`, base URL, steering) and the router.
//! - [`routes`]: one module per endpoint: models, chat completions (plain, SSE,
//!   tools), speech (pcm/wav/mp3/opus, chunked), transcriptions (multipart,
//!   every response format, streamed), the Realtime API over WebSocket (GA
//!   events, push-to-talk, paced responses, cancel, truncate, tool calls),
//!   the fake Google Cloud Speech-to-Text and Text-to-Speech v1 with its
//!   OAuth token endpoint (`routes::google`: recognize, synthesize, voices,
//!   service-account JWTs, API keys, Google's error JSON), and the
//!   `/__testkit` control API.
//! - [`latency`]: the latency model and the time-to-first-audio lower bound.
//! - [`faults`]: 401, 429 + Retry-After, quota, 500/503, slow first byte,
//!   dropped connection, malformed SSE, truncated audio, queued per endpoint.
//! - [`errors`]: OpenAI's error JSON. [`auth`]: bearer keys.
//! - [`google`]: the test Google service account (its key file and key), the
//!   API key, and the tokens the fake OAuth server minted.
//! - [`discovery`]: Google's discovery documents; Google requests are read
//!   against them, and tests check the fake's replies with them.
//! - [`script`]: transcripts by audio hash, predictable Korean/English replies,
//!   tool calls, and the tokenizer that paces streams.
//! - [`spec`]: the official OpenAPI spec; every request is validated against it.
//! - [`audio`]: the speech synthesizer, encoders, and test-audio helpers (espeak-ng).
//! - [`stream`]: paced, chunked bodies.
//! - [`fixtures`]: where the real test models are.
//! - [`mirror`]: a model mirror (files by model id, `Range`, download faults).
//! - [`leaks`]: every file a test wrote, and a check that a secret is in none.

pub mod audio;
pub mod auth;
pub mod discovery;
pub mod errors;
pub mod faults;
pub mod fixtures;
pub mod google;
pub mod latency;
pub mod leaks;
pub mod mirror;
pub mod routes;
pub mod script;
pub mod server;
pub mod spec;
pub mod state;
pub mod stream;

pub use faults::{Endpoint, Fault};
pub use google::{service_account_json, GOOGLE_TEST_API_KEY, GOOGLE_TEST_CLIENT_EMAIL};
pub use latency::LatencyModel;
pub use mirror::{MirrorFault, ModelMirror};
pub use server::{ServerConfig, TestServer, TEST_API_KEY};
