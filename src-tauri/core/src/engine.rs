//! The engine: one task that owns the conversation, the phase and the
//! speaker, and runs one job at a time (a turn, or a sound: a recording
//! played back, a voice preview), with a cloneable [`EngineHandle`] to
//! command it. A new job or a cancel stops the one in flight first, so only
//! one thing ever plays and the microphone always knows when Sori speaks; a
//! stopped turn's history keeps only what was heard. Events go out on one
//! channel, in order, for the window, the CLI or a server to render; the
//! phase can also be followed directly ([`EngineHandle::phase`]).

use crate::audio::output::AudioOutput;
use crate::audio::Pcm;
use crate::conversation::Conversation;
use crate::event::{Event, Incomplete, Phase, Sound, TurnId};
use crate::history::{History, HistoryWriter};
use crate::phase::PhaseCell;
use crate::provider::{ChatMessage, ProviderError, Providers, Role};
use crate::turn::speaker::{self, Voice};
use crate::turn::{run_turn, Emitter, TurnInput, TurnOutcome, TurnSettings};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinError, JoinHandle};
use tokio_util::sync::CancellationToken;

#[path = "engine_memory.rs"]
mod memory;
#[path = "engine_realtime.rs"]
mod realtime_mode;

/// Captured audio of this many recent turns is kept for replay.
const KEEP_AUDIO_TURNS: usize = 20;

/// Why a saved conversation could not be continued.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("History is turned off, so there is no saved conversation to continue.")]
    HistoryOff,
    #[error("The engine has stopped.")]
    Stopped,
    #[error("The conversation could not be read: {0}")]
    Io(#[from] std::io::Error),
}

enum Command {
    Ask { id: TurnId, input: TurnInput, speak: bool, reply_to: Option<oneshot::Sender<TurnOutcome>> },
    Replay(TurnId, oneshot::Sender<Option<Duration>>),
    Preview { text: String, voice: Voice, reply_to: oneshot::Sender<Result<(), ProviderError>> },
    Cancel,
    UserSpeaking,
    NoSpeech,
    Early { samples: Vec<i16>, sample_rate: u32 },
    ForgetEarly,
    Providers(Box<Providers>),
    Persona(String),
    Settings(Box<TurnSettings>),
    TurnAudio(TurnId, oneshot::Sender<Option<Arc<Pcm>>>),
    Realtime(Option<Box<crate::realtime::link::LinkSetup>>),
    Stream(Vec<i16>),
    ClearHistory,
    Open(String, oneshot::Sender<Result<(), OpenError>>),
    History(oneshot::Sender<Conversation>),
}

/// Commands into a running engine; cheap to clone. Every method returns at
/// once (or once the engine has answered): results arrive as events.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::UnboundedSender<Command>,
    /// Turn ids are handed out here, so that the asker knows its turn's id
    /// before any event about it arrives.
    next: Arc<AtomicU64>,
    phase: watch::Receiver<Phase>,
}

impl EngineHandle {
    fn send(&self, command: Command) {
        let _ = self.tx.send(command);
    }

    /// Starts a turn, stopping whatever plays (that is barge-in).
    pub fn ask(&self, input: TurnInput) -> TurnId {
        self.ask_with(input, true)
    }

    /// Starts a turn; with `speak` false the reply is only shown (a typed
    /// question when the user has turned speech off).
    pub fn ask_with(&self, input: TurnInput, speak: bool) -> TurnId {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        self.send(Command::Ask { id, input, speak, reply_to: None });
        id
    }

    /// Starts a turn and waits for its outcome, kept in the history by then
    /// (for the CLI and tests).
    pub async fn ask_and_wait(&self, input: TurnInput) -> Option<TurnOutcome> {
        let (tx, rx) = oneshot::channel();
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        self.tx.send(Command::Ask { id, input, speak: true, reply_to: Some(tx) }).ok()?;
        rx.await.ok()
    }

    /// Plays what the microphone captured for a recent spoken turn, after
    /// stopping whatever plays; resolves to its length once it starts, or
    /// `None` when no recording is kept for that turn.
    pub async fn replay(&self, turn: TurnId) -> Option<Duration> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Replay(turn, tx)).ok()?;
        rx.await.ok().flatten()
    }

    /// Speaks `text` in `voice` without touching the conversation, after
    /// stopping whatever plays; resolves once it has been played.
    pub async fn preview(&self, text: &str, voice: Voice) -> Result<(), ProviderError> {
        let (tx, rx) = oneshot::channel();
        let stopped = || ProviderError::new(crate::provider::ErrorKind::BadResponse, "The engine has stopped.");
        self.tx.send(Command::Preview { text: text.to_string(), voice, reply_to: tx }).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Stops what runs (a turn, a replay, a preview), if anything.
    pub fn cancel(&self) {
        self.send(Command::Cancel);
    }

    /// The user started speaking (or pressed push-to-talk): listening, when
    /// nothing else runs.
    pub fn user_speaking(&self) {
        self.send(Command::UserSpeaking);
    }

    /// Push-to-talk was released with no speech in it.
    pub fn no_speech(&self) {
        self.send(Command::NoSpeech);
    }

    /// The user paused: transcribe what they said so far, in case it is the
    /// whole utterance (then its turn takes that transcript). Nothing shows.
    pub fn transcribe_early(&self, samples: Vec<i16>, sample_rate: u32) {
        self.send(Command::Early { samples, sample_rate });
    }

    /// The user went on after the pause: the early transcription is dropped.
    pub fn forget_early(&self) {
        self.send(Command::ForgetEarly);
    }

    /// What the engine is doing, to follow from any thread.
    pub fn phase(&self) -> watch::Receiver<Phase> {
        self.phase.clone()
    }

    /// Uses these providers from the next turn on (a new key or base URL).
    pub fn set_providers(&self, providers: Providers) {
        self.send(Command::Providers(Box::new(providers)));
    }

    /// The persona from the next turn on; the conversation so far stays.
    pub fn set_persona(&self, persona: &str) {
        self.send(Command::Persona(persona.to_string()));
    }

    /// Applies to the next turn.
    pub fn set_settings(&self, settings: TurnSettings) {
        self.send(Command::Settings(Box::new(settings)));
    }

    /// Runs turns in Realtime mode over this link from the next turn on
    /// (`None`: the chained pipeline). The conversation carries over.
    pub fn set_realtime(&self, setup: Option<crate::realtime::link::LinkSetup>) {
        self.send(Command::Realtime(setup.map(Box::new)));
    }

    /// Microphone audio (16 kHz mono) for the Realtime server's voice
    /// detection, when it ends the turns; otherwise ignored.
    pub fn stream(&self, samples: Vec<i16>) {
        self.send(Command::Stream(samples));
    }

    /// The audio the microphone captured for a recent spoken turn.
    pub async fn turn_audio(&self, turn: TurnId) -> Option<Arc<Pcm>> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::TurnAudio(turn, tx)).ok()?;
        rx.await.ok().flatten()
    }

    /// Starts a new conversation: the history so far is no longer sent to the
    /// model, and the next turn starts a new conversation file.
    pub fn clear_history(&self) {
        self.send(Command::ClearHistory);
    }

    /// Continues a saved conversation: its turns become the context again and
    /// new turns are added to its file.
    pub async fn open_conversation(&self, id: &str) -> Result<(), OpenError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Open(id.to_string(), tx)).map_err(|_| OpenError::Stopped)?;
        rx.await.map_err(|_| OpenError::Stopped)?
    }

    /// A copy of the conversation as it stands.
    pub async fn conversation(&self) -> Option<Conversation> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::History(tx)).ok()?;
        rx.await.ok()
    }
}

/// What a job was, for finishing it.
enum Kind {
    Turn { id: TurnId, reply_to: Option<oneshot::Sender<TurnOutcome>> },
    Sound(Sound),
}

struct Running {
    cancel: CancellationToken,
    task: JoinHandle<Option<TurnOutcome>>,
    kind: Kind,
}

/// Everything the engine task owns.
struct Engine {
    conversation: Conversation,
    settings: TurnSettings,
    providers: Providers,
    output: Arc<dyn AudioOutput>,
    phase: PhaseCell,
    events: mpsc::UnboundedSender<Event>,
    history: Option<HistoryWriter>,
    recordings: VecDeque<(TurnId, Arc<Pcm>)>,
    running: Option<Running>,
    /// The utterance being transcribed ahead of its end, if any.
    early: Option<crate::turn::early::Early>,
    /// Realtime mode's link, when turns run speech to speech.
    realtime: Option<realtime_mode::RealtimeMode>,
    /// The handles' turn numbers: the server starts turns too.
    next: Arc<AtomicU64>,
}

/// Starts the engine on the current tokio runtime. It runs until every handle
/// is dropped. With `history`, every finished turn is appended to disk.
/// Loads what the stages need before the first turn (a local model takes a
/// second or two); a model that cannot load is a warning now, not a surprise
/// at the first question.
fn warm_up(providers: &Providers, settings: &TurnSettings, persona: &str, events: &mpsc::UnboundedSender<Event>) {
    let (stt, chat, tts, events) = (providers.stt.clone(), providers.chat.clone(), providers.tts.clone(), events.clone());
    let start = [ChatMessage::new(Role::System, persona)];
    // The tools as the first turn will offer them, so a local model reads them now.
    let specs = providers.tools.specs();
    // The fillers a tool turn may need, in the languages it may be in.
    let fillers = match settings.language.as_deref() {
        _ if !settings.speak || providers.tools.is_empty() => Vec::new(),
        Some(l) => vec![crate::turn::filler::text(l.starts_with("ko"))],
        None => vec![crate::turn::filler::FILLER_KO, crate::turn::filler::FILLER_EN],
    };
    let (made, voice) = (providers.fillers.clone(), settings.voice.clone());
    tokio::spawn(async move {
        let (heard, answered, spoken) = tokio::join!(stt.warm_up(), chat.warm_up(&start, &specs), tts.warm_up());
        for e in [heard.err(), answered.err(), spoken.err()].into_iter().flatten() {
            let _ = events.send(Event::warning(crate::event::WarningCode::LocalModel, e.message));
        }
        for text in fillers {
            made.prepare(tts.clone(), &voice, text).await;
        }
    });
}

pub fn spawn(
    conversation: Conversation,
    providers: Providers,
    settings: TurnSettings,
    output: Arc<dyn AudioOutput>,
    history: Option<History>,
) -> (EngineHandle, mpsc::UnboundedReceiver<Event>) {
    let (tx, mut commands) = mpsc::unbounded_channel();
    let (events, events_rx) = mpsc::unbounded_channel();
    let phase = PhaseCell::new(events.clone());
    let next = Arc::new(AtomicU64::new(1));
    let handle = EngineHandle { tx, next: next.clone(), phase: phase.subscribe() };
    let history = history.and_then(|h| match HistoryWriter::start(h, events.clone()) {
        Ok(writer) => Some(writer),
        Err(e) => {
            let _ = events.send(Event::warning(crate::event::WarningCode::HistoryNotSaved, format!("History is off: {e}.")));
            None
        }
    });
    warm_up(&providers, &settings, &conversation.persona, &events);
    let mut engine = Engine {
        conversation,
        settings,
        providers,
        output,
        phase,
        events,
        history,
        recordings: VecDeque::new(),
        running: None,
        early: None,
        realtime: None,
        next,
    };
    tokio::spawn(async move {
        loop {
            let link = engine.realtime.as_ref().map(|m| m.link.clone());
            let job = async {
                match engine.running.as_mut() {
                    Some(r) => (&mut r.task).await,
                    None => std::future::pending().await,
                }
            };
            let command = tokio::select! {
                c = commands.recv() => c,
                done = job => {
                    let r = engine.running.take().expect("running");
                    // Whatever the job started (a speaker still running after a panic) stops too.
                    r.cancel.cancel();
                    engine.finished(r.kind, done);
                    continue;
                }
                _ = realtime_mode::heard(link) => {
                    engine.server_turn().await;
                    continue;
                }
            };
            let Some(command) = command else { break };
            engine.handle(command).await;
        }
        engine.stop().await;
    });
    (handle, events_rx)
}

impl Engine {
    async fn handle(&mut self, command: Command) {
        let stops = match &command {
            Command::Ask { .. } | Command::Preview { .. } | Command::Cancel | Command::ClearHistory | Command::Open(..) => true,
            // Asking to replay a turn with no recording changes nothing.
            Command::Replay(turn, _) => self.recordings.iter().any(|(t, _)| t == turn),
            _ => false,
        };
        if stops {
            self.stop().await;
        }
        match command {
            Command::Ask { id, input, speak, reply_to } => self.ask(id, input, speak, reply_to),
            Command::Replay(turn, reply) => {
                let audio = self.recordings.iter().find(|(t, _)| *t == turn).map(|(_, a)| a.clone());
                let _ = reply.send(audio.as_ref().map(|a| a.duration()));
                if let Some(audio) = audio {
                    self.play(Sound::Replay, move |output, emit, cancel| async move { play_recording(&audio, &output, &emit, &cancel).await });
                }
            }
            Command::Preview { text, voice, reply_to } => {
                let (tts, mut settings) = (self.providers.tts.clone(), self.settings.clone());
                settings.voice = voice;
                self.play(Sound::Preview, move |output, emit, cancel| async move {
                    let spoken = speaker::speak_text(&text, tts, output, &settings, emit, cancel).await;
                    let _ = reply_to.send(spoken.error.map_or(Ok(()), Err));
                });
            }
            Command::Cancel => {}
            Command::UserSpeaking if self.running.is_none() => self.phase.set(Phase::Listening),
            Command::NoSpeech if self.phase.get() == Phase::Listening => self.phase.set(Phase::Idle),
            Command::UserSpeaking | Command::NoSpeech => {}
            Command::Early { samples, sample_rate } => {
                self.early = Some(crate::turn::early::Early::start(samples, sample_rate, self.providers.stt.clone(), &self.settings));
            }
            Command::ForgetEarly => self.early = None,
            Command::Providers(p) => {
                warm_up(&p, &self.settings, &self.conversation.persona, &self.events);
                self.providers = *p;
            }
            Command::Persona(p) => {
                self.conversation.set_persona(&p);
                self.share_context();
            }
            Command::Realtime(setup) => self.set_realtime(setup.map(|s| *s)),
            Command::Stream(samples) => self.stream(&samples),
            Command::Settings(s) => self.settings = *s,
            Command::TurnAudio(id, tx) => drop(tx.send(self.recordings.iter().find(|(t, _)| *t == id).map(|(_, a)| a.clone()))),
            Command::ClearHistory => {
                self.conversation.clear();
                if let Some(h) = &self.history {
                    h.new_conversation();
                }
                self.share_context();
            }
            Command::Open(id, reply) => {
                let _ = reply.send(self.open(&id).await);
            }
            Command::History(tx) => drop(tx.send(self.conversation.clone())),
        }
    }

    fn ask(&mut self, id: TurnId, input: TurnInput, speak: bool, reply_to: Option<oneshot::Sender<TurnOutcome>>) {
        if let TurnInput::Audio { samples, sample_rate } = &input {
            self.recordings.push_back((id, Arc::new(Pcm { samples: samples.clone(), sample_rate: *sample_rate })));
            if self.recordings.len() > KEEP_AUDIO_TURNS {
                self.recordings.pop_front();
            }
        }
        let cancel = CancellationToken::new();
        let emit = Emitter::with_phase(id, self.events.clone(), self.phase.clone());
        let mut settings = self.settings.clone();
        settings.speak &= speak;
        let (conversation, mut providers, output, token) = (self.conversation.clone(), self.providers.clone(), self.output.clone(), cancel.clone());
        // An utterance transcribed at its last pause is not transcribed again.
        if let (Some(early), TurnInput::Audio { samples, .. }) = (self.early.take(), &input) {
            if early.covers(samples) {
                providers.stt = Arc::new(crate::turn::early::WithEarly::new(providers.stt.clone(), early));
            }
        }
        let task = match self.realtime.as_ref().map(|m| m.link.clone()) {
            Some(link) => {
                let question = crate::realtime::confirm::Question { input, awaiting: conversation.awaiting_confirmation() };
                tokio::spawn(async move { Some(crate::realtime::turn::run_turn(question, link, &providers, &settings, output, emit, token).await) })
            }
            None => tokio::spawn(async move { Some(run_turn(input, &conversation, &providers, &settings, output, emit, token).await) }),
        };
        self.running = Some(Running { cancel, task, kind: Kind::Turn { id, reply_to } });
    }

    /// Starts playing a sound as the one job.
    fn play<F, Fut>(&mut self, sound: Sound, job: F)
    where
        F: FnOnce(Arc<dyn AudioOutput>, Emitter, CancellationToken) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let cancel = CancellationToken::new();
        let emit = Emitter::with_phase(0, self.events.clone(), self.phase.clone());
        let (output, token) = (self.output.clone(), cancel.clone());
        emit.send(Event::Playing { sound, playing: true });
        let task = tokio::spawn(async move {
            job(output.clone(), emit, token.clone()).await;
            if token.is_cancelled() {
                output.flush();
            }
            None
        });
        self.running = Some(Running { cancel, task, kind: Kind::Sound(sound) });
    }

    /// Stops the job in flight, if any, and finishes it.
    async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.cancel.cancel();
            let done = r.task.await;
            self.finished(r.kind, done);
        }
    }

    /// A job ended. A finished turn goes into the conversation and the history
    /// (a turn with no words from the user, such as a fallback, is not
    /// history); whoever waits for it hears once it is kept. A turn that
    /// panicked still ends, as incomplete, and Sori goes back to idle.
    fn finished(&mut self, kind: Kind, done: Result<Option<TurnOutcome>, JoinError>) {
        match kind {
            Kind::Turn { id, reply_to } => {
                let outcome = match done {
                    Ok(Some(outcome)) => outcome,
                    _ => self.panicked(id),
                };
                self.keep(outcome, reply_to);
            }
            Kind::Sound(sound) => {
                if done.is_err() {
                    self.output.flush();
                }
                let _ = self.events.send(Event::Playing { sound, playing: false });
            }
        }
        self.phase.set(Phase::Idle);
    }

    fn panicked(&self, id: TurnId) -> TurnOutcome {
        // Whatever the turn had queued is no longer accounted for: silence it.
        self.output.flush();
        let outcome = TurnOutcome {
            user_text: None,
            heard: String::new(),
            heard_chars: 0,
            reply: String::new(),
            interrupted: false,
            incomplete: true,
            reason: Some(Incomplete::Internal),
            metrics: Default::default(),
            tool_messages: Vec::new(),
            answer_from: 0,
            request_type: None,
        };
        Emitter::with_phase(id, self.events.clone(), self.phase.clone()).ended(&outcome);
        outcome
    }
}

/// Plays a recording to its end (or until cancelled), as Sori speaking: the
/// microphone is gated meanwhile, so Sori never answers its own replay.
async fn play_recording(audio: &Pcm, output: &Arc<dyn AudioOutput>, emit: &Emitter, cancel: &CancellationToken) {
    emit.phase(Phase::Speaking);
    let end = output.queued_samples() + audio.samples.len() as u64;
    output.queue(audio);
    speaker::played_until(output.as_ref(), end, cancel).await;
}
