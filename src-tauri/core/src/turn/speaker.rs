//! Speaking a reply while it is written: chunks arrive in order, each is
//! synthesized as soon as a slot is free (bounded concurrency, so chunk n+1 is
//! made while chunk n plays), and audio goes to the output strictly in order,
//! each piece as soon as it is decoded.

use super::heard::SpokenChunk;
use super::Emitter;
use crate::audio::output::AudioOutput;
use crate::event::{Event, Phase, Stage};
use crate::provider::retry::with_retries;
use crate::provider::{Pcm, ProviderError, SpeechRequest, TextToSpeech};
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The voice settings every chunk shares, so the voice stays the same.
#[derive(Debug, Clone)]
pub struct Voice {
    pub model: String,
    pub voice: String,
    pub style: Option<String>,
    pub speed: f32,
    pub format: crate::provider::AudioFormat,
}

/// What speaking produced.
#[derive(Debug, Default)]
pub struct Spoken {
    pub chunks: Vec<SpokenChunk>,
    pub first_byte: Option<Instant>,
    pub first_audio: Option<Instant>,
    pub error: Option<ProviderError>,
}

pub struct Speaker {
    pub tts: Arc<dyn TextToSpeech>,
    pub output: Arc<dyn AudioOutput>,
    pub voice: Voice,
    pub concurrency: usize,
    pub retry: crate::provider::retry::RetryPolicy,
    pub emit: Emitter,
}

type Audio = mpsc::UnboundedReceiver<Result<Pcm, ProviderError>>;

impl Speaker {
    /// Speaks the chunks that come through `chunks` until it closes, the
    /// speech fails, or `cancel` fires. Returns once all audio is queued.
    pub async fn speak(self: Arc<Self>, mut chunks: mpsc::UnboundedReceiver<String>, cancel: CancellationToken) -> Spoken {
        let slots = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let (playlist_tx, mut playlist) = mpsc::unbounded_channel::<(String, Audio)>();
        let starter = {
            let this = self.clone();
            let cancel = cancel.clone();
            tokio::spawn(async move {
                while let Some(text) = chunks.recv().await {
                    let permit = tokio::select! {
                        p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                        _ = cancel.cancelled() => return,
                    };
                    let (tx, rx) = mpsc::unbounded_channel();
                    if playlist_tx.send((text.clone(), rx)).is_err() {
                        return;
                    }
                    let this = this.clone();
                    let cancel = cancel.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = this.synthesize(&text, &tx, &cancel) => {}
                            _ = cancel.cancelled() => {}
                        }
                        drop(permit);
                    });
                }
            })
        };

        let mut spoken = Spoken::default();
        'chunks: while let Some((text, mut audio)) = tokio::select! {
            next = playlist.recv() => next,
            _ = cancel.cancelled() => None,
        } {
            let start = self.output.queued_samples();
            let index = spoken.chunks.len();
            let mut started = false;
            loop {
                let piece = tokio::select! {
                    p = audio.recv() => p,
                    _ = cancel.cancelled() => {
                        // The part of this chunk already queued may have been heard.
                        if started {
                            spoken.chunks.push(SpokenChunk { text, start, end: self.output.queued_samples() });
                        }
                        break 'chunks;
                    }
                };
                match piece {
                    Some(Ok(pcm)) => {
                        let now = Instant::now();
                        spoken.first_byte.get_or_insert(now);
                        if !started {
                            started = true;
                            if spoken.first_audio.is_none() {
                                spoken.first_audio = Some(now);
                                self.emit.send(Event::Status { phase: Phase::Speaking });
                            }
                            self.emit.send(Event::AssistantSpeaking { turn: self.emit.turn, chunk: index, text: text.clone() });
                        }
                        self.output.queue(&pcm);
                    }
                    Some(Err(e)) => {
                        spoken.error = Some(e);
                        if started {
                            spoken.chunks.push(SpokenChunk { text, start, end: self.output.queued_samples() });
                        }
                        break 'chunks;
                    }
                    None => break,
                }
            }
            spoken.chunks.push(SpokenChunk { text, start, end: self.output.queued_samples() });
        }
        if spoken.error.is_some() || cancel.is_cancelled() {
            // Stop the chunks still being synthesized too: their audio would go unplayed.
            cancel.cancel();
            starter.abort();
        }
        spoken
    }

    /// Synthesizes one chunk into `tx`, retrying a failed start; the first
    /// error ends the chunk.
    async fn synthesize(&self, text: &str, tx: &mpsc::UnboundedSender<Result<Pcm, ProviderError>>, cancel: &CancellationToken) {
        let v = &self.voice;
        let request = SpeechRequest { text, model: &v.model, voice: &v.voice, instructions: v.style.as_deref(), speed: v.speed, format: v.format };
        let started = with_retries(self.retry, cancel, |attempt, wait, e| self.emit.retrying(Stage::Speech, attempt, wait, e), || {
            self.tts.synthesize(request)
        })
        .await;
        let mut stream = match started {
            Ok(s) => s,
            Err(e) => return drop(tx.send(Err(e))),
        };
        while let Some(piece) = stream.next().await {
            let failed = piece.is_err();
            if tx.send(piece).is_err() || failed {
                return;
            }
        }
    }
}
