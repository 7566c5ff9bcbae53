//! Answers that start sooner: the utterance is sent to speech-to-text at a
//! short pause, before the end-of-speech silence has run out. If the user
//! then stops, the turn that starts at the end of the silence takes that
//! transcript instead of asking again, so it saves the time transcription
//! took; if they go on talking, the early request is dropped unheard (its
//! connection closed) and nothing of it reaches the window or the history.

use crate::provider::{ProviderError, SpeechToText, SttRequest};
use crate::turn::TurnSettings;
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// An utterance being transcribed ahead of its end.
pub struct Early {
    samples: Vec<i16>,
    task: JoinHandle<Result<String, ProviderError>>,
}

impl Early {
    /// Starts transcribing `samples` as the turn would.
    pub fn start(samples: Vec<i16>, sample_rate: u32, stt: Arc<dyn SpeechToText>, settings: &TurnSettings) -> Early {
        let (copy, model, language, prompt) = (samples.clone(), settings.stt_model.clone(), settings.language.clone(), settings.stt_prompt.clone());
        let task = tokio::spawn(async move {
            let request = SttRequest { samples: &copy, sample_rate, model: &model, language: language.as_deref(), prompt: prompt.as_deref() };
            stt.transcribe(request).await
        });
        Early { samples, task }
    }

    /// Whether the finished utterance is this one with only the rest of the
    /// silence after it (the listener says "resumed" when it is more).
    pub fn covers(&self, samples: &[i16]) -> bool {
        samples.len() >= self.samples.len() && samples.starts_with(&self.samples)
    }
}

impl Drop for Early {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Speech-to-text for one turn that takes the early transcript for the
/// utterance it covers, once; anything else (a retry after it failed, too)
/// goes to the provider.
pub struct WithEarly {
    inner: Arc<dyn SpeechToText>,
    early: Mutex<Option<Early>>,
}

impl WithEarly {
    pub fn new(inner: Arc<dyn SpeechToText>, early: Early) -> Self {
        WithEarly { inner, early: Mutex::new(Some(early)) }
    }
}

#[async_trait]
impl SpeechToText for WithEarly {
    async fn transcribe(&self, request: SttRequest<'_>) -> Result<String, ProviderError> {
        let early = self.early.lock().unwrap().take().filter(|e| e.covers(request.samples));
        if let Some(mut early) = early {
            if let Ok(result) = (&mut early.task).await {
                return result;
            }
        }
        self.inner.transcribe(request).await
    }

    async fn warm_up(&self) -> Result<(), ProviderError> {
        self.inner.warm_up().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ErrorKind;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts requests; fails the first when told to.
    struct Counting {
        calls: AtomicUsize,
        fail_first: bool,
    }

    #[async_trait]
    impl SpeechToText for Counting {
        async fn transcribe(&self, request: SttRequest<'_>) -> Result<String, ProviderError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail_first && n == 0 {
                return Err(ProviderError::new(ErrorKind::RateLimited { retry_after_ms: None }, "slow down"));
            }
            Ok(format!("{} samples", request.samples.len()))
        }
    }

    fn request(samples: &[i16]) -> SttRequest<'_> {
        SttRequest { samples, sample_rate: 16_000, model: "m", language: None, prompt: None }
    }

    #[tokio::test]
    async fn the_early_transcript_answers_the_utterance_it_covers_once() {
        let stt = Arc::new(Counting { calls: AtomicUsize::new(0), fail_first: false });
        let settings = test_settings();
        let early = Early::start(vec![1; 800], 16_000, stt.clone(), &settings);
        let whole: Vec<i16> = [vec![1; 800], vec![0; 320]].concat();
        assert!(early.covers(&whole) && !early.covers(&[2; 1200]) && !early.covers(&[1; 400]));
        let turn = WithEarly::new(stt.clone(), early);
        assert_eq!(turn.transcribe(request(&whole)).await.unwrap(), "800 samples", "the early request's answer");
        assert_eq!(turn.transcribe(request(&whole)).await.unwrap(), "1120 samples", "used once only");
        assert_eq!(stt.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_utterance_that_went_on_is_transcribed_afresh() {
        let stt = Arc::new(Counting { calls: AtomicUsize::new(0), fail_first: false });
        let early = Early::start(vec![1; 800], 16_000, stt.clone(), &test_settings());
        let turn = WithEarly::new(stt.clone(), early);
        let other: Vec<i16> = [vec![1; 700], vec![5; 900]].concat();
        assert_eq!(turn.transcribe(request(&other)).await.unwrap(), "1600 samples");
    }

    #[tokio::test]
    async fn a_failed_early_request_is_the_turn_s_first_attempt() {
        let stt = Arc::new(Counting { calls: AtomicUsize::new(0), fail_first: true });
        let early = Early::start(vec![1; 800], 16_000, stt.clone(), &test_settings());
        let turn = WithEarly::new(stt.clone(), early);
        let err = turn.transcribe(request(&[1; 800])).await.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::RateLimited { .. }), "retried by the turn like any failure");
        assert_eq!(turn.transcribe(request(&[1; 800])).await.unwrap(), "800 samples");
    }

    fn test_settings() -> TurnSettings {
        crate::settings::Settings::default().turn_settings()
    }
}
