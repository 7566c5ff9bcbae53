//! The engine's one event stream: everything the UI shows comes from here, as
//! serde-tagged JSON (`{"type": "status", …}`). This is the contract with the
//! UI; a snapshot test holds its JSON shape.

use crate::provider::ErrorKind;
use serde::Serialize;

/// Identifies a turn (one question and its answer), increasing per session.
pub type TurnId = u64;

/// What the assistant is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Idle,
    Listening,
    Transcribing,
    Thinking,
    Speaking,
}

/// The step of a turn an error or retry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Transcription,
    Chat,
    Speech,
    Playback,
}

/// Milliseconds of one turn, each from the turn's start (end of speech, or
/// the moment a typed question was sent). `None`: the step did not happen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TurnMetrics {
    pub transcript_ms: Option<f64>,
    pub llm_first_token_ms: Option<f64>,
    pub first_chunk_ms: Option<f64>,
    pub tts_first_byte_ms: Option<f64>,
    /// Time to first audio: the first samples of the reply handed to the output device.
    pub ttfa_ms: Option<f64>,
    pub total_ms: f64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Status { phase: Phase },
    /// Microphone level in dBFS and whether it sounds like speech (20 a second).
    Level { dbfs: f32, speech: bool },
    /// The user started speaking (hands-free) or pressed push-to-talk.
    UserSpeechStarted,
    /// The user's words, once transcribed (or as typed).
    UserTranscript { turn: TurnId, text: String },
    /// More of the reply's text, as the model writes it.
    AssistantDelta { turn: TurnId, text: String },
    /// A chunk of the reply starts playing.
    AssistantSpeaking { turn: TurnId, chunk: usize, text: String },
    /// A step failed for a passing reason and will be tried again.
    Retrying { turn: TurnId, stage: Stage, attempt: u32, wait_ms: u64, message: String },
    Error { turn: Option<TurnId>, stage: Stage, error: ErrorKind, message: String, retryable: bool },
    /// Something the user should know that is not a provider failure (settings
    /// recovered from damage, history not saved, a device gone). `code` is
    /// stable and the window words it in its own language; `device` names the
    /// sound device it is about, when there is one; `message` is the English
    /// text for logs and for codes the window does not know.
    Warning {
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
    },
    /// The turn is over. `heard` is the reply as far as the user heard it;
    /// `interrupted`: cut by the user; `incomplete`: cut by a failure.
    TurnEnded { turn: TurnId, heard: String, interrupted: bool, incomplete: bool, metrics: TurnMetrics },
}

impl Event {
    /// A warning not about a particular device.
    pub fn warning(code: &str, message: impl Into<String>) -> Event {
        Event::Warning { code: code.into(), message: message.into(), device: None }
    }

    /// A warning about the sound device `device`.
    pub fn device_warning(code: &str, message: impl Into<String>, device: Option<String>) -> Event {
        Event::Warning { code: code.into(), message: message.into(), device }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI renders these exact shapes; change them together with ui/.
    #[test]
    fn event_json_snapshot() {
        let events = [
            Event::Status { phase: Phase::Thinking },
            Event::UserTranscript { turn: 1, text: "배송 언제 와요?".into() },
            Event::AssistantDelta { turn: 1, text: "네,".into() },
            Event::AssistantSpeaking { turn: 1, chunk: 0, text: "네, 고객님,".into() },
            Event::Retrying { turn: 1, stage: Stage::Chat, attempt: 1, wait_ms: 2000, message: "rate limited".into() },
            Event::Error { turn: Some(1), stage: Stage::Speech, error: ErrorKind::RateLimited { retry_after_ms: Some(2000) }, message: "m".into(), retryable: true },
            Event::warning("settings_recovered", "m"),
            Event::TurnEnded {
                turn: 1,
                heard: "네, 고객님,".into(),
                interrupted: true,
                incomplete: false,
                metrics: TurnMetrics { transcript_ms: Some(250.0), ttfa_ms: Some(900.5), total_ms: 2000.0, bytes_up: 10, bytes_down: 20, ..Default::default() },
            },
        ];
        let json: Vec<String> = events.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        assert_eq!(
            json,
            [
                r#"{"type":"status","phase":"thinking"}"#,
                r#"{"type":"user_transcript","turn":1,"text":"배송 언제 와요?"}"#,
                r#"{"type":"assistant_delta","turn":1,"text":"네,"}"#,
                r#"{"type":"assistant_speaking","turn":1,"chunk":0,"text":"네, 고객님,"}"#,
                r#"{"type":"retrying","turn":1,"stage":"chat","attempt":1,"wait_ms":2000,"message":"rate limited"}"#,
                r#"{"type":"error","turn":1,"stage":"speech","error":{"kind":"rate_limited","retry_after_ms":2000},"message":"m","retryable":true}"#,
                r#"{"type":"warning","code":"settings_recovered","message":"m"}"#,
                r#"{"type":"turn_ended","turn":1,"heard":"네, 고객님,","interrupted":true,"incomplete":false,"metrics":{"transcript_ms":250.0,"llm_first_token_ms":null,"first_chunk_ms":null,"tts_first_byte_ms":null,"ttfa_ms":900.5,"total_ms":2000.0,"bytes_up":10,"bytes_down":20}}"#,
            ]
        );
    }
}
