//! Providers: the speech-to-text, chat and text-to-speech services Sori talks
//! to, behind three small traits, with their failure kinds and wire helpers.
//!
//! Who drives: the engine calls one trait method per step of a turn and polls
//! the stream it returns; dropping a stream cancels its request. No method
//! retries by itself: [`retry`] wraps the steps where a retry is safe.

pub mod error;
pub mod google;
pub mod local;
pub mod openai;
pub mod retry;
pub mod sse;
pub mod tool_calls;

pub use error::{ErrorKind, ProviderError};
pub use tool_calls::ToolCallAssembler;

use crate::audio::Pcm;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A stream of results from a provider; ends after its last item or first error.
pub type ProviderStream<T> = Pin<Box<dyn futures_util::Stream<Item = Result<T, ProviderError>> + Send>>;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// The result of a tool the assistant called.
    Tool,
}

/// A tool call the model asked for: which tool, and its arguments as the
/// JSON text the model wrote (parsed only by the tool that runs it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// A tool the model may call: its name, what it does, and a JSON Schema of
/// its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// One message of a conversation, as chat models take it: text from the
/// system, the user or the assistant; an assistant message may also ask for
/// tool calls, and a tool message answers one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    /// The text; may be empty for an assistant message that only calls tools.
    pub content: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call a tool message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        ChatMessage { role, content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }

    /// An assistant message that says `text` (maybe nothing) and calls tools.
    pub fn assistant_calling(text: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        ChatMessage { tool_calls: calls, ..ChatMessage::new(Role::Assistant, text) }
    }

    /// The result of tool call `id`.
    pub fn tool_result(id: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage { tool_call_id: Some(id.into()), ..ChatMessage::new(Role::Tool, content) }
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
    /// The most tokens the reply may have; a reply cut there ends with
    /// [`FinishReason::Length`].
    pub max_tokens: Option<u32>,
    /// Tools the model may call; none by default.
    pub tools: &'a [ToolSpec],
    /// A reply that is JSON of this schema (its name, the schema), as
    /// structured outputs give it; `None`: free text.
    pub json_schema: Option<(&'a str, &'a serde_json::Value)>,
}

impl<'a> ChatRequest<'a> {
    /// A request with no temperature, length limit or tools.
    pub fn new(model: &'a str, messages: &'a [ChatMessage]) -> Self {
        ChatRequest { model, messages, temperature: None, max_tokens: None, tools: &[], json_schema: None }
    }
}

/// Why a streamed reply ended, as the server said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished what it had to say.
    Stop,
    /// The reply reached its length limit (`max_tokens`) or the context window.
    Length,
    /// The model asks for tool calls before it goes on.
    ToolCalls,
    /// The provider's content filter stopped the reply.
    ContentFilter,
    /// A reason this build does not know.
    Other(String),
}

impl FinishReason {
    pub fn parse(reason: &str) -> Self {
        match reason {
            "stop" | "eos" | "end_turn" => FinishReason::Stop,
            "length" | "max_tokens" => FinishReason::Length,
            "tool_calls" | "function_call" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            other => FinishReason::Other(other.to_string()),
        }
    }
}

/// A piece of a streamed tool call. The first piece of a call carries its
/// id and name; later pieces add to its arguments. Servers differ: some
/// reuse index 0 for every call, some leave out the id or the index (then
/// the position in the chunk stands in); [`ToolCallAssembler`] copes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCallDelta {
    pub index: u32,
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

/// What a streamed chat reply yields, in order: text and tool-call pieces as
/// they come, then exactly one `Done` when the reply is whole (a stream that
/// breaks ends with an error instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// More reply text.
    Text(String),
    /// More of a tool call.
    ToolCallDelta(ToolCallDelta),
    /// The reply is complete; `None` when the server did not say why.
    Done { finish_reason: Option<FinishReason> },
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
    /// Semitones up or down, -20 to 20 (0: the voice's own); sent to engines that take it.
    pub pitch: f32,
    pub format: AudioFormat,
}

/// Bytes sent to and received from providers, for per-turn metrics. Every
/// client of a session adds to the same counters.
#[derive(Debug, Default)]
pub struct TransferStats {
    up: AtomicU64,
    down: AtomicU64,
}

impl TransferStats {
    pub fn sent(&self, bytes: usize) {
        self.up.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn received(&self, bytes: usize) {
        self.down.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Bytes (up, down) so far.
    pub fn totals(&self) -> (u64, u64) {
        (self.up.load(Ordering::Relaxed), self.down.load(Ordering::Relaxed))
    }
}

#[async_trait]
pub trait SpeechToText: Send + Sync {
    /// The text of an utterance (of any length, silence included); empty
    /// when nothing was said. Errors are the provider's failures only.
    async fn transcribe(&self, request: SttRequest<'_>) -> Result<String, ProviderError>;

    /// Gets ready for the first utterance (a local engine loads its model);
    /// a server needs nothing.
    async fn warm_up(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}

#[async_trait]
pub trait ChatModel: Send + Sync {
    /// Starts a streamed reply. Errors before the first byte come back here;
    /// later ones come through the stream, which then ends. A stream that
    /// ends without an error has yielded `Done` last.
    async fn stream_chat(&self, request: ChatRequest<'_>) -> Result<ProviderStream<ChatEvent>, ProviderError>;

    /// Gets ready for the first reply, whose request will begin with
    /// `start` (the persona) and offer `tools`: a local model loads and
    /// reads them into its cache; a server needs nothing.
    async fn warm_up(&self, start: &[ChatMessage], tools: &[ToolSpec]) -> Result<(), ProviderError> {
        let _ = (start, tools);
        Ok(())
    }

    /// Whether it calls the tools it is offered (else the agent looks up
    /// what a question needs before asking it).
    fn calls_tools(&self) -> bool {
        true
    }

    /// Whether it keeps a reply to a JSON schema (`ChatRequest::json_schema`).
    fn structured_output(&self) -> bool {
        false
    }
}

#[async_trait]
pub trait TextToSpeech: Send + Sync {
    /// Starts synthesizing `text`; audio comes through the stream as it is
    /// made, each piece mono at its own rate (pieces of one stream may differ).
    async fn synthesize(&self, request: SpeechRequest<'_>) -> Result<ProviderStream<Pcm>, ProviderError>;

    /// Gets ready for the first reply (a local voice loads its model); a
    /// server needs nothing.
    async fn warm_up(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}

/// The services a turn uses, one per stage (each may be a different server,
/// or an engine on this computer), and the transfer counters they share.
#[derive(Clone)]
pub struct Providers {
    pub stt: Arc<dyn SpeechToText>,
    pub chat: Arc<dyn ChatModel>,
    pub tts: Arc<dyn TextToSpeech>,
    pub transfer: Arc<TransferStats>,
    /// The tools the agent may call (none by default).
    pub tools: crate::tools::Tools,
    /// What is said while a tool runs, made ahead of time with `tts`.
    pub fillers: crate::turn::filler::Fillers,
    /// Each turn's request type is asked of `chat` too (structured output),
    /// not only read by rules.
    pub classify_with_model: bool,
}

impl Providers {
    /// The three stages, with no tools.
    pub fn new(stt: Arc<dyn SpeechToText>, chat: Arc<dyn ChatModel>, tts: Arc<dyn TextToSpeech>, transfer: Arc<TransferStats>) -> Self {
        Providers { stt, chat, tts, transfer, tools: crate::tools::Tools::default(), fillers: Default::default(), classify_with_model: false }
    }

    /// One service for all three stages.
    pub fn all<T: SpeechToText + ChatModel + TextToSpeech + 'static>(service: Arc<T>, transfer: Arc<TransferStats>) -> Self {
        Providers::new(service.clone(), service.clone(), service, transfer)
    }

    /// The same stages, offering `tools` to the agent.
    pub fn with_tools(self, tools: crate::tools::Tools) -> Self {
        Providers { tools, ..self }
    }

    /// The same, with each turn's request type asked of the chat model when it can keep to a schema.
    pub fn with_model_classification(self) -> Self {
        let classify_with_model = self.chat.structured_output();
        Providers { classify_with_model, ..self }
    }
}
