//! Speaking while the reply is written: lines arrive in order, each is
//! synthesized as soon as a slot is free (bounded concurrency, so line n+1 is
//! made while line n plays), and audio goes to the output strictly in order,
//! each piece as soon as it is decoded. A line is part of the reply (with its
//! place in the reply text, for what was heard) or an aside Sori says on its
//! own (an apology; later a filler) that is never the model's words.

use super::heard::SpokenLine;
use super::{Emitter, TurnSettings};
use crate::audio::output::AudioOutput;
use crate::audio::Pcm;
use crate::event::{Event, Phase, Stage};
use crate::provider::retry::{with_retries, RetryPolicy};
use crate::provider::{AudioFormat, ProviderError, SpeechRequest, TextToSpeech};
use crate::text::clauses::Chunk;
use crate::text::ClauseSplitter;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The voice settings every line shares, so the voice stays the same.
#[derive(Debug, Clone)]
pub struct Voice {
    pub model: String,
    pub voice: String,
    pub style: Option<String>,
    pub speed: f32,
    /// Semitones up or down (0: the voice's own); only engines that can change it use it.
    pub pitch: f32,
    pub format: AudioFormat,
}

/// Something to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// Where it sits in the reply text (characters); `None` for an aside.
    pub span: Option<(usize, usize)>,
    /// Its audio, when it was made ahead of time (a filler).
    pub clip: Option<Arc<Vec<Pcm>>>,
}

impl Line {
    pub fn reply(chunk: Chunk) -> Line {
        Line { span: Some((chunk.start, chunk.end)), text: chunk.text, clip: None }
    }

    pub fn aside(text: impl Into<String>) -> Line {
        Line { text: text.into(), span: None, clip: None }
    }
}

/// What speaking produced.
#[derive(Debug, Default)]
pub struct Spoken {
    pub lines: Vec<SpokenLine>,
    pub first_byte: Option<Instant>,
    pub first_audio: Option<Instant>,
    pub error: Option<ProviderError>,
    /// Output samples played when speaking ended (read before any flush).
    pub played: u64,
    /// When each line's first audio went to the output, with its place in the reply.
    pub starts: Vec<(Option<(usize, usize)>, Instant)>,
}

pub struct Speaker {
    tts: Arc<dyn TextToSpeech>,
    output: Arc<dyn AudioOutput>,
    voice: Voice,
    concurrency: usize,
    retry: RetryPolicy,
    emit: Emitter,
}

type Audio = mpsc::UnboundedReceiver<Result<Pcm, ProviderError>>;

impl Speaker {
    pub fn new(tts: Arc<dyn TextToSpeech>, output: Arc<dyn AudioOutput>, settings: &TurnSettings, emit: Emitter) -> Arc<Speaker> {
        Arc::new(Speaker { tts, output, voice: settings.voice.clone(), concurrency: settings.tts_concurrency, retry: settings.retry, emit })
    }

    /// Speaks the lines that come through `lines` until it closes, the
    /// speech fails, or `cancel` fires. Returns once all audio is queued.
    pub async fn speak(self: Arc<Self>, lines: mpsc::UnboundedReceiver<Line>, cancel: CancellationToken) -> Spoken {
        let (playlist_tx, mut playlist) = mpsc::unbounded_channel::<(Line, Audio)>();
        let starter = tokio::spawn(self.clone().start_each(lines, playlist_tx, cancel.clone()));
        let mut spoken = Spoken::default();
        // `biased`: a cancel wins over audio that is ready at the same moment,
        // so nothing is counted as said after the user stopped it.
        'lines: while let Some((line, mut audio)) = tokio::select! {
            biased;
            _ = cancel.cancelled() => None,
            next = playlist.recv() => next,
        } {
            let start = self.output.queued_samples();
            let index = spoken.lines.len();
            let mut started = false;
            let stop = loop {
                let piece = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => break true,
                    p = audio.recv() => p,
                };
                match piece {
                    Some(Ok(pcm)) => {
                        let now = Instant::now();
                        spoken.first_byte.get_or_insert(now);
                        if !started {
                            started = true;
                            if spoken.first_audio.is_none() {
                                spoken.first_audio = Some(now);
                                self.emit.phase(Phase::Speaking);
                            }
                            spoken.starts.push((line.span, now));
                            self.emit.send(Event::AssistantSpeaking { turn: self.emit.turn, chunk: index, text: line.text.clone() });
                        }
                        self.output.queue(&pcm);
                    }
                    Some(Err(e)) => {
                        spoken.error = Some(e);
                        break true;
                    }
                    // A line's audio also ends when its synthesis was cancelled.
                    None => break cancel.is_cancelled(),
                }
            };
            // The part of a line already queued may have been heard.
            if started || !stop {
                spoken.lines.push(SpokenLine { span: line.span, text: line.text, start, end: self.output.queued_samples() });
            }
            if stop {
                break 'lines;
            }
        }
        if spoken.error.is_some() || cancel.is_cancelled() {
            // Stop the lines still being synthesized too: their audio would go unplayed.
            cancel.cancel();
            starter.abort();
        }
        spoken
    }

    /// Starts synthesizing each line as a slot frees up, in order.
    async fn start_each(
        self: Arc<Self>,
        mut lines: mpsc::UnboundedReceiver<Line>,
        playlist: mpsc::UnboundedSender<(Line, Audio)>,
        cancel: CancellationToken,
    ) {
        let slots = Arc::new(Semaphore::new(self.concurrency.max(1)));
        while let Some(line) = lines.recv().await {
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                _ = cancel.cancelled() => return,
            };
            let (tx, rx) = mpsc::unbounded_channel();
            let text = line.text.clone();
            if let Some(clip) = line.clip.clone() {
                // Made ahead of time: nothing to synthesize.
                for pcm in clip.iter() {
                    let _ = tx.send(Ok(pcm.clone()));
                }
                drop(permit);
                if playlist.send((line, rx)).is_err() {
                    return;
                }
                continue;
            }
            if playlist.send((line, rx)).is_err() {
                return;
            }
            let (this, cancel) = (self.clone(), cancel.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = this.synthesize(&text, &tx, &cancel) => {}
                    _ = cancel.cancelled() => {}
                }
                drop(permit);
            });
        }
    }

    /// Synthesizes one line into `tx`, retrying a failed start; the first
    /// error ends the line.
    async fn synthesize(&self, text: &str, tx: &mpsc::UnboundedSender<Result<Pcm, ProviderError>>, cancel: &CancellationToken) {
        let v = &self.voice;
        let request = SpeechRequest {
            text,
            model: &v.model,
            voice: &v.voice,
            instructions: v.style.as_deref(),
            speed: v.speed,
            pitch: v.pitch,
            format: v.format,
        };
        let started =
            with_retries(self.retry, cancel, |attempt, wait, e| self.emit.retrying(Stage::Speech, attempt, wait, e), || self.tts.synthesize(request))
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

/// Waits for the speaker to queue its audio and then for that audio to be
/// played. Cancelled, it silences the output and keeps what the cut left
/// played. A panic in the speaker is the turn's panic, not "nothing was said".
pub async fn played(task: JoinHandle<Spoken>, output: &Arc<dyn AudioOutput>, cancel: &CancellationToken) -> Spoken {
    let mut spoken = match task.await {
        Ok(spoken) => spoken,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Spoken::default(),
    };
    let end = spoken.lines.last().map(|l| l.end).unwrap_or(0);
    spoken.played = played_until(output.as_ref(), end, cancel).await;
    if cancel.is_cancelled() {
        spoken.played = output.flush();
    }
    spoken
}

/// Waits until the output has played `end` samples (or `cancel` fires);
/// returns the samples played by then.
pub async fn played_until(output: &dyn AudioOutput, end: u64, cancel: &CancellationToken) -> u64 {
    while output.played_samples() < end && !cancel.is_cancelled() {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
            _ = cancel.cancelled() => {}
        }
    }
    output.played_samples()
}

/// Speaks a given text in the turn's voice, split as a reply would be, and
/// waits until it has been played (or `cancel` fires).
pub async fn speak_text(
    text: &str,
    tts: Arc<dyn TextToSpeech>,
    output: Arc<dyn AudioOutput>,
    settings: &TurnSettings,
    emit: Emitter,
    cancel: CancellationToken,
) -> Spoken {
    let (lines, lines_rx) = mpsc::unbounded_channel();
    let mut splitter = ClauseSplitter::new(settings.splitter);
    for chunk in splitter.push(text).into_iter().chain(splitter.finish()) {
        let _ = lines.send(Line::reply(chunk));
    }
    drop(lines);
    let task = tokio::spawn(Speaker::new(tts, output.clone(), settings, emit).speak(lines_rx, cancel.child_token()));
    played(task, &output, &cancel).await
}
