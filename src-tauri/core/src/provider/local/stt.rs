//! Speech on this computer as providers: Whisper speech-to-text and
//! espeak-ng speech from `sori-local`, adapted to [`SpeechToText`] and
//! [`TextToSpeech`]. Both run on blocking threads so the async workers never
//! wait on a decode; a model is loaded once per process and shared (a new
//! session after a settings change finds it warm).

use super::{ErrorKind, ProviderError, ProviderStream, SpeechRequest, SpeechToText, SttRequest, TextToSpeech};
use crate::audio::resample::To16k;
use crate::audio::Pcm;
use async_trait::async_trait;
use sori_local::{Espeak, LocalError, WhisperModel, WhisperSettings};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

fn local_error(e: LocalError) -> ProviderError {
    ProviderError::new(ErrorKind::Local, e.to_string())
}

/// Loaded Whisper models by folder, kept while any session uses them.
fn loaded() -> &'static Mutex<HashMap<PathBuf, Weak<WhisperModel>>> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Weak<WhisperModel>>>> = OnceLock::new();
    LOADED.get_or_init(Default::default)
}

/// Whisper from the model folder `dir`, loaded on first use (or by [`LocalStt::warm_up`]).
pub struct LocalStt {
    dir: PathBuf,
    model: tokio::sync::OnceCell<Arc<WhisperModel>>,
}

impl LocalStt {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalStt { dir: dir.into(), model: tokio::sync::OnceCell::new() }
    }

    /// The model folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    async fn model(&self) -> Result<Arc<WhisperModel>, ProviderError> {
        let dir = self.dir.clone();
        if !dir.is_dir() {
            let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            return Err(ProviderError::new(
                ErrorKind::Local,
                format!(
                    "The speech-to-text model {id} is not installed: install it under Models in Settings (or run `sori-cli models install {id}`)."
                ),
            ));
        }
        self.model
            .get_or_try_init(|| async move {
                if let Some(m) = loaded().lock().expect("model table").get(&dir).and_then(Weak::upgrade) {
                    return Ok(m);
                }
                let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(4);
                let model = tokio::task::spawn_blocking({
                    let dir = dir.clone();
                    move || WhisperModel::load(&dir, WhisperSettings { threads, ..WhisperSettings::default() })
                })
                .await
                .map_err(|e| ProviderError::new(ErrorKind::Local, format!("Loading the speech-to-text model stopped: {e}")))?
                .map_err(local_error)?;
                let model = Arc::new(model);
                loaded().lock().expect("model table").insert(dir, Arc::downgrade(&model));
                Ok(model)
            })
            .await
            .cloned()
    }
}

/// `samples` at `rate` as 16 kHz floats, the rate Whisper hears.
fn to_16k(samples: &[i16], rate: u32) -> Result<Vec<f32>, ProviderError> {
    let floats = samples.iter().map(|&s| s as f32 / 32768.0);
    if rate == 16_000 {
        return Ok(floats.collect());
    }
    let mut resampler =
        To16k::new(rate).map_err(|e| ProviderError::new(ErrorKind::BadRequest, format!("Audio at {rate} Hz cannot be resampled: {e}")))?;
    let mut out = Vec::with_capacity(samples.len() * 16_000 / rate.max(1) as usize + 640);
    let input: Vec<f32> = floats.collect();
    resampler.push(&input, |frame| out.extend(frame.iter().map(|&s| s as f32 / 32768.0)));
    // Flush what the resampler holds back with a little silence.
    let tail = vec![0.0f32; rate as usize / 5];
    resampler.push(&tail, |frame| out.extend(frame.iter().map(|&s| s as f32 / 32768.0)));
    Ok(out)
}

#[async_trait]
impl SpeechToText for LocalStt {
    /// Loads the model now (a second or two), so the first turn does not wait.
    async fn warm_up(&self) -> Result<(), ProviderError> {
        self.model().await.map(|_| ())
    }

    async fn transcribe(&self, request: SttRequest<'_>) -> Result<String, ProviderError> {
        let model = self.model().await?;
        let samples = to_16k(request.samples, request.sample_rate)?;
        let language = request.language.map(str::to_string);
        // A dropped turn leaves this decode to finish on its thread (it is
        // bounded by the utterance); its text is then dropped unheard.
        tokio::task::spawn_blocking(move || model.transcribe(&samples, language.as_deref()))
            .await
            .map_err(|e| ProviderError::new(ErrorKind::Local, format!("Speech-to-text stopped: {e}")))?
            .map_err(local_error)
    }
}

/// The voice id that follows the text's language.
pub const AUTO_VOICE: &str = "auto";

/// espeak-ng speech: the local voice that is always there.
pub struct LocalTts {
    espeak: Espeak,
}

impl LocalTts {
    /// espeak-ng from `PATH`; an error says it is not installed.
    pub fn espeak() -> Result<Self, ProviderError> {
        Espeak::find().map(|espeak| LocalTts { espeak }).map_err(local_error)
    }
}

/// The espeak-ng voice for `text` when the voice is [`AUTO_VOICE`]: Korean
/// when the text has Hangul, else English.
pub fn voice_for(voice: &str, text: &str) -> String {
    match voice.trim() {
        "" | AUTO_VOICE => {
            let hangul = text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c) || ('\u{1100}'..='\u{11FF}').contains(&c));
            if hangul { "ko" } else { "en-us" }.to_string()
        }
        v => v.to_string(),
    }
}

#[async_trait]
impl TextToSpeech for LocalTts {
    async fn synthesize(&self, request: SpeechRequest<'_>) -> Result<ProviderStream<Pcm>, ProviderError> {
        let espeak = self.espeak.clone();
        let (text, voice, speed) = (request.text.to_string(), voice_for(request.voice, request.text), request.speed);
        // Style instructions are not something espeak-ng can follow; the
        // window says so next to the style field.
        let (samples, sample_rate) = tokio::task::spawn_blocking(move || espeak.synthesize(&text, &voice, speed))
            .await
            .map_err(|e| ProviderError::new(ErrorKind::Local, format!("Speech stopped: {e}")))?
            .map_err(local_error)?;
        Ok(Box::pin(futures_util::stream::iter([Ok(Pcm { samples, sample_rate })])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auto_voice_follows_the_script() {
        assert_eq!(voice_for("auto", "주문하신 상품은 내일 도착합니다."), "ko");
        assert_eq!(voice_for("", "Your order arrives tomorrow."), "en-us");
        assert_eq!(voice_for("en-gb", "안녕하세요"), "en-gb");
    }

    #[test]
    fn other_rates_are_resampled_to_16k_without_losing_the_end() {
        let one_second_48k = vec![1000i16; 48_000];
        let out = to_16k(&one_second_48k, 48_000).unwrap();
        assert!((16_000..=16_000 + 3_200).contains(&out.len()), "{} samples", out.len());
        assert_eq!(to_16k(&[16384; 10], 16_000).unwrap(), vec![0.5; 10]);
    }
}
