//! One conversational turn: an utterance (or typed text) in, a spoken reply
//! out, as fast as the providers allow. Order of events: `UserTranscript`,
//! `AssistantDelta`s interleaved with `AssistantSpeaking` per chunk, then
//! `TurnEnded` (with `Error`/`Retrying` wherever a step fails or waits).
//! Cancelling stops the chat stream, pending speech and playback at once, and
//! the outcome keeps only what the user heard.

pub mod heard;
pub mod speaker;

use crate::audio::output::AudioOutput;
use crate::conversation::Conversation;
use crate::event::{Event, Phase, Stage, TurnId, TurnMetrics};
use crate::provider::openai::client::ByteCounters;
use crate::provider::retry::{with_retries, RetryPolicy};
use crate::provider::{ChatEvent, ChatModel, ChatRequest, ProviderError, SpeechToText, SttRequest, TextToSpeech};
use crate::text::{ClauseSplitter, SplitterConfig};
use futures_util::StreamExt;
use heard::heard_text;
use speaker::{Speaker, Voice};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What is said when nothing was understood; no model is asked.
pub const FALLBACK_KO: &str = "죄송해요, 잘 못 들었어요. 다시 말씀해 주시겠어요?";
pub const FALLBACK_EN: &str = "Sorry, I didn't catch that. Could you say it again?";

/// The services a turn uses.
#[derive(Clone)]
pub struct Providers {
    pub stt: Arc<dyn SpeechToText>,
    pub chat: Arc<dyn ChatModel>,
    pub tts: Arc<dyn TextToSpeech>,
    /// Bytes up and down, when the providers count them.
    pub bytes: Option<Arc<ByteCounters>>,
}

/// How a turn runs.
#[derive(Debug, Clone)]
pub struct TurnSettings {
    pub stt_model: String,
    /// ISO-639-1 (`ko`, `en`) or `None` for automatic.
    pub language: Option<String>,
    pub stt_prompt: Option<String>,
    pub chat_model: String,
    pub temperature: Option<f32>,
    pub voice: Voice,
    /// Speak the reply (typed turns may be shown only).
    pub speak: bool,
    /// Speech requests in flight at once.
    pub tts_concurrency: usize,
    pub retry: RetryPolicy,
    pub splitter: SplitterConfig,
}

/// What starts a turn.
#[derive(Debug, Clone)]
pub enum TurnInput {
    Audio { samples: Vec<i16>, sample_rate: u32 },
    Text(String),
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutcome {
    /// The user's words; `None` if nothing was understood (then the turn is not history).
    pub user_text: Option<String>,
    /// The reply as the user heard it (or saw it, when it was not spoken).
    pub heard: String,
    /// The whole reply text the model wrote.
    pub reply: String,
    pub interrupted: bool,
    pub incomplete: bool,
    pub metrics: TurnMetrics,
}

/// Sends a turn's events; a closed receiver is not an error (nobody is watching).
#[derive(Clone)]
pub struct Emitter {
    pub turn: TurnId,
    pub tx: mpsc::UnboundedSender<Event>,
}

impl Emitter {
    pub fn send(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    pub fn error(&self, stage: Stage, e: &ProviderError) {
        self.send(Event::Error { turn: Some(self.turn), stage, error: e.kind.clone(), message: e.message.clone(), retryable: e.is_retryable() });
    }

    pub fn retrying(&self, stage: Stage, attempt: u32, wait: Duration, e: &ProviderError) {
        self.send(Event::Retrying { turn: self.turn, stage, attempt, wait_ms: wait.as_millis() as u64, message: e.message.clone() });
    }
}

fn ms(since: Instant, at: Instant) -> f64 {
    (at - since).as_secs_f64() * 1000.0
}

/// Runs one turn to its end. Nothing here panics on any provider reply.
pub async fn run_turn(
    input: TurnInput,
    conversation: &Conversation,
    providers: &Providers,
    settings: &TurnSettings,
    output: Arc<dyn AudioOutput>,
    emit: Emitter,
    cancel: CancellationToken,
) -> TurnOutcome {
    let start = Instant::now();
    let bytes_before = providers.bytes.as_ref().map(|b| (b.up.load(Ordering::Relaxed), b.down.load(Ordering::Relaxed)));
    let mut metrics = TurnMetrics::default();

    let user_text = match input {
        TurnInput::Text(text) => Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        TurnInput::Audio { samples, sample_rate } => {
            emit.send(Event::Status { phase: Phase::Transcribing });
            let request = SttRequest { samples: &samples, sample_rate, model: &settings.stt_model, language: settings.language.as_deref(), prompt: settings.stt_prompt.as_deref() };
            let result = with_retries(settings.retry, &cancel, |a, w, e| emit.retrying(Stage::Transcription, a, w, e), || providers.stt.transcribe(request)).await;
            metrics.transcript_ms = Some(ms(start, Instant::now()));
            match result {
                Ok(text) => Some(text).filter(|t| !t.trim().is_empty()),
                Err(e) => {
                    emit.error(Stage::Transcription, &e);
                    None
                }
            }
        }
    };
    let (reply_source, user_text) = match user_text {
        Some(text) => {
            emit.send(Event::UserTranscript { turn: emit.turn, text: text.clone() });
            (ReplySource::Chat(text.clone()), Some(text))
        }
        None => (ReplySource::Fallback(fallback_for(settings, conversation).to_string()), None),
    };

    emit.send(Event::Status { phase: Phase::Thinking });
    let (chunk_tx, chunk_rx) = mpsc::unbounded_channel::<String>();
    let speaker = Arc::new(Speaker {
        tts: providers.tts.clone(),
        output: output.clone(),
        voice: settings.voice.clone(),
        concurrency: settings.tts_concurrency,
        retry: settings.retry,
        emit: emit.clone(),
    });
    let speaking = settings.speak.then(|| tokio::spawn(speaker.speak(chunk_rx, cancel.child_token())));

    // Think: stream the reply, splitting it into chunks for the speaker.
    let mut reply = String::new();
    let mut incomplete = false;
    let mut splitter = ClauseSplitter::new(settings.splitter);
    let mut on_text = |text: &str, metrics: &mut TurnMetrics| {
        metrics.llm_first_token_ms.get_or_insert_with(|| ms(start, Instant::now()));
        reply.push_str(text);
        emit.send(Event::AssistantDelta { turn: emit.turn, text: text.to_string() });
        for chunk in splitter.push(text) {
            metrics.first_chunk_ms.get_or_insert_with(|| ms(start, Instant::now()));
            let _ = chunk_tx.send(chunk);
        }
    };
    match &reply_source {
        ReplySource::Fallback(text) => on_text(text, &mut metrics),
        ReplySource::Chat(user) => {
            let messages = conversation.messages_for(user);
            let request = ChatRequest { model: &settings.chat_model, messages: &messages, temperature: settings.temperature };
            match with_retries(settings.retry, &cancel, |a, w, e| emit.retrying(Stage::Chat, a, w, e), || providers.chat.stream_chat(request)).await {
                Err(e) => {
                    emit.error(Stage::Chat, &e);
                    incomplete = true;
                }
                Ok(mut stream) => loop {
                    let event = tokio::select! {
                        e = stream.next() => e,
                        _ = cancel.cancelled() => break,
                    };
                    match event {
                        Some(Ok(ChatEvent::Text(t))) => on_text(&t, &mut metrics),
                        Some(Ok(ChatEvent::Done { .. })) | None => break,
                        Some(Err(e)) => {
                            emit.error(Stage::Chat, &e);
                            incomplete = true;
                            break;
                        }
                    }
                },
            }
        }
    }
    // A reply cut off by a failure is not finished: its last, partial sentence is not spoken.
    if !cancel.is_cancelled() && !incomplete {
        if let Some(rest) = splitter.finish() {
            metrics.first_chunk_ms.get_or_insert_with(|| ms(start, Instant::now()));
            let _ = chunk_tx.send(rest);
        }
    }
    drop(chunk_tx);

    // Speak: wait for the audio to be queued, then played, unless cancelled.
    let mut heard = reply.clone();
    if let Some(speaking) = speaking {
        let spoken = speaking.await.unwrap_or_default();
        metrics.tts_first_byte_ms = spoken.first_byte.map(|t| ms(start, t));
        metrics.ttfa_ms = spoken.first_audio.map(|t| ms(start, t));
        if let Some(e) = &spoken.error {
            emit.error(Stage::Speech, e);
        }
        let end = spoken.chunks.last().map(|c| c.end).unwrap_or(0);
        while output.played_samples() < end && !cancel.is_cancelled() {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(10)) => {}
                _ = cancel.cancelled() => {}
            }
        }
        if cancel.is_cancelled() {
            // What was heard is decided before the queue is dropped.
            heard = heard_text(&spoken.chunks, output.played_samples());
            output.flush();
        } else if spoken.error.is_none() {
            heard = heard_text(&spoken.chunks, output.played_samples());
        }
        // When speech failed, the reply was still shown in full: that text counts.
    } else if cancel.is_cancelled() {
        heard = reply.clone();
    }

    metrics.total_ms = ms(start, Instant::now());
    if let (Some((up, down)), Some(b)) = (bytes_before, &providers.bytes) {
        metrics.bytes_up = b.up.load(Ordering::Relaxed) - up;
        metrics.bytes_down = b.down.load(Ordering::Relaxed) - down;
    }
    let interrupted = cancel.is_cancelled();
    emit.send(Event::TurnEnded { turn: emit.turn, heard: heard.clone(), interrupted, incomplete, metrics });
    emit.send(Event::Status { phase: Phase::Idle });
    TurnOutcome { user_text, heard, reply, interrupted, incomplete, metrics }
}

enum ReplySource {
    Chat(String),
    Fallback(String),
}

/// The fallback in the language the user is most likely speaking.
fn fallback_for(settings: &TurnSettings, conversation: &Conversation) -> &'static str {
    let korean = match settings.language.as_deref() {
        Some(l) if l.starts_with("ko") => true,
        Some(_) => false,
        None => conversation
            .history()
            .iter()
            .rev()
            .find(|m| m.role == crate::provider::Role::User)
            .map(|m| m.content.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)))
            .unwrap_or(true),
    };
    if korean {
        FALLBACK_KO
    } else {
        FALLBACK_EN
    }
}
