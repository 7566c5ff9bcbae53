//! Realtime mode's link to the provider: one task owns the WebSocket,
//! configures each new session (instructions, voice, transcription, turn
//! detection, tools, then the conversation so far as context), reconnects
//! with backoff and jitter when the connection is lost (never when the key
//! or the request was refused), and rotates to a fresh session before the
//! server's limit, at an idle moment. A turn borrows the link: while it
//! holds it, the server's events go to the turn. When the server's voice
//! detection hears the user start (the microphone streams to it), what
//! follows belongs to a new turn: the turn holding the link hears the start
//! (a barge-in) and lets go, the events wait in a backlog, and
//! [`Link::heard`] wakes whoever starts the next turn. The state goes out
//! as `Event::Realtime`, rate limits as `Event::RateLimits`.

use super::connection::{Connection, Incoming};
use super::events::{ClientEvent, ServerEvent, SessionConfig};
use super::failures::{backoff, fatal, server_error, ATTEMPTS};
use super::setup::{configured, connect, REPLAY_TURNS};
use crate::event::{Event, LinkState, RateLimitShown};
use crate::provider::{ChatMessage, ErrorKind, ProviderError};
use crate::secrets::ApiKey;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;

/// Events kept for a turn the server started before anyone takes it up.
const BACKLOG_MAX: usize = 4096;

/// Where and how to connect. The instructions come with the [`Context`].
#[derive(Clone)]
pub struct LinkSetup {
    pub base_url: String,
    pub key: Option<ApiKey>,
    pub model: String,
    pub session: SessionConfig,
    /// The agent's tools, offered to each new session once their servers are up.
    pub tools: crate::tools::Tools,
    /// How long before the session's `expires_at` a new one replaces it.
    pub rotate_before: Duration,
}

impl LinkSetup {
    /// A setup with no tools yet (the engine adds the agent's), rotating
    /// two minutes before the session's limit.
    pub fn new(base_url: impl Into<String>, key: Option<ApiKey>, model: impl Into<String>, session: SessionConfig) -> Self {
        LinkSetup { base_url: base_url.into(), key, model: model.into(), session, tools: Default::default(), rotate_before: Duration::from_secs(120) }
    }

    /// What tells two setups apart (the key only as its hash): a front end
    /// restarts the link only when this changes.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let key = self.key.as_ref().map(|k| format!("{:x}", sha2::Sha256::digest(k.expose().as_bytes()))).unwrap_or_default();
        let session = serde_json::to_string(&self.session).unwrap_or_default();
        format!("{}|{}|{key}|{session}|{:?}", self.base_url, self.model, self.rotate_before)
    }
}

/// What a new session starts from: the persona (with the customer's
/// context) and the conversation's turns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub instructions: String,
    pub turns: Vec<Vec<ChatMessage>>,
}

/// What a turn receives while it holds the link.
#[derive(Debug)]
pub enum LinkEvent {
    Server(ServerEvent),
    /// The connection broke; the link is reconnecting.
    Lost(ProviderError),
}

type Make = Box<dyn FnOnce(String) -> ClientEvent + Send>;
/// Where a turn waiting for the link hears whether it may go on.
type Ready = oneshot::Sender<Result<(), ProviderError>>;

/// A turn's channel, with the number that tells its hold from the next one's.
type Holder = (u64, mpsc::UnboundedSender<LinkEvent>);

enum Command {
    Context(Context),
    Send(Make),
    /// Microphone audio at 24 kHz for the server's voice detection.
    Append(Vec<i16>),
    /// A turn takes the link; `true`: the turn the server started, which takes its backlog.
    Begin(Holder, Ready, bool),
    End(u64),
}

/// The handle; dropping it closes the connection.
pub struct Link {
    tx: mpsc::UnboundedSender<Command>,
    holds: AtomicU64,
    heard: Arc<Notify>,
    stopped: StoppedAt,
}

/// When the server last said the user stopped speaking, as it arrived.
type StoppedAt = Arc<std::sync::Mutex<Option<std::time::Instant>>>;

/// A turn's hold on the link: what it sends, and what comes back.
pub struct TurnLink {
    id: u64,
    tx: mpsc::UnboundedSender<Command>,
    pub events: mpsc::UnboundedReceiver<LinkEvent>,
}

impl TurnLink {
    /// Sends `make(event_id)`; dropped when the connection is down.
    pub fn send(&self, make: impl FnOnce(String) -> ClientEvent + Send + 'static) {
        let _ = self.tx.send(Command::Send(Box::new(make)));
    }
}

impl Drop for TurnLink {
    fn drop(&mut self) {
        let _ = self.tx.send(Command::End(self.id));
    }
}

impl Link {
    /// Connects in the background; the state is reported on `events`.
    pub fn start(setup: LinkSetup, context: Context, events: mpsc::UnboundedSender<Event>) -> Link {
        let (tx, commands) = mpsc::unbounded_channel();
        let heard = Arc::new(Notify::new());
        let stopped = StoppedAt::default();
        let actor = Actor {
            stopped: stopped.clone(),
            setup,
            context,
            events,
            commands,
            turn: None,
            previous: None,
            backlog: Vec::new(),
            collecting: false,
            heard: heard.clone(),
            waiting: Vec::new(),
        };
        tokio::spawn(actor.run());
        Link { tx, holds: AtomicU64::new(1), heard, stopped }
    }

    /// When the server's `speech_stopped` last arrived: a turn taken up
    /// later still counts its time from then.
    pub fn speech_stopped_at(&self) -> Option<std::time::Instant> {
        *self.stopped.lock().unwrap()
    }

    /// Streams microphone audio (24 kHz) to the server's voice detection;
    /// dropped while the connection is down.
    pub fn append(&self, samples: Vec<i16>) {
        let _ = self.tx.send(Command::Append(samples));
    }

    /// Returns when the server has heard the user start a turn that no turn
    /// holds yet (at once, if that happened since the last call).
    pub async fn heard(&self) {
        self.heard.notified().await
    }

    /// The context a session made from now on starts with.
    pub fn set_context(&self, context: Context) {
        let _ = self.tx.send(Command::Context(context));
    }

    /// Takes the link for a turn once it is connected; an error when it
    /// cannot connect (the key refused, or every attempt failed).
    pub async fn begin(&self) -> Result<TurnLink, ProviderError> {
        self.take(false).await
    }

    /// Takes the link for the turn the server started (after [`Link::heard`]),
    /// with what the server has said of it so far; an error when that was
    /// lost with the connection.
    pub async fn begin_heard(&self) -> Result<TurnLink, ProviderError> {
        self.take(true).await
    }

    async fn take(&self, heard: bool) -> Result<TurnLink, ProviderError> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let (reply, ready) = oneshot::channel();
        let gone = || ProviderError::new(ErrorKind::Network, "Realtime mode has stopped.");
        let id = self.holds.fetch_add(1, Ordering::Relaxed);
        self.tx.send(Command::Begin((id, events_tx), reply, heard)).map_err(|_| gone())?;
        ready.await.map_err(|_| gone())??;
        Ok(TurnLink { id, tx: self.tx.clone(), events })
    }
}

/// Why a connection's service ended.
enum Ended {
    /// Every handle is gone.
    Dropped,
    Lost {
        code: Option<u16>,
        reason: String,
    },
    Fatal(ProviderError),
}

struct Actor {
    setup: LinkSetup,
    context: Context,
    events: mpsc::UnboundedSender<Event>,
    commands: mpsc::UnboundedReceiver<Command>,
    turn: Option<Holder>,
    /// The turn the user last spoke over: its own transcript may still come.
    previous: Option<Holder>,
    /// A turn the server started, waiting to be taken up.
    backlog: Vec<ServerEvent>,
    collecting: bool,
    heard: Arc<Notify>,
    stopped: StoppedAt,
    /// Turns waiting for a connection (and whether the server started each).
    waiting: Vec<(Holder, Ready, bool)>,
}

impl Actor {
    fn state(&self, state: LinkState, attempt: Option<u32>, wait: Option<Duration>, message: Option<String>, context_turns: Option<usize>) {
        let wait_ms = wait.map(|w| w.as_millis() as u64);
        let _ = self.events.send(Event::Realtime { state, attempt, wait_ms, message, context_turns });
    }

    async fn run(mut self) {
        let mut attempt = 0u32;
        loop {
            if attempt == 0 {
                self.state(LinkState::Connecting, None, None, None, None);
            }
            let (setup, context) = (self.setup.clone(), self.context.clone());
            let connecting = async move { connect(&setup, &context).await };
            tokio::pin!(connecting);
            let connected = loop {
                tokio::select! {
                    c = &mut connecting => break c,
                    c = self.commands.recv() => match c {
                        // Nobody left to connect for.
                        None => return,
                        Some(c) => self.idle_command(c),
                    },
                }
            };
            let (conn, expires_at) = match connected {
                Ok(c) => c,
                Err(e) => {
                    attempt += 1;
                    if fatal(&e) || attempt as usize > ATTEMPTS {
                        if !self.failed(e).await {
                            return;
                        }
                        attempt = 0;
                        continue;
                    }
                    let wait = e.retry_after().unwrap_or_else(|| backoff(attempt));
                    self.state(LinkState::Reconnecting, Some(attempt), Some(wait), Some(e.message), None);
                    if !self.wait(wait).await {
                        return;
                    }
                    continue;
                }
            };
            attempt = 0;
            self.state(LinkState::Connected, None, None, None, Some(self.context.turns.len().min(REPLAY_TURNS)));
            self.backlog.clear();
            self.collecting = false;
            for (holder, reply, heard) in std::mem::take(&mut self.waiting) {
                self.hold(holder, reply, heard);
            }
            match self.serve(conn, expires_at).await {
                Ended::Dropped => return,
                Ended::Lost { code, reason } => {
                    let e = ProviderError::new(ErrorKind::Network, format!("The connection to the Realtime server was lost ({reason})."));
                    if let Some((_, turn)) = self.turn.take() {
                        let _ = turn.send(LinkEvent::Lost(e.clone()));
                    }
                    // 1001 is the session limit: a new session at once, no attempt counted.
                    if code != Some(1001) {
                        attempt = 1;
                        let wait = backoff(attempt);
                        self.state(LinkState::Reconnecting, Some(attempt), Some(wait), Some(e.message), None);
                        if !self.wait(wait).await {
                            return;
                        }
                    } else {
                        self.state(LinkState::Reconnecting, Some(0), None, Some("The session reached its time limit.".into()), None);
                    }
                }
                Ended::Fatal(e) => {
                    if !self.failed(e).await {
                        return;
                    }
                }
            }
        }
    }

    /// Tells waiting turns and the window; then waits until a turn asks
    /// again (false: every handle is gone).
    async fn failed(&mut self, e: ProviderError) -> bool {
        self.state(LinkState::Failed, None, None, Some(e.message.clone()), None);
        for (_, reply, _) in self.waiting.drain(..) {
            let _ = reply.send(Err(e.clone()));
        }
        loop {
            match self.commands.recv().await {
                None => return false,
                Some(Command::Begin(holder, reply, heard)) => {
                    self.waiting.push((holder, reply, heard));
                    return true;
                }
                Some(Command::Context(c)) => self.context = c,
                Some(Command::End(id)) => self.end(id),
                Some(Command::Send(_) | Command::Append(_)) => {}
            }
        }
    }

    /// Sleeps before another attempt, keeping up with commands (false:
    /// every handle is gone).
    async fn wait(&mut self, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return true,
                c = self.commands.recv() => match c {
                    None => return false,
                    Some(c) => self.idle_command(c),
                },
            }
        }
    }

    /// A command while there is no connection.
    fn idle_command(&mut self, c: Command) {
        match c {
            Command::Begin(holder, reply, heard) => self.waiting.push((holder, reply, heard)),
            Command::Context(c) => self.context = c,
            // Audio or events while disconnected are dropped: the turn has been told.
            Command::Send(_) | Command::Append(_) => {}
            Command::End(id) => self.end(id),
        }
    }

    /// Gives the link to a turn. The turn the server started takes the
    /// backlog; another turn leaves it for that one.
    fn hold(&mut self, (id, tx): Holder, reply: Ready, heard: bool) {
        if !heard {
            if reply.send(Ok(())).is_ok() {
                self.turn = Some((id, tx));
            }
            return;
        }
        if !self.collecting {
            // A new session since the server heard the user: their words went with the old one.
            let lost =
                ProviderError::new(ErrorKind::Network, "What you said was lost with the connection to the Realtime server. Please say it again.");
            let _ = reply.send(Err(lost));
            return;
        }
        let backlog = std::mem::take(&mut self.backlog);
        self.collecting = false;
        if reply.send(Ok(())).is_ok() {
            for e in backlog {
                let _ = tx.send(LinkEvent::Server(e));
            }
            self.turn = Some((id, tx));
        }
    }

    /// A turn let go (a later turn's hold stays).
    fn end(&mut self, id: u64) {
        if self.turn.as_ref().is_some_and(|(t, _)| *t == id) {
            self.turn = None;
        }
        if self.previous.as_ref().is_some_and(|(t, _)| *t == id) {
            self.previous = None;
        }
    }

    /// An event for whoever it belongs to. The server hearing the user
    /// start is a new turn: the turn holding the link hears it (a barge-in)
    /// and lets go; what follows waits for the next turn.
    fn route(&mut self, e: ServerEvent) {
        let starts = matches!(e, ServerEvent::SpeechStarted { .. });
        if matches!(e, ServerEvent::SpeechStopped { .. }) {
            *self.stopped.lock().unwrap() = Some(std::time::Instant::now());
        }
        if matches!(e, ServerEvent::UserTranscript { .. } | ServerEvent::UserTranscriptFailed { .. }) {
            if let Some((_, previous)) = &self.previous {
                let _ = previous.send(LinkEvent::Server(e.clone()));
            }
        }
        if starts {
            if let Some((id, turn)) = self.turn.take() {
                let _ = turn.send(LinkEvent::Server(e.clone()));
                self.previous = Some((id, turn));
            }
            if !self.collecting {
                self.heard.notify_one();
            }
            self.collecting = true;
        }
        // While a turn the server started waits to be taken up, everything is its.
        if self.collecting {
            if self.backlog.len() < BACKLOG_MAX {
                self.backlog.push(e);
            }
            return;
        }
        match &self.turn {
            Some((_, turn)) => drop(turn.send(LinkEvent::Server(e))),
            None => tracing::debug!("a Realtime event between turns, ignored"),
        }
    }

    /// Carries events both ways until the connection ends; rotates to a new
    /// session before `expires_at`, when no turn holds the link.
    async fn serve(&mut self, mut conn: Connection, expires_at: Option<u64>) -> Ended {
        let mut rotate_at = expires_at.map(|at| instant_at(at, self.setup.rotate_before));
        loop {
            // Not while a turn holds the link, nor while the server hears the user.
            let idle = self.turn.is_none() && !self.collecting;
            let rotate_now = rotate_at.is_some_and(|at| Instant::now() >= at) && idle;
            if rotate_now {
                match connect(&self.setup, &self.context).await {
                    Ok((fresh, expires)) => {
                        // The old socket closes as it is dropped; the user heard no gap.
                        conn = fresh;
                        rotate_at = expires.map(|at| instant_at(at, self.setup.rotate_before));
                        self.state(LinkState::Connected, None, None, None, Some(self.context.turns.len().min(REPLAY_TURNS)));
                    }
                    // The old session still works until its limit: try again in a while.
                    Err(_) => rotate_at = Some(Instant::now() + Duration::from_secs(5)),
                }
                continue;
            }
            let rotation = rotate_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
            tokio::select! {
                incoming = conn.next() => match incoming {
                    Some(Incoming::Event(ServerEvent::RateLimits { rate_limits })) => {
                        let limits = rate_limits.into_iter().map(|r| RateLimitShown { name: r.name, limit: r.limit, remaining: r.remaining, reset_seconds: r.reset_seconds }).collect();
                        let _ = self.events.send(Event::RateLimits { limits });
                    }
                    Some(Incoming::Event(ServerEvent::Other { kind, .. })) => tracing::debug!(kind, "Realtime event ignored"),
                    Some(Incoming::Event(ServerEvent::Error { error })) if fatal(&server_error(&error)) && error.event_id.is_none() => {
                        let e = server_error(&error);
                        if let Some((_, turn)) = self.turn.take() {
                            let _ = turn.send(LinkEvent::Server(ServerEvent::Error { error }));
                        }
                        return Ended::Fatal(e);
                    }
                    Some(Incoming::Event(e)) => self.route(e),
                    Some(Incoming::Malformed(m)) => tracing::warn!(message = m, "Realtime message not understood"),
                    Some(Incoming::Closed { code, reason }) => return Ended::Lost { code, reason },
                    None => return Ended::Lost { code: None, reason: "the connection ended".into() },
                },
                c = self.commands.recv() => match c {
                    None => return Ended::Dropped,
                    Some(Command::Send(make)) => drop(conn.send(make)),
                    Some(Command::Append(samples)) => drop(conn.append_audio(&samples)),
                    Some(Command::Begin(holder, reply, heard)) => self.hold(holder, reply, heard),
                    Some(Command::End(id)) => self.end(id),
                    Some(Command::Context(c)) => {
                        // A new persona (or customer) applies to this session at once.
                        if c.instructions != self.context.instructions {
                            let session = configured(&self.setup, &c).await;
                            conn.send(|event_id| ClientEvent::SessionUpdate { event_id, session: Box::new(session) });
                        }
                        self.context = c;
                    }
                },
                _ = tokio::time::sleep_until(rotation), if idle => {}
            }
        }
    }
}

/// The moment `before` ahead of the unix time `at`.
fn instant_at(at: u64, before: Duration) -> Instant {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let left = Duration::from_secs(at).saturating_sub(now).saturating_sub(before);
    Instant::now() + left
}
