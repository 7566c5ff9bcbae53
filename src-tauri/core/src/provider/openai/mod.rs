//! The OpenAI-compatible provider (OpenAI, Groq, Ollama, llama.cpp, LocalAI):
//! one HTTP client, one module per endpoint.

pub mod chat;
pub mod client;
pub mod stt;
pub mod tts;

pub use client::{is_loopback_url, BaseUrlError, OpenAi};
