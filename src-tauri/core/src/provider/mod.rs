//! Providers: the speech-to-text, chat and text-to-speech services Sori talks
//! to, behind three small traits, with their failure kinds and wire helpers.
//!
//! Who drives: the engine calls one trait method per step of a turn and polls
//! the stream it returns; dropping a stream cancels its request. No method
//! retries by itself: [`retry`] wraps the steps where a retry is safe.

pub mod error;
pub mod openai;
pub mod retry;
pub mod sse;

pub use error::{ErrorKind, ProviderError};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::pin::Pin;

/// A stream of results from a provider; ends after its last item or first error.
pub type ProviderStream<T> = Pin<Box<dyn futures_util::Stream<Item = Result<T, ProviderError>> + Send>>;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of a conversation, as chat models take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        ChatMessage { role, content: content.into() }
    }
}

/// An utterance to transcribe: mono 16-bit samples.
#[derive(Debug, Clone, Copy)]
pub struct SttRequest<'a> {
    pub samples: &'a [i16],
    pub sample_rate: u32,
    pub model: &'a str,
    /// ISO-639-1 code; `None` lets the model detect the language.
    pub language: Option<&'a str>,
    /// Vocabulary or style hint (names, product words).
    pub prompt: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
pub struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: &'a [ChatMessage],
    pub temperature: Option<f32>,
}

/// What a streamed chat reply yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// More reply text.
    Text(String),
    /// The reply is complete.
    Done { finish_reason: Option<String> },
}

/// The audio container asked of a speech endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    /// Raw 24 kHz 16-bit mono: no container, playable as it arrives (lowest latency).
    #[default]
    Pcm,
    Wav,
    Mp3,
    Opus,
}

#[derive(Debug, Clone, Copy)]
pub struct SpeechRequest<'a> {
    pub text: &'a str,
    pub model: &'a str,
    pub voice: &'a str,
    /// Style (“calm support agent”); sent only to models that support it.
    pub instructions: Option<&'a str>,
    pub speed: f32,
    pub format: AudioFormat,
}

/// A piece of decoded mono audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcm {
    pub samples: Vec<i16>,
    pub sample_rate: u32,
}

#[async_trait]
pub trait SpeechToText: Send + Sync {
    /// The text of an utterance; empty when nothing was said.
    async fn transcribe(&self, request: SttRequest<'_>) -> Result<String, ProviderError>;
}

#[async_trait]
pub trait ChatModel: Send + Sync {
    /// Starts a streamed reply. Errors before the first byte come back here;
    /// later ones come through the stream.
    async fn stream_chat(&self, request: ChatRequest<'_>) -> Result<ProviderStream<ChatEvent>, ProviderError>;
}

#[async_trait]
pub trait TextToSpeech: Send + Sync {
    /// Starts synthesizing `text`; audio comes through the stream as it is made.
    async fn synthesize(&self, request: SpeechRequest<'_>) -> Result<ProviderStream<Pcm>, ProviderError>;
}
