//! One conversational turn: an utterance (or typed text) in, a spoken reply
//! out, as fast as the providers allow, in four steps:
//! [`transcribe`](transcribe::transcribe), [`respond`](respond::respond) (the
//! chat stream, split into speakable lines as it comes), [`speaker`] (lines
//! synthesized and played in order while the reply is still written) and
//! [`heard`] (what of the reply the user actually heard).
//!
//! Events, in order: `Status{transcribing}` and `UserTranscript` (spoken
//! turns), `Status{thinking}`, `AssistantDelta`s interleaved with
//! `AssistantSpeaking` per line (`Status{speaking}` at the first sound), then
//! `TurnEnded` and `Status{idle}`; `Error`/`Retrying` wherever a step fails or
//! waits. Cancelling stops the chat stream, pending speech and playback at
//! once, and the outcome keeps only what the user heard.

pub mod agent;
pub mod early;
pub mod filler;
pub mod heard;
pub mod phrases;
pub mod prefetch;
pub mod respond;
pub mod speaker;
pub mod transcribe;

use crate::audio::output::AudioOutput;
use crate::conversation::Conversation;
use crate::event::{Event, Incomplete, Phase, Stage, TurnId, TurnMetrics};
use crate::phase::PhaseCell;
use crate::provider::retry::RetryPolicy;
use crate::provider::{ProviderError, Providers};
use crate::request_type::{self, RequestType};
use crate::text::SplitterConfig;
use crate::tools::confirm;
use respond::{Ended, Reply};
use speaker::{Line, Speaker, Voice};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use transcribe::Transcript;

pub use phrases::{FALLBACK_EN, FALLBACK_KO};

/// How a turn runs.
#[derive(Debug, Clone)]
pub struct TurnSettings {
    pub stt_model: String,
    /// ISO-639-1 (`ko`, `en`) or `None` for automatic.
    pub language: Option<String>,
    pub stt_prompt: Option<String>,
    pub chat_model: String,
    pub temperature: Option<f32>,
    /// The longest reply, in tokens; `None`: the model's own limit.
    pub max_tokens: Option<u32>,
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
    Audio {
        samples: Vec<i16>,
        sample_rate: u32,
    },
    Text(String),
    /// A click on the window's confirmation card: the user's answer to the
    /// call held for them, with the words that stand for it in the transcript.
    Answer {
        approve: bool,
        text: String,
    },
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutcome {
    /// The user's words; `None` if nothing was understood (then the turn is not history).
    pub user_text: Option<String>,
    /// The reply as the user heard it (or saw it, when it was not spoken).
    pub heard: String,
    /// `heard` is this many characters of `reply`.
    pub heard_chars: usize,
    /// The whole reply text the model wrote.
    pub reply: String,
    pub interrupted: bool,
    pub incomplete: bool,
    /// Why an incomplete turn is incomplete.
    pub reason: Option<Incomplete>,
    pub metrics: TurnMetrics,
    /// The turn's tool calls and their results, in order (none without tools).
    pub tool_messages: Vec<crate::provider::ChatMessage>,
    /// Characters of `heard` said before the tools' results came (preambles).
    pub answer_from: usize,
    /// What the user asked for (none when nothing was understood).
    pub request_type: Option<RequestType>,
}

impl TurnOutcome {
    /// The turn as the conversation keeps it for the model: the user's
    /// words, the tool calls and results, and the answer as far as it was heard.
    pub fn messages(&self) -> Vec<crate::provider::ChatMessage> {
        use crate::provider::{ChatMessage, Role};
        let Some(user) = &self.user_text else { return Vec::new() };
        let mut messages = vec![ChatMessage::new(Role::User, user.clone())];
        messages.extend(self.tool_messages.iter().cloned());
        let answer: String = self.heard.chars().skip(self.answer_from).collect();
        if self.tool_messages.is_empty() || !answer.trim().is_empty() {
            messages.push(ChatMessage::new(Role::Assistant, answer.trim()));
        }
        messages
    }
}

/// Sends a turn's events and moves the phase; a closed receiver is not an
/// error (nobody is watching).
#[derive(Clone)]
pub struct Emitter {
    pub turn: TurnId,
    tx: mpsc::UnboundedSender<Event>,
    phase: PhaseCell,
}

impl Emitter {
    /// An emitter with a phase of its own (a turn run outside the engine).
    pub fn new(turn: TurnId, tx: mpsc::UnboundedSender<Event>) -> Self {
        let phase = PhaseCell::new(tx.clone());
        Emitter { turn, tx, phase }
    }

    /// An emitter that moves the engine's phase.
    pub fn with_phase(turn: TurnId, tx: mpsc::UnboundedSender<Event>, phase: PhaseCell) -> Self {
        Emitter { turn, tx, phase }
    }

    pub fn send(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    pub fn phase(&self, phase: Phase) {
        self.phase.set(phase);
    }

    pub fn error(&self, stage: Stage, e: &ProviderError) {
        self.send(Event::Error { turn: Some(self.turn), stage, error: e.kind.clone(), message: e.message.clone(), retryable: e.is_retryable() });
    }

    pub fn retrying(&self, stage: Stage, attempt: u32, wait: Duration, e: &ProviderError) {
        self.send(Event::Retrying { turn: self.turn, stage, attempt, wait_ms: wait.as_millis() as u64, message: e.message.clone() });
    }

    /// Ends the turn: `TurnEnded`, then idle.
    pub fn ended(&self, outcome: &TurnOutcome) {
        self.send(Event::TurnEnded {
            turn: self.turn,
            heard: outcome.heard.clone(),
            heard_chars: outcome.heard_chars,
            interrupted: outcome.interrupted,
            incomplete: outcome.incomplete,
            reason: outcome.reason,
            metrics: outcome.metrics,
        });
        self.phase(Phase::Idle);
    }
}

/// Milliseconds from `since` to now.
pub(crate) fn ms_since(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
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
    let transfer_before = providers.transfer.totals();
    let mut metrics = TurnMetrics::default();

    let mut clicked = None;
    let user_text = match input {
        TurnInput::Text(text) => Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        TurnInput::Answer { approve, text } => {
            clicked = Some(approve);
            Some(text.trim().to_string())
        }
        TurnInput::Audio { samples, sample_rate } => {
            let heard = transcribe::transcribe(&samples, sample_rate, providers.stt.as_ref(), settings, &emit, &cancel).await;
            metrics.transcript_ms = Some(ms_since(start));
            match heard {
                Transcript::Words(text) => Some(text),
                Transcript::Nothing => None,
                // A failure to transcribe is not "not understood": the error says what to do next.
                Transcript::Failed | Transcript::Cancelled => {
                    let reply = Reply { ended: if cancel.is_cancelled() { Ended::Cancelled } else { Ended::Failed }, ..Reply::default() };
                    return finish(&emit, None, reply, None, &output, &cancel, metrics, start, providers, transfer_before);
                }
            }
        }
    };
    // What the user asks for is asked of the model alongside the reply, never before it.
    let classifying = user_text
        .as_ref()
        .filter(|_| providers.classify_with_model)
        .map(|text| tokio::spawn(request_type::by_model(providers.chat.clone(), settings.chat_model.clone(), text.clone())));
    if let Some(text) = &user_text {
        emit.send(Event::UserTranscript { turn: emit.turn, text: text.clone() });
        if settings.speak && !providers.tools.is_empty() {
            // Ready before a tool is called, in the language of the question.
            let korean = phrases::korean(settings.language.as_deref(), Some(text));
            let (fillers, tts, voice) = (providers.fillers.clone(), providers.tts.clone(), settings.voice.clone());
            tokio::spawn(async move { fillers.prepare(tts, &voice, filler::text(korean)).await });
        }
    }

    emit.phase(Phase::Thinking);
    let (lines, lines_rx) = mpsc::unbounded_channel::<Line>();
    let speaker = Speaker::new(providers.tts.clone(), output.clone(), settings, emit.clone());
    let speaking = settings.speak.then(|| tokio::spawn(speaker.speak(lines_rx, cancel.child_token())));

    let reply = match &user_text {
        Some(user) => {
            let mut messages = conversation.messages_for(user);
            // The last turn held a call for the user: these words (or the click) answer it.
            let answer = conversation.awaiting_confirmation().map(|call| agent::Answer { call, approve: clicked.or_else(|| confirm::decide(user)) });
            agent::respond_with_tools(&mut messages, answer, providers, settings, &lines, &emit, &cancel, start, &mut metrics).await
        }
        // Nothing was understood: the fallback is said, no model is asked.
        None => respond::given(phrases::fallback(settings.language.as_deref(), conversation), settings, &lines, &emit, start, &mut metrics),
    };
    if reply.ended == Ended::Failed && reply.text.is_empty() && !cancel.is_cancelled() {
        // Silence would leave the user wondering: say sorry, where speech still works.
        let _ = lines.send(Line::aside(phrases::apology(settings.language.as_deref(), user_text.as_deref())));
    }
    drop(lines);

    let spoken = match speaking {
        Some(task) => Some(speaker::played(task, &output, &cancel).await),
        None => None,
    };
    let kind = match &user_text {
        Some(text) => Some(classify(text, classifying, &reply, &emit, &cancel).await),
        None => None,
    };
    let mut outcome = finish(&emit, user_text, reply, spoken, &output, &cancel, metrics, start, providers, transfer_before);
    outcome.request_type = kind;
    outcome
}

/// The longest the turn's end waits for the model's classification (it
/// has had the whole reply's time already).
const CLASSIFY_WAIT: Duration = Duration::from_millis(1500);

/// Decides the turn's request type and says so.
async fn classify(
    text: &str,
    asked: Option<tokio::task::JoinHandle<Option<RequestType>>>,
    reply: &Reply,
    emit: &Emitter,
    cancel: &CancellationToken,
) -> RequestType {
    let model = match asked {
        // A barge-in does not wait: the next turn is coming.
        Some(task) if cancel.is_cancelled() && !task.is_finished() => {
            task.abort();
            None
        }
        Some(task) => tokio::time::timeout(CLASSIFY_WAIT, task).await.ok().and_then(Result::ok).flatten(),
        None => None,
    };
    let called = reply.exchanged.iter().flat_map(|m| &m.tool_calls).map(|c| c.name.as_str());
    let (kind, by) = request_type::decide(model, request_type::by_tools(called), text);
    emit.send(Event::RequestClassified { turn: emit.turn, request_type: kind, by });
    kind
}

/// Accounts for the turn (what was heard, metrics, why it ended) and ends it.
#[allow(clippy::too_many_arguments)]
fn finish(
    emit: &Emitter,
    user_text: Option<String>,
    reply: Reply,
    spoken: Option<speaker::Spoken>,
    output: &Arc<dyn AudioOutput>,
    cancel: &CancellationToken,
    mut metrics: TurnMetrics,
    start: Instant,
    providers: &Providers,
    transfer_before: (u64, u64),
) -> TurnOutcome {
    let interrupted = cancel.is_cancelled() || reply.ended == Ended::Cancelled;
    let reply_chars = reply.text.chars().count();
    let heard_chars = match &spoken {
        Some(spoken) => {
            metrics.tts_first_byte_ms = spoken.first_byte.map(|t| (t - start).as_secs_f64() * 1000.0);
            metrics.ttfa_ms = spoken.first_audio.map(|t| (t - start).as_secs_f64() * 1000.0);
            if !reply.exchanged.is_empty() {
                let answer = spoken.starts.iter().find(|(span, _)| span.is_some_and(|(from, _)| from >= reply.answer_from));
                metrics.answer_audio_ms = answer.map(|(_, t)| (*t - start).as_secs_f64() * 1000.0);
            }
            if let Some(e) = &spoken.error {
                emit.error(Stage::Speech, e);
            }
            match (&spoken.error, interrupted) {
                // When speech failed, the reply was still shown in full: that text counts.
                (Some(_), false) => reply_chars,
                _ => heard::heard_chars(&spoken.lines, spoken.played),
            }
        }
        None => reply_chars,
    };
    if interrupted {
        // Cancelled, the speaker already silenced it; a reply that ended
        // itself as cancelled may still have audio queued.
        output.flush();
    }
    let heard: String = reply.text.chars().take(heard_chars).collect::<String>().trim_end().to_string();
    let reason = match reply.ended {
        _ if interrupted => None,
        Ended::Cut(reason) => Some(reason),
        Ended::Failed => Some(Incomplete::Failed),
        Ended::Finished | Ended::Cancelled => None,
    };
    metrics.total_ms = ms_since(start);
    let (up, down) = providers.transfer.totals();
    (metrics.bytes_up, metrics.bytes_down) = (up - transfer_before.0, down - transfer_before.1);
    let answer_from = reply.answer_from.min(heard.chars().count());
    let outcome = TurnOutcome {
        user_text,
        heard,
        heard_chars,
        reply: reply.text,
        interrupted,
        incomplete: reason.is_some(),
        reason,
        metrics,
        tool_messages: reply.exchanged,
        answer_from,
        request_type: None,
    };
    emit.ended(&outcome);
    outcome
}
