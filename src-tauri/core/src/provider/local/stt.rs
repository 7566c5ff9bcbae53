//! Whisper speech-to-text on this computer (from `sori-local`) as a
//! [`SpeechToText`] provider: decodes run on blocking threads so the async
//! workers never wait on one, and a model is loaded once per process and
//! shared (a new session after a settings change finds it warm).

use super::{local_error, not_installed, Loaded};
use crate::provider::{ErrorKind, ProviderError, SpeechToText, SttRequest};
use async_trait::async_trait;
use sori_local::{LocalError, WhisperModel, WhisperSettings};
use std::path::{Path, PathBuf};
use std::sync::Arc;

static WHISPER: Loaded<WhisperModel> = Loaded::new();

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
        if !self.dir.is_dir() {
            return Err(not_installed("speech-to-text model", &self.dir));
        }
        let dir = self.dir.clone();
        self.model
            .get_or_try_init(|| async move {
                let key = dir.clone();
                WHISPER
                    .get(&key, "the speech-to-text model", move |threads| {
                        // A model installed by an older Sori gets this one's settings (its window).
                        crate::models::refresh_written(&dir).map_err(|e| LocalError::Model {
                            path: dir.display().to_string(),
                            reason: format!("its settings could not be written ({e})"),
                        })?;
                        WhisperModel::load(&dir, WhisperSettings { threads, ..WhisperSettings::default() })
                    })
                    .await
            })
            .await
            .cloned()
    }
}

/// `samples` at `rate` as 16 kHz floats, the rate Whisper hears.
fn to_16k(samples: &[i16], rate: u32) -> Result<Vec<f32>, ProviderError> {
    let resampled = crate::audio::resample::resample(samples, rate, 16_000)
        .map_err(|e| ProviderError::new(ErrorKind::BadRequest, format!("Audio at {rate} Hz cannot be resampled: {e}")))?;
    Ok(resampled.iter().map(|&s| s as f32 / 32768.0).collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_rates_are_resampled_to_16k_without_losing_the_end() {
        let one_second_48k = vec![1000i16; 48_000];
        let out = to_16k(&one_second_48k, 48_000).unwrap();
        assert!((16_000..=16_000 + 3_200).contains(&out.len()), "{} samples", out.len());
        assert_eq!(to_16k(&[16384; 10], 16_000).unwrap(), vec![0.5; 10]);
    }
}
