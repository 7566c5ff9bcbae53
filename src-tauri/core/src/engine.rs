//! The engine: one task that owns the conversation and runs one turn at a
//! time, and a cloneable [`EngineHandle`] to command it. A new turn or a
//! cancel stops the turn in flight; its history keeps only what was heard.
//! Events go out on one channel, in order, for the UI or the CLI to render.

use crate::audio::output::AudioOutput;
use crate::conversation::Conversation;
use crate::event::{Event, TurnId};
use crate::provider::Pcm;
use crate::history::{now_ms, ConversationLog, History, TurnRecord};
use crate::turn::{run_turn, Emitter, Providers, TurnInput, TurnOutcome, TurnSettings};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Captured audio of this many recent turns is kept for replay.
const KEEP_AUDIO_TURNS: usize = 20;

enum Command {
    Ask { id: TurnId, input: TurnInput, speak: bool, reply_to: Option<oneshot::Sender<TurnOutcome>> },
    Providers(Box<Providers>),
    Persona(String),
    TurnAudio(TurnId, oneshot::Sender<Option<Arc<Pcm>>>),
    Cancel,
    ClearHistory,
    Open(String, oneshot::Sender<std::io::Result<()>>),
    Settings(Box<TurnSettings>),
    History(oneshot::Sender<Conversation>),
}

/// Commands into a running engine; cheap to clone. Every method returns at
/// once: results arrive as events.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::UnboundedSender<Command>,
    /// Turn ids are handed out here, so that the asker knows its turn's id
    /// before any event about it arrives.
    next: Arc<AtomicU64>,
}

impl EngineHandle {
    /// Starts a turn, stopping the one in flight (that is barge-in).
    pub fn ask(&self, input: TurnInput) -> TurnId {
        self.ask_with(input, true)
    }

    /// Starts a turn; with `speak` false the reply is only shown (a typed
    /// question when the user has turned speech off).
    pub fn ask_with(&self, input: TurnInput, speak: bool) -> TurnId {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let _ = self.tx.send(Command::Ask { id, input, speak, reply_to: None });
        id
    }

    /// Starts a turn and waits for its outcome (for the CLI and tests).
    pub async fn ask_and_wait(&self, input: TurnInput) -> Option<TurnOutcome> {
        let (tx, rx) = oneshot::channel();
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        self.tx.send(Command::Ask { id, input, speak: true, reply_to: Some(tx) }).ok()?;
        rx.await.ok()
    }

    /// Uses these providers from the next turn on (a new key or base URL).
    pub fn set_providers(&self, providers: Providers) {
        let _ = self.tx.send(Command::Providers(Box::new(providers)));
    }

    /// The persona from the next turn on; the conversation so far stays.
    pub fn set_persona(&self, persona: &str) {
        let _ = self.tx.send(Command::Persona(persona.to_string()));
    }

    /// The audio the microphone captured for a recent spoken turn.
    pub async fn turn_audio(&self, turn: TurnId) -> Option<Arc<Pcm>> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::TurnAudio(turn, tx)).ok()?;
        rx.await.ok().flatten()
    }

    /// Stops the turn in flight, if any.
    pub fn cancel(&self) {
        let _ = self.tx.send(Command::Cancel);
    }

    /// Starts a new conversation: the history so far is no longer sent to the
    /// model, and the next turn starts a new conversation file.
    pub fn clear_history(&self) {
        let _ = self.tx.send(Command::ClearHistory);
    }

    /// Continues a saved conversation: its turns become the context again and
    /// new turns are added to its file.
    pub async fn open_conversation(&self, id: &str) -> std::io::Result<()> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Open(id.to_string(), tx)).map_err(|_| std::io::Error::other("the engine has stopped"))?;
        rx.await.map_err(|_| std::io::Error::other("the engine has stopped"))?
    }

    /// Applies to the next turn.
    pub fn set_settings(&self, settings: TurnSettings) {
        let _ = self.tx.send(Command::Settings(Box::new(settings)));
    }

    /// A copy of the conversation as it stands.
    pub async fn conversation(&self) -> Option<Conversation> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::History(tx)).ok()?;
        rx.await.ok()
    }
}

struct Running {
    cancel: CancellationToken,
    task: JoinHandle<TurnOutcome>,
    reply_to: Option<oneshot::Sender<TurnOutcome>>,
}

/// Where finished turns are kept, when history is on.
struct Keeper {
    history: History,
    log: Option<ConversationLog>,
}

impl Keeper {
    /// Appends a turn, starting the conversation's file on its first turn.
    /// Records are numbered within their conversation (event turn ids count
    /// across the session).
    fn keep(&mut self, mut record: TurnRecord) -> std::io::Result<()> {
        if self.log.is_none() {
            self.log = Some(self.history.start()?);
        }
        let log = self.log.as_mut().expect("just started");
        record.turn = log.next_turn();
        log.append(&record)
    }
}

/// Starts the engine on the current tokio runtime. It runs until every handle
/// is dropped. With `history`, every finished turn is appended to disk.
pub fn spawn(
    conversation: Conversation,
    providers: Providers,
    settings: TurnSettings,
    output: Arc<dyn AudioOutput>,
    history: Option<History>,
) -> (EngineHandle, mpsc::UnboundedReceiver<Event>) {
    let (tx, mut commands) = mpsc::unbounded_channel();
    let (events, events_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut conversation = conversation;
        let mut settings = settings;
        let mut providers = providers;
        let mut keeper = history.map(|history| Keeper { history, log: None });
        let mut heard: VecDeque<(TurnId, Arc<Pcm>)> = VecDeque::new();
        let mut running: Option<Running> = None;
        loop {
            let command = match running.as_mut() {
                Some(r) => tokio::select! {
                    c = commands.recv() => c,
                    outcome = &mut r.task => {
                        let r = running.take().unwrap();
                        finish(&mut conversation, keeper.as_mut(), &events, outcome.ok(), r.reply_to);
                        continue;
                    }
                },
                None => commands.recv().await,
            };
            let Some(command) = command else { break };
            if matches!(command, Command::Ask { .. } | Command::Cancel | Command::ClearHistory | Command::Open(..)) {
                if let Some(r) = running.take() {
                    r.cancel.cancel();
                    finish(&mut conversation, keeper.as_mut(), &events, r.task.await.ok(), r.reply_to);
                }
            }
            match command {
                Command::Ask { id, input, speak, reply_to } => {
                    if let TurnInput::Audio { samples, sample_rate } = &input {
                        heard.push_back((id, Arc::new(Pcm { samples: samples.clone(), sample_rate: *sample_rate })));
                        if heard.len() > KEEP_AUDIO_TURNS {
                            heard.pop_front();
                        }
                    }
                    let cancel = CancellationToken::new();
                    let emit = Emitter { turn: id, tx: events.clone() };
                    let mut settings = settings.clone();
                    settings.speak &= speak;
                    let (conv, providers, output, token) = (conversation.clone(), providers.clone(), output.clone(), cancel.clone());
                    let task = tokio::spawn(async move { run_turn(input, &conv, &providers, &settings, output, emit, token).await });
                    running = Some(Running { cancel, task, reply_to });
                }
                Command::Cancel => {}
                Command::ClearHistory => {
                    conversation.clear();
                    if let Some(k) = keeper.as_mut() {
                        k.log = None;
                    }
                }
                Command::Open(id, reply) => {
                    let _ = reply.send(open(&mut conversation, keeper.as_mut(), &id));
                }
                Command::Settings(s) => settings = *s,
                Command::Providers(p) => providers = *p,
                Command::Persona(p) => conversation.set_persona(&p),
                Command::TurnAudio(id, tx) => drop(tx.send(heard.iter().find(|(t, _)| *t == id).map(|(_, a)| a.clone()))),
                Command::History(tx) => drop(tx.send(conversation.clone())),
            }
        }
        if let Some(r) = running {
            r.cancel.cancel();
            let _ = r.task.await;
        }
    });
    (EngineHandle { tx, next: Arc::new(AtomicU64::new(1)) }, events_rx)
}

/// Loads a saved conversation as the context and resumes its file.
fn open(conversation: &mut Conversation, keeper: Option<&mut Keeper>, id: &str) -> std::io::Result<()> {
    let keeper = keeper.ok_or_else(|| std::io::Error::other("history is off"))?;
    let records = keeper.history.open(id)?;
    let log = keeper.history.resume(id)?;
    conversation.clear();
    for r in &records {
        conversation.record(&r.user, &r.assistant);
    }
    keeper.log = Some(log);
    Ok(())
}

/// Records a finished turn in the history and on disk (a turn with no words
/// from the user, such as a fallback, is not history) and hands its outcome
/// to whoever waits. A failed write is a warning, never a lost conversation:
/// the turn is still in memory.
fn finish(
    conversation: &mut Conversation,
    keeper: Option<&mut Keeper>,
    events: &mpsc::UnboundedSender<Event>,
    outcome: Option<TurnOutcome>,
    reply_to: Option<oneshot::Sender<TurnOutcome>>,
) {
    let Some(outcome) = outcome else { return };
    if let Some(user) = &outcome.user_text {
        conversation.record(user, &outcome.heard);
        if let Some(keeper) = keeper {
            let record = TurnRecord {
                turn: 0,
                at_ms: now_ms(),
                user: user.clone(),
                assistant: outcome.heard.clone(),
                interrupted: outcome.interrupted,
                incomplete: outcome.incomplete,
                metrics: outcome.metrics,
            };
            if let Err(e) = keeper.keep(record) {
                let _ = events.send(Event::warning("history_not_saved", format!("This turn could not be saved to the history: {e}.")));
            }
        }
    }
    if let Some(tx) = reply_to {
        let _ = tx.send(outcome);
    }
}
