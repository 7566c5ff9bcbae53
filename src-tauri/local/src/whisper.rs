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

    /// The most samples one pass of the model hears (its window).
    pub fn window(&self) -> usize {
        self.whisper.n_samples()
    }

    /// Whether the model knows more than English.
    pub fn is_multilingual(&self) -> bool {
        self.whisper.is_multilingual()
    }

    /// The text of `samples` (mono, 16 kHz, -1.0..1.0). `language` is an
    /// ISO-639-1 code; `None` lets the model detect it. An utterance longer
    /// than the model's window is cut at its quietest moments into pieces
    /// that fit, so no word is cut in two.
    pub fn transcribe(&self, samples: &[f32], language: Option<&str>) -> Result<String, LocalError> {
        let language = language.filter(|_| self.is_multilingual());
        let mut text = Vec::new();
        for piece in pieces(samples, self.whisper.n_samples()) {
            let heard = self
                .whisper
                .generate(piece, language, false, &self.options)
                .map_err(|e| LocalError::Engine { engine: "Whisper", reason: format!("{e:#}") })?;
            text.extend(heard.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()));
        }
        Ok(text.join(" "))
    }
}

/// 20 ms at 16 kHz: the step in which [`pieces`] looks for a pause.
const FRAME: usize = 320;

/// `samples` cut into pieces of at most `max` samples, each cut in the middle
/// of the quietest 20 ms of the last 40 % of what the piece may hold (in
/// speech, a pause between words). Whisper's encoder costs the same for any
/// audio up to its window, so Sori gives it a short window (10 s) and cuts
/// the rare longer utterance into pieces rather than pay for 30 s every turn.
pub fn pieces(samples: &[f32], max: usize) -> Vec<&[f32]> {
    let max = max.max(FRAME * 5);
    let (mut out, mut start) = (Vec::new(), 0);
    while samples.len() - start > max {
        let from = start + max * 6 / 10;
        let energy = |at: usize| samples[at..at + FRAME].iter().map(|s| s * s).sum::<f32>();
        let quietest = (from..start + max - FRAME).step_by(FRAME / 2).min_by(|&a, &b| energy(a).total_cmp(&energy(b))).unwrap_or(from);
        let cut = quietest + FRAME / 2;
        out.push(&samples[start..cut]);
        start = cut;
    }
    if start < samples.len() {
        out.push(&samples[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_audio_is_cut_in_its_pauses_and_nothing_is_lost() {
        // 25 s of "speech" (a tone) with pauses at 7.0-7.3 s and 15.5-15.8 s.
        let rate = 16_000;
        let samples: Vec<f32> = (0..25 * rate)
            .map(|i| {
                let t = i as f32 / rate as f32;
                if (7.0..7.3).contains(&t) || (15.5..15.8).contains(&t) {
                    0.0
                } else {
                    0.3 * (t * 440.0 * std::f32::consts::TAU).sin()
                }
            })
            .collect();
        let cut = pieces(&samples, 10 * rate);
        assert_eq!(cut.len(), 3, "{:?}", cut.iter().map(|p| p.len()).collect::<Vec<_>>());
        assert!(cut.iter().all(|p| p.len() <= 10 * rate));
        let ends: Vec<f32> = cut
            .iter()
            .scan(0, |at, p| {
                *at += p.len();
                Some(*at as f32 / rate as f32)
            })
            .collect();
        assert!((7.0..7.3).contains(&ends[0]) && (15.5..15.8).contains(&ends[1]), "cut at {ends:?} s");
        assert_eq!(cut.concat(), samples);
        assert_eq!(pieces(&samples[..rate], 10 * rate).len(), 1);
        assert!(pieces(&[], 10 * rate).is_empty());
    }
}
