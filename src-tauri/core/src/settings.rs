//! Sori's settings file (`settings.json` in the OS config folder, e.g.
//! `~/.config/sori/` on Linux) and how it becomes the engine's turn settings.
//! Missing fields take their defaults; a file that cannot be read is set aside
//! in favour of defaults with a warning, never a crash. Keys are never here:
//! they live in the OS keychain.

use crate::conversation::DEFAULT_PERSONA;
use crate::provider::retry::RetryPolicy;
use crate::provider::AudioFormat;
use crate::text::SplitterConfig;
use crate::turn::speaker::Voice;
use crate::turn::TurnSettings;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Default style: calm and kind, said in both languages so it works for either.
pub const DEFAULT_STYLE: &str =
    "Speak like a warm, calm customer-service agent: friendly, clear and unhurried. 차분하고 친절한 상담원처럼 또박또박 말하세요.";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub version: u32,
    /// The provider's OpenAI-compatible base URL.
    pub base_url: String,
    /// `gpt-4o-transcribe`, `gpt-4o-mini-transcribe` or `whisper-1`.
    pub stt_model: String,
    pub chat_model: String,
    /// `gpt-4o-mini-tts`, `tts-1` or `tts-1-hd`.
    pub tts_model: String,
    pub voice: String,
    /// Style instructions (sent to models that take them).
    pub style: String,
    pub speed: f32,
    /// `auto`, `ko`, `en`, …
    pub language: String,
    pub persona: String,
    /// Audio format asked of the speech endpoint; `pcm` streams with the least delay.
    pub audio_format: AudioFormat,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: 1,
            base_url: "https://api.openai.com/v1".into(),
            stt_model: "gpt-4o-mini-transcribe".into(),
            chat_model: "gpt-4o-mini".into(),
            tts_model: "gpt-4o-mini-tts".into(),
            voice: "coral".into(),
            style: DEFAULT_STYLE.into(),
            speed: 1.0,
            language: "auto".into(),
            persona: DEFAULT_PERSONA.into(),
            audio_format: AudioFormat::Pcm,
        }
    }
}

impl Settings {
    /// Where the settings live on this system.
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("sori").join("settings.json"))
    }

    /// Reads settings from `path`. A missing file means defaults; an
    /// unreadable one means defaults plus a warning to show.
    pub fn load(path: &Path) -> (Settings, Option<String>) {
        match std::fs::read(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Settings::default(), None),
            Err(e) => (Settings::default(), Some(format!("Could not read {}: {e}. Using default settings.", path.display()))),
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(s) => (s, None),
                Err(e) => (Settings::default(), Some(format!("{} is not valid settings ({e}). Using default settings.", path.display()))),
            },
        }
    }

    /// The language for speech-to-text: `None` lets the model detect it.
    pub fn stt_language(&self) -> Option<String> {
        Some(self.language.trim().to_string()).filter(|l| !l.is_empty() && l != "auto")
    }

    pub fn turn_settings(&self) -> TurnSettings {
        TurnSettings {
            stt_model: self.stt_model.clone(),
            language: self.stt_language(),
            stt_prompt: None,
            chat_model: self.chat_model.clone(),
            temperature: None,
            voice: Voice {
                model: self.tts_model.clone(),
                voice: self.voice.clone(),
                style: Some(self.style.clone()).filter(|s| !s.trim().is_empty()),
                speed: self.speed,
                format: self.audio_format,
            },
            speak: true,
            tts_concurrency: 2,
            retry: RetryPolicy::default(),
            splitter: SplitterConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_default_and_bad_files_warn() {
        let dir = std::env::temp_dir().join(format!("sori-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.json");
        assert_eq!(Settings::load(&path), (Settings::default(), None));
        std::fs::write(&path, r#"{"voice": "nova", "language": "ko", "someday_field": 1}"#).unwrap();
        let (s, warning) = Settings::load(&path);
        assert_eq!((s.voice.as_str(), s.stt_language().as_deref(), warning), ("nova", Some("ko"), None));
        assert_eq!(s.chat_model, "gpt-4o-mini");
        std::fs::write(&path, b"{ truncated").unwrap();
        let (s, warning) = Settings::load(&path);
        assert_eq!(s, Settings::default());
        assert!(warning.unwrap().contains("not valid settings"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
