//! The first step of a spoken turn: the utterance to text, retried while
//! that is safe. Three different endings matter to the user: words (the turn
//! goes on), nothing understood (Sori asks again), and a failure (the turn
//! ends with the error and what to do about it: a wrong key is not "I didn't
//! catch that").

use super::{Emitter, TurnSettings};
use crate::event::{Phase, Stage};
use crate::provider::retry::with_retries;
use crate::provider::{SpeechToText, SttRequest};
use tokio_util::sync::CancellationToken;

/// What transcribing gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transcript {
    Words(String),
    /// Speech was heard but no words were understood.
    Nothing,
    /// The provider failed; the error was reported.
    Failed,
    Cancelled,
}

pub async fn transcribe(
    samples: &[i16],
    sample_rate: u32,
    stt: &dyn SpeechToText,
    settings: &TurnSettings,
    emit: &Emitter,
    cancel: &CancellationToken,
) -> Transcript {
    emit.phase(Phase::Transcribing);
    let request = SttRequest {
        samples,
        sample_rate,
        model: &settings.stt_model,
        language: settings.language.as_deref(),
        prompt: settings.stt_prompt.as_deref(),
    };
    let attempt = with_retries(settings.retry, cancel, |a, w, e| emit.retrying(Stage::Transcription, a, w, e), || stt.transcribe(request));
    let result = tokio::select! {
        r = attempt => r,
        _ = cancel.cancelled() => return Transcript::Cancelled,
    };
    match result {
        Ok(text) if text.trim().is_empty() => Transcript::Nothing,
        Ok(text) => Transcript::Words(text.trim().to_string()),
        Err(_) if cancel.is_cancelled() => Transcript::Cancelled,
        Err(e) => {
            emit.error(Stage::Transcription, &e);
            Transcript::Failed
        }
    }
}
