//! Whisper speech-to-text on the CPU through CTranslate2 (faster-whisper
//! model folders: `model.bin`, `config.json`, `tokenizer.json`,
//! `preprocessor_config.json`). Loading takes a second or two, so a model is
//! loaded once and kept; each call decodes one utterance, blocking.

use crate::LocalError;
use ct2rs::{ComputeType, Config, Whisper, WhisperOptions};
use std::path::Path;

/// How a model is run.
#[derive(Debug, Clone, Copy)]
pub struct WhisperSettings {
    /// CPU threads for one decode (0: CTranslate2 picks).
    pub threads: usize,
    /// Beam width; 1 is greedy, the fastest.
    pub beam_size: usize,
}

impl Default for WhisperSettings {
    fn default() -> Self {
        // Greedy decoding: on a 2-4 core laptop a beam of 5 costs about twice
        // the time for a word error rate a point or two better.
        WhisperSettings { threads: 0, beam_size: 1 }
    }
}

/// A loaded Whisper model.
pub struct WhisperModel {
    whisper: Whisper,
    options: WhisperOptions,
}

impl std::fmt::Debug for WhisperModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperModel").field("multilingual", &self.whisper.is_multilingual()).finish()
    }
}

/// The sample rate Whisper hears.
pub const WHISPER_RATE: u32 = 16_000;

impl WhisperModel {
    /// Loads the model folder at `dir`. int8 weights: a quarter of the memory
    /// of float32 and faster on every CPU CTranslate2 supports.
    pub fn load(dir: &Path, settings: WhisperSettings) -> Result<Self, LocalError> {
        let model_err = |reason: String| LocalError::Model { path: dir.display().to_string(), reason };
        for file in ["model.bin", "config.json", "tokenizer.json", "preprocessor_config.json"] {
            if !dir.join(file).is_file() {
                return Err(model_err(format!("{file} is missing")));
            }
        }
        let config = Config { compute_type: ComputeType::INT8, num_threads_per_replica: settings.threads, ..Config::default() };
        let whisper = Whisper::new(dir, config).map_err(|e| model_err(format!("{e:#}")))?;
        let options = WhisperOptions { beam_size: settings.beam_size.max(1), ..WhisperOptions::default() };
        Ok(WhisperModel { whisper, options })
    }

    /// Whether the model knows more than English.
    pub fn is_multilingual(&self) -> bool {
        self.whisper.is_multilingual()
    }

    /// The text of `samples` (mono, 16 kHz, -1.0..1.0). `language` is an
    /// ISO-639-1 code; `None` lets the model detect it.
    pub fn transcribe(&self, samples: &[f32], language: Option<&str>) -> Result<String, LocalError> {
        if samples.is_empty() {
            return Ok(String::new());
        }
        let language = language.filter(|_| self.is_multilingual());
        let pieces = self
            .whisper
            .generate(samples, language, false, &self.options)
            .map_err(|e| LocalError::Engine { engine: "Whisper", reason: format!("{e:#}") })?;
        Ok(pieces.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" "))
    }
}
