//! Sori's settings: one versioned JSON file in the OS config folder (e.g.
//! `~/.config/sori/settings.json`), validated field by field, written
//! atomically, recovered from any damage (see [`file`]). Keys are never here:
//! they live in the keychain.

pub mod file;
pub mod validate;

pub use file::{Loaded, SaveError, SettingsFile};
pub use validate::{validate, FieldCode, FieldError};

use crate::conversation::DEFAULT_PERSONA;
use crate::provider::retry::RetryPolicy;
use crate::provider::AudioFormat;
use crate::text::SplitterConfig;
use crate::turn::speaker::Voice;
use crate::turn::TurnSettings;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The settings format this build writes.
pub const CURRENT_VERSION: u32 = 1;

/// The pause after which an utterance is transcribed early: long enough
/// that the gaps inside a sentence rarely reach it, short enough to gain
/// 350 ms on the default 600 ms end silence.
pub const EARLY_PAUSE_MS: u32 = 250;

/// Default style: calm and kind, said in both languages so it works for either.
pub const DEFAULT_STYLE: &str =
    "Speak like a warm, calm customer-service agent: friendly, clear and unhurried. 차분하고 친절한 상담원처럼 또박또박 말하세요.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputMode {
    PushToTalk,
    HandsFree,
}

/// What Sori plays on, which decides whether the microphone hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeakerSetup {
    /// Headset when the system says the output is worn, else speakers.
    Auto,
    /// Loudspeakers the microphone hears: Sori's voice is cancelled out of it.
    Speakers,
    /// Headphones or a headset: no echo, nothing to cancel.
    Headset,
}

/// Where one stage of a turn runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageProvider {
    /// An OpenAI-compatible server (the stage's own base URL, else `base_url`).
    Server,
    /// An engine on this computer: nothing leaves the machine.
    Local,
    /// Google Cloud Speech-to-Text or Text-to-Speech (speech stages only),
    /// signed in with the Google key in the keychain.
    Google,
}

/// How a turn runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationMode {
    /// Speech-to-text, a chat model, then speech: any provider per stage,
    /// on this computer too.
    Chained,
    /// Speech to speech over the OpenAI Realtime API: one model hears and
    /// speaks (`realtime_model`, `realtime_voice`).
    Realtime,
}

/// Who ends a spoken turn in Realtime mode when Sori listens hands-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RealtimeTurns {
    /// Sori's own listener (with its echo canceller) hears the end of each
    /// utterance and commits it; the microphone is not streamed between turns.
    Sori,
    /// The server's voice detection on the streamed microphone (`server_vad`).
    ServerVad,
    /// The server's model judges when the user has finished (`semantic_vad`).
    SemanticVad,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub version: u32,
    /// The provider's OpenAI-compatible base URL.
    pub base_url: String,
    /// Chained stages, or speech to speech over the Realtime API.
    pub conversation_mode: ConversationMode,
    /// `gpt-realtime`, or another Realtime model the provider serves.
    pub realtime_model: String,
    /// The Realtime model's own voice (`marin`, `cedar`, …).
    pub realtime_voice: String,
    /// Who ends a hands-free turn in Realtime mode (push-to-talk's key always does).
    pub realtime_turns: RealtimeTurns,
    /// Where speech-to-text, chat and speech each run.
    pub stt_provider: StageProvider,
    pub chat_provider: StageProvider,
    pub tts_provider: StageProvider,
    /// A stage's own server, when it is not `base_url` (each server keeps its
    /// own key in the keychain).
    pub stt_base_url: Option<String>,
    pub chat_base_url: Option<String>,
    pub tts_base_url: Option<String>,
    /// Google Cloud's address for both speech APIs; empty: Google's own hosts.
    pub google_endpoint: Option<String>,
    /// BCP-47 codes Google recognition chooses from when the language is
    /// automatic (the first is the main one); a set language picks its entry.
    pub google_languages: Vec<String>,
    /// Google's recognition model: `latest_short`, `latest_long`, `default`, …
    pub google_stt_model: String,
    /// A Google voice by name (`ko-KR-Standard-A`); empty: Google's default for the text's language.
    pub google_voice: String,
    /// Google voice pitch in semitones, -20 to 20.
    pub google_pitch: f32,
    /// Names and product words speech-to-text should expect (comma or line
    /// separated): OpenAI gets them as its prompt, Google as phrase hints.
    pub vocabulary: String,
    /// The installed model local speech-to-text uses (see `sori-cli models list`).
    pub local_stt_model: String,
    /// The voice local speech uses: `auto` follows the reply's language.
    pub local_voice: String,
    /// The agent may look orders up, answer from the help pages and file
    /// tickets (its tools).
    pub agent_tools: bool,
    /// The shop's SQLite file; empty: the sample shop in Sori's data folder.
    pub shop_database: Option<String>,
    /// The folder of Markdown help pages; empty: the sample pages.
    pub faq_folder: Option<String>,
    /// The customer the agent is speaking with (their id in the shop), whose
    /// profile and latest orders go into its instructions.
    pub customer: Option<String>,
    /// Model Context Protocol servers whose tools the agent may call (the
    /// `mcpServers` shape; their secrets' values are in the keychain).
    pub mcp_servers: std::collections::BTreeMap<String, crate::tools::mcp::McpServerConfig>,
    /// The installed chat model local chat uses: `auto` takes the best one
    /// installed for this computer's memory; else a model id (an imported
    /// GGUF file's too).
    pub local_chat_model: String,
    /// `gpt-4o-transcribe`, `gpt-4o-mini-transcribe` or `whisper-1`.
    pub stt_model: String,
    pub chat_model: String,
    /// `gpt-4o-mini-tts`, `tts-1` or `tts-1-hd`.
    pub tts_model: String,
    pub voice: String,
    /// Style instructions (sent to models that take them).
    pub style: String,
    pub speed: f32,
    /// `auto`, `ko`, `en`, … (what is spoken).
    pub language: String,
    pub persona: String,
    /// Audio format asked of the speech endpoint; `pcm` streams with the least delay.
    pub audio_format: AudioFormat,
    pub input_mode: InputMode,
    /// Speaking interrupts Sori while it speaks (on speakers this relies on
    /// echo cancellation, which `speaker_setup` switches on).
    pub voice_barge_in: bool,
    /// Speakers (cancel Sori's echo out of the microphone) or a headset.
    pub speaker_setup: SpeakerSetup,
    /// Take steady background noise out of the microphone.
    pub noise_suppression: bool,
    /// Even out the microphone's level.
    pub auto_gain: bool,
    /// Hands-free: send the utterance to speech-to-text at a short pause, so
    /// the answer starts sooner if that was the end (an extra request when
    /// the user goes on).
    pub early_transcription: bool,
    pub hotkey: String,
    /// Device ids from the device list; `None` follows the system default.
    pub input_device: Option<String>,
    pub output_device: Option<String>,
    /// webrtc-vad mode, 0 (lenient) to 3 (strict).
    pub vad_aggressiveness: u8,
    /// Silence that ends an utterance, 200 to 2000 ms.
    pub end_silence_ms: u32,
    pub history_enabled: bool,
    /// The longest reply the model may write, in tokens (16 to 4096): a
    /// spoken answer is a few sentences, and a model that loops is cut here.
    pub max_reply_tokens: u32,
    /// `system`, `ko` or `en`.
    pub ui_language: String,
    /// Fields this build does not know (from a newer Sori), kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: CURRENT_VERSION,
            base_url: "https://api.openai.com/v1".into(),
            conversation_mode: ConversationMode::Chained,
            realtime_model: "gpt-realtime".into(),
            realtime_voice: "marin".into(),
            realtime_turns: RealtimeTurns::Sori,
            stt_provider: StageProvider::Server,
            chat_provider: StageProvider::Server,
            tts_provider: StageProvider::Server,
            stt_base_url: None,
            chat_base_url: None,
            tts_base_url: None,
            google_endpoint: None,
            google_languages: vec!["ko-KR".into(), "en-US".into()],
            google_stt_model: "latest_short".into(),
            google_voice: "ko-KR-Standard-A".into(),
            google_pitch: 0.0,
            vocabulary: String::new(),
            local_stt_model: crate::models::DEFAULT_STT_MODEL.into(),
            local_voice: crate::provider::local::AUTO_VOICE.into(),
            local_chat_model: crate::models::chat::AUTO.into(),
            agent_tools: true,
            shop_database: None,
            faq_folder: None,
            customer: None,
            mcp_servers: Default::default(),
            stt_model: "gpt-4o-mini-transcribe".into(),
            chat_model: "gpt-4o-mini".into(),
            tts_model: "gpt-4o-mini-tts".into(),
            voice: "coral".into(),
            style: DEFAULT_STYLE.into(),
            speed: 1.0,
            language: "auto".into(),
            persona: DEFAULT_PERSONA.into(),
            audio_format: AudioFormat::Pcm,
            input_mode: InputMode::PushToTalk,
            voice_barge_in: true,
            speaker_setup: SpeakerSetup::Auto,
            noise_suppression: true,
            auto_gain: false,
            early_transcription: true,
            hotkey: "Ctrl+Shift+Space".into(),
            input_device: None,
            output_device: None,
            vad_aggressiveness: 2,
            end_silence_ms: 600,
            history_enabled: true,
            max_reply_tokens: 300,
            ui_language: "system".into(),
            extra: Map::new(),
        }
    }
}

impl Settings {
    /// The language for speech-to-text: `None` lets the model detect it.
    pub fn stt_language(&self) -> Option<String> {
        Some(self.language.trim().to_string()).filter(|l| !l.is_empty() && l != "auto")
    }

    /// The server a stage uses when it runs on a server.
    pub fn server_for(&self, stage: crate::event::Stage) -> &str {
        use crate::event::Stage;
        let own = match stage {
            Stage::Transcription => &self.stt_base_url,
            Stage::Chat => &self.chat_base_url,
            Stage::Speech | Stage::Playback => &self.tts_base_url,
        };
        own.as_deref().map(str::trim).filter(|u| !u.is_empty()).unwrap_or(&self.base_url)
    }

    /// The microphone's cleaning: echo cancellation unless the output is worn
    /// (`worn` says whether the system calls it headphones or a headset).
    pub fn cleanup(&self, worn: bool) -> crate::audio::echo::Cleanup {
        let echo = match self.speaker_setup {
            SpeakerSetup::Speakers => true,
            SpeakerSetup::Headset => false,
            SpeakerSetup::Auto => !worn,
        };
        crate::audio::echo::Cleanup { echo, noise: self.noise_suppression, gain: self.auto_gain }
    }

    /// How the microphone finds utterances: the end-of-speech silence, and
    /// the shorter pause at which an utterance is transcribed early (when
    /// that leaves time to gain: an end silence of 400 ms or more).
    pub fn segmenter(&self) -> crate::audio::segmenter::SegmenterConfig {
        let pause_ms = if self.early_transcription && self.end_silence_ms >= 400 { EARLY_PAUSE_MS } else { 0 };
        crate::audio::segmenter::SegmenterConfig { end_silence_ms: self.end_silence_ms, pause_ms, ..Default::default() }
    }

    pub fn turn_settings(&self) -> TurnSettings {
        let google_voice = self.tts_provider == StageProvider::Google;
        TurnSettings {
            stt_model: if self.stt_provider == StageProvider::Google { self.google_stt_model.clone() } else { self.stt_model.clone() },
            language: self.stt_language(),
            stt_prompt: Some(self.vocabulary.trim().to_string()).filter(|v| !v.is_empty()),
            chat_model: self.chat_model.clone(),
            temperature: None,
            max_tokens: Some(self.max_reply_tokens),
            voice: Voice {
                model: self.tts_model.clone(),
                voice: match self.tts_provider {
                    StageProvider::Local => self.local_voice.clone(),
                    StageProvider::Google => self.google_voice.clone(),
                    StageProvider::Server => self.voice.clone(),
                },
                style: Some(self.style.clone()).filter(|s| !s.trim().is_empty()),
                speed: self.speed,
                pitch: if google_voice { self.google_pitch } else { 0.0 },
                format: self.audio_format,
            },
            speak: true,
            tts_concurrency: 2,
            retry: RetryPolicy::default(),
            splitter: SplitterConfig::default(),
        }
    }
}
