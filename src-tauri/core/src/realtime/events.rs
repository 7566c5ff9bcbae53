//! The Realtime API's events as Sori speaks them: GA names and the nested
//! `audio.input`/`audio.output` session shape only (the beta interface is
//! switched off), our own thin serde layer rather than a closed enum from
//! an SDK, so that an event the server adds tomorrow is [`ServerEvent::Other`]
//! (logged, ignored) and never a parse error. A known event with fields
//! that are not what the spec promises is an error: that is a broken server.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Audio both ways: 16-bit little-endian mono PCM at 24 kHz, the only PCM rate the API takes.
pub const RATE: u32 = 24_000;

/// PCM as the events carry it: little-endian 16-bit samples in base64.
pub fn pcm_to_base64(samples: &[i16]) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The samples of an audio delta; `None` when it is not base64.
pub fn pcm_from_base64(audio: &str) -> Option<Vec<i16>> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(audio).ok()?;
    Some(bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PcmFormat {
    #[serde(rename = "type")]
    kind: &'static str,
    rate: u32,
}

impl Default for PcmFormat {
    fn default() -> Self {
        PcmFormat { kind: "audio/pcm", rate: RATE }
    }
}

/// How the server finds the end of the user's turn; `None` in the session
/// (JSON `null`) is push-to-talk, ended by `input_audio_buffer.commit`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TurnDetection {
    ServerVad { threshold: f32, prefix_padding_ms: u32, silence_duration_ms: u32, create_response: bool, interrupt_response: bool },
    SemanticVad { eagerness: &'static str, create_response: bool, interrupt_response: bool },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcription {
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputAudio {
    pub format: PcmFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcription: Option<Transcription>,
    /// `near_field` (a headset) or `far_field` (laptop speakers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_reduction: Option<Value>,
    /// Always sent, `null` included: leaving it out keeps the server's VAD on.
    pub turn_detection: Option<TurnDetection>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputAudio {
    pub format: PcmFormat,
    pub voice: String,
    pub speed: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioConfig {
    pub input: InputAudio,
    pub output: OutputAudio,
}

/// A function the model may call: Realtime's flat shape (`{type, name, …}`),
/// not Chat Completions' nested one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionTool {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

impl FunctionTool {
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        FunctionTool { kind: "function", name: name.into(), description: description.into(), parameters }
    }
}

/// The session Sori asks for in `session.update`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionConfig {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub output_modalities: Vec<&'static str>,
    pub instructions: String,
    pub audio: AudioConfig,
    pub tools: Vec<FunctionTool>,
    pub tool_choice: &'static str,
}

impl SessionConfig {
    /// A spoken session with these instructions, voice and turn detection.
    pub fn spoken(instructions: impl Into<String>, voice: impl Into<String>, turn_detection: Option<TurnDetection>) -> Self {
        SessionConfig {
            kind: "realtime",
            output_modalities: vec!["audio"],
            instructions: instructions.into(),
            audio: AudioConfig {
                input: InputAudio { format: PcmFormat::default(), transcription: None, noise_reduction: None, turn_detection },
                output: OutputAudio { format: PcmFormat::default(), voice: voice.into(), speed: 1.0 },
            },
            tools: Vec::new(),
            tool_choice: "auto",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    InputText { text: String },
    OutputText { text: String },
}

/// A conversation item Sori creates: typed words, a replayed turn, a settled call, or a tool's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    Message {
        role: &'static str,
        content: Vec<Content>,
    },
    /// A call the model made in an earlier turn, answered now (a held call the user settled).
    FunctionCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    FunctionCallOutput {
        call_id: String,
        output: String,
    },
}

impl Item {
    pub fn user_text(text: impl Into<String>) -> Self {
        Item::Message { role: "user", content: vec![Content::InputText { text: text.into() }] }
    }

    /// An earlier answer, replayed as context into a new session.
    pub fn assistant_text(text: impl Into<String>) -> Self {
        Item::Message { role: "assistant", content: vec![Content::OutputText { text: text.into() }] }
    }
}

/// What Sori sends. Each carries an `event_id` (`sori_<n>`), which the
/// server echoes in an error about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum ClientEvent {
    #[serde(rename = "session.update")]
    SessionUpdate { event_id: String, session: Box<SessionConfig> },
    /// Base64 PCM; no reply.
    #[serde(rename = "input_audio_buffer.append")]
    Append { event_id: String, audio: String },
    /// Push-to-talk's end of speech (at least 100 ms must be in the buffer).
    #[serde(rename = "input_audio_buffer.commit")]
    Commit { event_id: String },
    #[serde(rename = "input_audio_buffer.clear")]
    Clear { event_id: String },
    #[serde(rename = "conversation.item.create")]
    CreateItem { event_id: String, item: Item },
    /// Barge-in: the assistant item keeps only `audio_end_ms` of its audio.
    #[serde(rename = "conversation.item.truncate")]
    Truncate { event_id: String, item_id: String, content_index: u32, audio_end_ms: u64 },
    #[serde(rename = "conversation.item.delete")]
    DeleteItem { event_id: String, item_id: String },
    #[serde(rename = "response.create")]
    CreateResponse { event_id: String },
    #[serde(rename = "response.cancel")]
    CancelResponse { event_id: String },
}

/// `response.done`'s response, as far as Sori reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResponseSummary {
    pub id: String,
    /// `completed`, `cancelled`, `failed` or `incomplete`.
    pub status: String,
    #[serde(default)]
    pub status_details: Option<Value>,
    #[serde(default)]
    pub usage: Option<Value>,
    #[serde(default)]
    pub output: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    pub message: String,
    /// The `event_id` of the client event at fault.
    #[serde(default)]
    pub event_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RateLimit {
    pub name: String,
    pub limit: u64,
    pub remaining: u64,
    pub reset_seconds: f64,
}

/// What the server sends that Sori acts on; the rest is `Other`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    #[serde(rename = "session.created")]
    SessionCreated { session: Value },
    #[serde(rename = "session.updated")]
    SessionUpdated { session: Value },
    #[serde(rename = "input_audio_buffer.speech_started")]
    SpeechStarted { item_id: String, audio_start_ms: u64 },
    #[serde(rename = "input_audio_buffer.speech_stopped")]
    SpeechStopped { item_id: String, audio_end_ms: u64 },
    #[serde(rename = "input_audio_buffer.committed")]
    Committed { item_id: String },
    /// The user's words, which may come before or after the reply: match by `item_id`.
    #[serde(rename = "conversation.item.input_audio_transcription.completed")]
    UserTranscript { item_id: String, transcript: String },
    #[serde(rename = "conversation.item.input_audio_transcription.failed")]
    UserTranscriptFailed { item_id: String, error: Value },
    #[serde(rename = "response.created")]
    ResponseCreated { response: Value },
    #[serde(rename = "response.output_audio.delta")]
    AudioDelta { response_id: String, item_id: String, content_index: u32, delta: String },
    #[serde(rename = "response.output_audio.done")]
    AudioDone { item_id: String },
    #[serde(rename = "response.output_audio_transcript.delta")]
    TranscriptDelta { response_id: String, item_id: String, delta: String },
    #[serde(rename = "response.output_audio_transcript.done")]
    TranscriptDone { item_id: String, transcript: String },
    #[serde(rename = "response.output_text.delta")]
    TextDelta { response_id: String, item_id: String, delta: String },
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCall { response_id: String, item_id: String, call_id: String, name: String, arguments: String },
    #[serde(rename = "response.done")]
    ResponseDone { response: ResponseSummary },
    #[serde(rename = "conversation.item.truncated")]
    Truncated { item_id: String, audio_end_ms: u64 },
    #[serde(rename = "error")]
    Error { error: ErrorBody },
    #[serde(rename = "rate_limits.updated")]
    RateLimits { rate_limits: Vec<RateLimit> },
    /// Any other event (GA has some forty): its type and the whole event.
    #[serde(skip)]
    Other { kind: String, raw: Value },
}

/// The event types above, which must then parse as the spec says.
const KNOWN: [&str; 18] = [
    "session.created",
    "session.updated",
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.failed",
    "response.created",
    "response.output_audio.delta",
    "response.output_audio.done",
    "response.output_audio_transcript.delta",
    "response.output_audio_transcript.done",
    "response.output_text.delta",
    "response.function_call_arguments.done",
    "response.done",
    "conversation.item.truncated",
    "error",
    "rate_limits.updated",
];

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the Realtime server sent something that is not a JSON event: {0}")]
    NotJson(serde_json::Error),
    #[error("the Realtime server sent an event without a type")]
    NoType,
    #[error("the Realtime server sent a {kind} event that is not what the API promises: {source}")]
    Malformed { kind: String, source: serde_json::Error },
}

impl ServerEvent {
    /// Reads one WebSocket text message.
    pub fn parse(text: &str) -> Result<Self, EventError> {
        let value: Value = serde_json::from_str(text).map_err(EventError::NotJson)?;
        let kind = value.get("type").and_then(Value::as_str).ok_or(EventError::NoType)?.to_string();
        if !KNOWN.contains(&kind.as_str()) {
            return Ok(ServerEvent::Other { kind, raw: value });
        }
        serde_json::from_value(value).map_err(|source| EventError::Malformed { kind, source })
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
