//! Piper neural voices (VITS models in ONNX, e.g. `en_US-joe-medium`) run by
//! ONNX Runtime, with espeak-ng as the phonemizer, as Piper itself does. A
//! voice folder holds `<name>.onnx` and `<name>.onnx.json`. Loading takes
//! about a second, so a voice is loaded once and kept; each call speaks one
//! text, sentence by sentence, blocking.

use crate::phonemes::{self, PhonemeIds};
use crate::{onnx, Espeak, LocalError};
use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The parts of `<voice>.onnx.json` Sori uses.
#[derive(Debug, Deserialize)]
struct Config {
    audio: AudioConfig,
    espeak: EspeakConfig,
    #[serde(default)]
    inference: Inference,
    #[serde(default)]
    num_speakers: u32,
    #[serde(default)]
    phoneme_type: Option<String>,
    phoneme_id_map: HashMap<String, Vec<i64>>,
}

#[derive(Debug, Deserialize)]
struct AudioConfig {
    sample_rate: u32,
}

#[derive(Debug, Deserialize)]
struct EspeakConfig {
    voice: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
struct Inference {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

impl Default for Inference {
    fn default() -> Self {
        Inference { noise_scale: 0.667, length_scale: 1.0, noise_w: 0.8 }
    }
}

/// A loaded Piper voice.
pub struct PiperVoice {
    session: Mutex<Session>,
    ids: PhonemeIds,
    espeak: Espeak,
    espeak_voice: String,
    sample_rate: u32,
    inference: Inference,
    multi_speaker: bool,
}

impl std::fmt::Debug for PiperVoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiperVoice").field("espeak_voice", &self.espeak_voice).field("sample_rate", &self.sample_rate).finish()
    }
}

/// Silence between two sentences of one text (Piper's own default).
const SENTENCE_GAP_SECONDS: f32 = 0.2;

/// The voice's `.onnx` file and its `.onnx.json` in `dir`.
fn voice_files(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("the folder cannot be read ({e})"))?;
    let mut onnx: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "onnx")).collect();
    onnx.sort();
    let model = onnx.into_iter().next().ok_or("it has no .onnx voice file")?;
    let mut config = model.clone().into_os_string();
    config.push(".json");
    let config = PathBuf::from(config);
    if !config.is_file() {
        return Err(format!("{} is missing", config.file_name().unwrap_or_default().to_string_lossy()));
    }
    Ok((model, config))
}

impl PiperVoice {
    /// Loads the voice in `dir` on the ONNX Runtime library `runtime`, with
    /// `threads` CPU threads for one sentence.
    pub fn load(dir: &Path, runtime: &Path, espeak: Espeak, threads: usize) -> Result<Self, LocalError> {
        let model_err = |reason: String| LocalError::Model { path: dir.display().to_string(), reason };
        let (model, config_path) = voice_files(dir).map_err(model_err)?;
        let text = std::fs::read_to_string(&config_path).map_err(|e| model_err(format!("its settings cannot be read ({e})")))?;
        let config: Config = serde_json::from_str(&text).map_err(|e| model_err(format!("its settings are not a Piper voice's ({e})")))?;
        if config.phoneme_type.as_deref().is_some_and(|t| t != "espeak") {
            return Err(model_err(format!("its phonemes are {:?}; Sori reads espeak-ng phonemes only", config.phoneme_type.unwrap_or_default())));
        }
        let map = config
            .phoneme_id_map
            .into_iter()
            .filter_map(|(k, v)| {
                let mut chars = k.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some((c, v)),
                    _ => None,
                }
            })
            .collect();
        let ids = PhonemeIds::new(map).map_err(model_err)?;
        let environment = onnx::runtime(runtime)?;
        let session = Session::builder(&environment)
            .and_then(|b| b.with_intra_threads(threads.max(1)).map_err(Into::into))
            .and_then(|mut b| b.commit_from_file(&model))
            .map_err(|e| model_err(format!("ONNX Runtime could not load it ({e})")))?;
        let multi_speaker = config.num_speakers > 1 && session.inputs().iter().any(|i| i.name() == "sid");
        Ok(PiperVoice {
            session: Mutex::new(session),
            ids,
            espeak,
            espeak_voice: config.espeak.voice,
            sample_rate: config.audio.sample_rate,
            inference: config.inference,
            multi_speaker,
        })
    }

    /// The rate of the samples [`PiperVoice::synthesize`] returns.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// `text` spoken at `speed` (1.0 is the voice's own pace): mono samples at
    /// [`PiperVoice::sample_rate`]. Each sentence is its own run of the model,
    /// loudness-normalized as Piper does, with a short pause between.
    pub fn synthesize(&self, text: &str, speed: f32) -> Result<Vec<i16>, LocalError> {
        let mut out = Vec::new();
        self.speak(text, speed, |samples| {
            out.extend(samples);
            true
        })?;
        Ok(out)
    }

    /// Like [`PiperVoice::synthesize`], but hands each sentence to `each` as
    /// soon as it is made (so the first can play while the next is made);
    /// `each` returns `false` to stop early (the listener went away).
    pub fn speak(&self, text: &str, speed: f32, mut each: impl FnMut(Vec<i16>) -> bool) -> Result<(), LocalError> {
        let sentences = phonemes::sentences(text, |clause| self.espeak.ipa(clause, &self.espeak_voice))?;
        let length_scale = self.inference.length_scale / speed.clamp(0.25, 4.0);
        let gap = (self.sample_rate as f32 * SENTENCE_GAP_SECONDS) as usize;
        for (n, sentence) in sentences.iter().enumerate() {
            let (ids, _unknown) = self.ids.ids(sentence);
            let audio = self.run(ids, length_scale)?;
            let mut samples = vec![0i16; if n > 0 { gap } else { 0 }];
            let peak = audio.iter().fold(0.0f32, |m, s| m.max(s.abs())).max(0.01);
            samples.extend(audio.iter().map(|s| (s * 32767.0 / peak).clamp(-32768.0, 32767.0) as i16));
            if !each(samples) {
                break;
            }
        }
        Ok(())
    }

    fn run(&self, ids: Vec<i64>, length_scale: f32) -> Result<Vec<f32>, LocalError> {
        let err = |e: ort::Error| LocalError::Engine { engine: "Piper", reason: e.to_string() };
        let n = ids.len();
        let input = Tensor::from_array(([1usize, n], ids)).map_err(err)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(err)?;
        let scales = Tensor::from_array(([3usize], vec![self.inference.noise_scale, length_scale, self.inference.noise_w])).map_err(err)?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = if self.multi_speaker {
            let speaker = Tensor::from_array(([1usize], vec![0i64])).map_err(err)?;
            session.run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales, "sid" => speaker])
        } else {
            session.run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales])
        }
        .map_err(err)?;
        let (_shape, audio) = outputs["output"].try_extract_tensor::<f32>().map_err(err)?;
        Ok(audio.to_vec())
    }
}
