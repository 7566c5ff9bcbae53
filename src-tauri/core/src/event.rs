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
    /// Time the turn's tools ran (all rounds, parallel calls counted once).
    pub tool_ms: Option<f64>,
    /// On a turn with tools: the first audio of the answer made from their
    /// results (the preamble and filler come before it).
    pub answer_audio_ms: Option<f64>,
    pub total_ms: f64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// The turn ran in Realtime mode (speech to speech): `transcript_ms` is
    /// when the user's words came back, `ttfa_ms` counts from the commit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub realtime: bool,
    /// Tokens the provider counted for the turn (Realtime's `response.done` usage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// Tokens a turn cost, in and out, and how many of them were audio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub input_audio_tokens: u64,
    pub output_audio_tokens: u64,
}

impl Usage {
    /// Adds another response's usage (a tool turn has several responses).
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.input_audio_tokens += other.input_audio_tokens;
        self.output_audio_tokens += other.output_audio_tokens;
    }
}

/// Realtime mode's connection, as the status pill shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Connecting,
    Connected,
    /// Lost, and trying again (`attempt`, after `wait_ms`).
    Reconnecting,
    /// Given up: the key was refused, or too many attempts failed. The next
    /// turn tries again.
    Failed,
    /// Realtime mode is off.
    Off,
}

/// One of the provider's rate limits, as `rate_limits.updated` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateLimitShown {
    pub name: String,
    pub limit: u64,
    pub remaining: u64,
    pub reset_seconds: f64,
}

/// Why a turn that was not interrupted by the user is incomplete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Incomplete {
    /// The reply reached its length limit (the `max_reply_tokens` setting,
    /// or the model's context window).
    MaxLength,
    /// The provider's content filter stopped the reply.
    ContentFilter,
    /// A step failed (an `error` event says which and why).
    Failed,
    /// Sori itself failed while running the turn (a bug).
    Internal,
}

/// What a warning is about. The window words each code in its own language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// The settings file was damaged and was recovered.
    SettingsRecovered,
    /// A finished turn could not be written to the history.
    HistoryNotSaved,
    /// The keychain could not be read: Sori runs without the provider's key.
    KeychainUnreadable,
    /// No microphone at all: typing still works.
    NoMicrophone,
    /// The microphone went away.
    MicrophoneLost,
    /// Listening again, on `device`.
    MicrophoneBack,
    /// Push-to-talk was released with no speech in it.
    NoSpeech,
    /// No sound output: replies are shown, not spoken.
    NoSpeaker,
    /// The speaker went away; `device` names where playback went, if anywhere.
    SpeakerLost,
    /// Playing again, on `device`.
    SpeakerBack,
    /// A stage that runs on this computer cannot start: its model is not
    /// installed or does not load (the message says which and what to do).
    LocalModel,
    /// Some of the agent's tools are off (the message says why).
    Tools,
}

/// What a sound the engine plays that is not a reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sound {
    /// A turn's recording, played back.
    Replay,
    /// A sample of a voice and style.
    Preview,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// What the engine is doing now. The engine alone changes it.
    Status {
        phase: Phase,
    },
    /// Microphone level in dBFS and whether it sounds like speech (20 a second).
    Level {
        dbfs: f32,
        speech: bool,
    },
    /// The user started speaking (hands-free) or pressed push-to-talk.
    UserSpeechStarted,
    /// The user's words, once transcribed (or as typed).
    UserTranscript {
        turn: TurnId,
        text: String,
    },
    /// More of the reply's text, as the model writes it.
    AssistantDelta {
        turn: TurnId,
        text: String,
    },
    /// A chunk of the reply starts playing.
    AssistantSpeaking {
        turn: TurnId,
        chunk: usize,
        text: String,
    },
    /// The agent called a tool (`arguments` as the model wrote them).
    ToolStarted {
        turn: TurnId,
        id: String,
        name: String,
        arguments: String,
    },
    /// A tool call ended: its result as the model reads it (shortened), or
    /// why it failed, and how long it took.
    ToolFinished {
        turn: TurnId,
        id: String,
        name: String,
        result: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        ms: f64,
    },
    /// A tool that changes something was held: it runs once the user says
    /// yes (or clicks to confirm) on their next turn.
    ConfirmationAsked {
        turn: TurnId,
        id: String,
        name: String,
        arguments: String,
    },
    /// The user's answer to a held call: yes (it ran), no, or neither (dropped).
    ConfirmationSettled {
        turn: TurnId,
        id: String,
        approved: Option<bool>,
    },
    /// What the user's words of this turn ask for, and who decided.
    RequestClassified {
        turn: TurnId,
        request_type: crate::request_type::RequestType,
        by: crate::request_type::ClassifiedBy,
    },
    /// A step failed for a passing reason and will be tried again.
    Retrying {
        turn: TurnId,
        stage: Stage,
        attempt: u32,
        wait_ms: u64,
        message: String,
    },
    Error {
        turn: Option<TurnId>,
        stage: Stage,
        error: ErrorKind,
        message: String,
        retryable: bool,
    },
    /// Something the user should know that is not a provider failure.
    /// `device` names the sound device it is about, when there is one;
    /// `message` is the English text for logs.
    Warning {
        code: WarningCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
    },
    /// A replay or a voice preview started (`playing`) or ended.
    Playing {
        sound: Sound,
        playing: bool,
    },
    /// Realtime mode's connection changed. `context_turns`: on connecting,
    /// how many turns of the conversation were given to the new session.
    Realtime {
        state: LinkState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait_ms: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_turns: Option<usize>,
    },
    /// The provider's rate limits now (Realtime mode).
    RateLimits {
        limits: Vec<RateLimitShown>,
    },
    /// The turn is over. `heard` is the reply as far as the user heard it,
    /// which is its first `heard_chars` characters (Unicode scalar values)
    /// with trailing space trimmed; `interrupted`: cut by the user;
    /// `incomplete`: cut otherwise, for the `reason` given.
    TurnEnded {
        turn: TurnId,
        heard: String,
        heard_chars: usize,
        interrupted: bool,
        incomplete: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Incomplete>,
        metrics: TurnMetrics,
    },
}

impl Event {
    /// A warning not about a particular device.
    pub fn warning(code: WarningCode, message: impl Into<String>) -> Event {
        Event::Warning { code, message: message.into(), device: None }
    }

    /// A warning about the sound device `device`.
    pub fn device_warning(code: WarningCode, message: impl Into<String>, device: Option<String>) -> Event {
        Event::Warning { code, message: message.into(), device }
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
            Event::Error {
                turn: Some(1),
                stage: Stage::Speech,
                error: ErrorKind::RateLimited { retry_after_ms: Some(2000) },
                message: "m".into(),
                retryable: true,
            },
            Event::warning(WarningCode::SettingsRecovered, "m"),
            Event::device_warning(WarningCode::SpeakerLost, "m", Some("Headset".into())),
            Event::Playing { sound: Sound::Replay, playing: true },
            Event::TurnEnded {
                turn: 1,
                heard: "네, 고객님,".into(),
                heard_chars: 7,
                interrupted: true,
                incomplete: false,
                reason: None,
                metrics: TurnMetrics {
                    transcript_ms: Some(250.0),
                    ttfa_ms: Some(900.5),
                    total_ms: 2000.0,
                    bytes_up: 10,
                    bytes_down: 20,
                    ..Default::default()
                },
            },
        ];
        let json: Vec<String> = events.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        let cut = Event::TurnEnded {
            turn: 2,
            heard: String::new(),
            heard_chars: 0,
            interrupted: false,
            incomplete: true,
            reason: Some(Incomplete::MaxLength),
            metrics: TurnMetrics::default(),
        };
        assert!(serde_json::to_string(&cut).unwrap().contains(r#""incomplete":true,"reason":"max_length""#));
        // Every warning code the window words, by name.
        let codes = [
            WarningCode::SettingsRecovered,
            WarningCode::HistoryNotSaved,
            WarningCode::KeychainUnreadable,
            WarningCode::NoMicrophone,
            WarningCode::MicrophoneLost,
            WarningCode::MicrophoneBack,
            WarningCode::NoSpeech,
            WarningCode::NoSpeaker,
            WarningCode::SpeakerLost,
            WarningCode::SpeakerBack,
        ];
        let names: Vec<String> = codes.iter().map(|c| serde_json::to_string(c).unwrap()).collect();
        assert_eq!(
            names,
            [
                r#""settings_recovered""#,
                r#""history_not_saved""#,
                r#""keychain_unreadable""#,
                r#""no_microphone""#,
                r#""microphone_lost""#,
                r#""microphone_back""#,
                r#""no_speech""#,
                r#""no_speaker""#,
                r#""speaker_lost""#,
                r#""speaker_back""#,
            ]
        );
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
                r#"{"type":"warning","code":"speaker_lost","message":"m","device":"Headset"}"#,
                r#"{"type":"playing","sound":"replay","playing":true}"#,
                r#"{"type":"turn_ended","turn":1,"heard":"네, 고객님,","heard_chars":7,"interrupted":true,"incomplete":false,"metrics":{"transcript_ms":250.0,"llm_first_token_ms":null,"first_chunk_ms":null,"tts_first_byte_ms":null,"ttfa_ms":900.5,"tool_ms":null,"answer_audio_ms":null,"total_ms":2000.0,"bytes_up":10,"bytes_down":20}}"#,
            ]
        );
    }
}
