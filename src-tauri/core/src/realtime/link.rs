//! Realtime mode's link to the provider: one task owns the WebSocket,
//! configures each new session (instructions, voice, transcription, turn
//! detection, tools, then the conversation so far as context), reconnects
//! with backoff and jitter when the connection is lost (never when the key
//! or the request was refused), and rotates to a fresh session before the
//! server's limit, at an idle moment. A turn borrows the link: while it
//! holds it, the server's events go to the turn. The state goes out as
//! `Event::Realtime`, rate limits as `Event::RateLimits`.

use super::connection::{Connection, Incoming};
use super::events::{ClientEvent, ErrorBody, FunctionTool, Item, ServerEvent, SessionConfig};
use crate::event::{Event, LinkState, RateLimitShown};
use crate::provider::{ChatMessage, ErrorKind, ProviderError, Role};
use crate::secrets::ApiKey;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Waits between attempts (±20 %), then gives up.
const BACKOFF_MS: [u64; 6] = [100, 500, 1000, 2000, 4000, 8000];
/// The longest a new session may take to be ready.
const SETUP_WAIT: Duration = Duration::from_secs(10);
/// Turns of the conversation a new session is given as context.
const REPLAY_TURNS: usize = 20;
/// The longest a new session waits for tool servers that are still starting.
const TOOLS_WAIT: Duration = Duration::from_secs(10);

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

enum Command {
    Context(Context),
    Send(Make),
    Begin(mpsc::UnboundedSender<LinkEvent>, Ready),
    End,
}

/// The handle; dropping it closes the connection.
pub struct Link {
    tx: mpsc::UnboundedSender<Command>,
}

/// A turn's hold on the link: what it sends, and what comes back.
pub struct TurnLink {
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
        let _ = self.tx.send(Command::End);
    }
}

impl Link {
    /// Connects in the background; the state is reported on `events`.
    pub fn start(setup: LinkSetup, context: Context, events: mpsc::UnboundedSender<Event>) -> Link {
        let (tx, commands) = mpsc::unbounded_channel();
        let actor = Actor { setup, context, events, commands, turn: None, waiting: Vec::new() };
        tokio::spawn(actor.run());
        Link { tx }
    }

    /// The context a session made from now on starts with.
    pub fn set_context(&self, context: Context) {
        let _ = self.tx.send(Command::Context(context));
    }

    /// Takes the link for a turn once it is connected; an error when it
    /// cannot connect (the key refused, or every attempt failed).
    pub async fn begin(&self) -> Result<TurnLink, ProviderError> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let (reply, ready) = oneshot::channel();
        let gone = || ProviderError::new(ErrorKind::Network, "Realtime mode has stopped.");
        self.tx.send(Command::Begin(events_tx, reply)).map_err(|_| gone())?;
        ready.await.map_err(|_| gone())??;
        Ok(TurnLink { tx: self.tx.clone(), events })
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
    turn: Option<mpsc::UnboundedSender<LinkEvent>>,
    /// Turns waiting for a connection.
    waiting: Vec<(mpsc::UnboundedSender<LinkEvent>, Ready)>,
}

/// Whether trying again cannot help: a refused key, no quota, a request
/// the server calls wrong (a bug, or a model it does not have).
fn fatal(e: &ProviderError) -> bool {
    matches!(e.kind, ErrorKind::Auth | ErrorKind::Quota | ErrorKind::BadRequest)
}

/// A server `error` event as a provider error of the usual kinds.
pub fn server_error(e: &ErrorBody) -> ProviderError {
    let code = e.code.as_deref().unwrap_or(e.kind.as_str());
    let kind = match code {
        "invalid_api_key" | "account_deactivated" | "authentication_error" => ErrorKind::Auth,
        "insufficient_quota" | "billing_hard_limit_reached" => ErrorKind::Quota,
        "rate_limit_exceeded" => ErrorKind::RateLimited { retry_after_ms: None },
        "server_error" => ErrorKind::Server,
        // The session limit: a close 1001 follows, and a new session.
        "session_expired" => ErrorKind::Timeout,
        _ if e.kind == "server_error" => ErrorKind::Server,
        _ => ErrorKind::BadRequest,
    };
    let message: String = e.message.chars().take(240).collect();
    ProviderError::new(kind, format!("The Realtime server said: {message}"))
}

/// The wait before attempt `n` (1-based), ±20 %.
fn backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let base = BACKOFF_MS[(attempt as usize).saturating_sub(1).min(BACKOFF_MS.len() - 1)] as f64;
    // A random number without a crate: the std hasher's per-process keys.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let jitter = (h.finish() % 4001) as f64 / 10_000.0 - 0.2;
    Duration::from_millis((base * (1.0 + jitter)) as u64)
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
                    if fatal(&e) || attempt as usize > BACKOFF_MS.len() {
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
            for (tx, reply) in self.waiting.drain(..) {
                if reply.send(Ok(())).is_ok() {
                    self.turn = Some(tx);
                }
            }
            match self.serve(conn, expires_at).await {
                Ended::Dropped => return,
                Ended::Lost { code, reason } => {
                    let e = ProviderError::new(ErrorKind::Network, format!("The connection to the Realtime server was lost ({reason})."));
                    if let Some(turn) = self.turn.take() {
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
        for (_, reply) in self.waiting.drain(..) {
            let _ = reply.send(Err(e.clone()));
        }
        loop {
            match self.commands.recv().await {
                None => return false,
                Some(Command::Begin(tx, reply)) => {
                    self.waiting.push((tx, reply));
                    return true;
                }
                Some(Command::Context(c)) => self.context = c,
                Some(Command::Send(_) | Command::End) => {}
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
            Command::Begin(tx, reply) => self.waiting.push((tx, reply)),
            Command::Context(c) => self.context = c,
            // Audio or events while disconnected are dropped: the turn has been told.
            Command::Send(_) => {}
            Command::End => self.turn = None,
        }
    }

    /// Carries events both ways until the connection ends; rotates to a new
    /// session before `expires_at`, when no turn holds the link.
    async fn serve(&mut self, mut conn: Connection, expires_at: Option<u64>) -> Ended {
        let mut rotate_at = expires_at.map(|at| instant_at(at, self.setup.rotate_before));
        loop {
            let rotate_now = rotate_at.is_some_and(|at| Instant::now() >= at) && self.turn.is_none();
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
                        if let Some(turn) = self.turn.take() {
                            let _ = turn.send(LinkEvent::Server(ServerEvent::Error { error }));
                        }
                        return Ended::Fatal(e);
                    }
                    Some(Incoming::Event(e)) => match &self.turn {
                        Some(turn) => drop(turn.send(LinkEvent::Server(e))),
                        None => tracing::debug!(?e, "Realtime event between turns"),
                    },
                    Some(Incoming::Malformed(m)) => tracing::warn!(message = m, "Realtime message not understood"),
                    Some(Incoming::Closed { code, reason }) => return Ended::Lost { code, reason },
                    None => return Ended::Lost { code: None, reason: "the connection ended".into() },
                },
                c = self.commands.recv() => match c {
                    None => return Ended::Dropped,
                    Some(Command::Send(make)) => drop(conn.send(make)),
                    Some(Command::Begin(tx, reply)) => {
                        if reply.send(Ok(())).is_ok() {
                            self.turn = Some(tx);
                        }
                    }
                    Some(Command::End) => self.turn = None,
                    Some(Command::Context(c)) => {
                        // A new persona (or customer) applies to this session at once.
                        if c.instructions != self.context.instructions {
                            let session = configured(&self.setup, &c).await;
                            conn.send(|event_id| ClientEvent::SessionUpdate { event_id, session: Box::new(session) });
                        }
                        self.context = c;
                    }
                },
                _ = tokio::time::sleep_until(rotation), if self.turn.is_none() => {}
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

/// Opens and configures a session: `session.created`, our `session.update`,
/// the conversation as items, `session.updated`. Returns the connection and
/// the session's `expires_at`.
async fn connect(setup: &LinkSetup, context: &Context) -> Result<(Connection, Option<u64>), ProviderError> {
    let mut conn = Connection::open(&setup.base_url, setup.key.as_ref(), &setup.model).await?;
    let created = next_setup_event(&mut conn, |e| matches!(e, ServerEvent::SessionCreated { .. })).await?;
    let expires_at = match created {
        ServerEvent::SessionCreated { session } => session["expires_at"].as_u64(),
        _ => None,
    };
    let session = configured(setup, context).await;
    conn.send(|event_id| ClientEvent::SessionUpdate { event_id, session: Box::new(session) });
    for item in replay(&context.turns) {
        conn.send(|event_id| ClientEvent::CreateItem { event_id, item });
    }
    next_setup_event(&mut conn, |e| matches!(e, ServerEvent::SessionUpdated { .. })).await?;
    Ok((conn, expires_at))
}

/// The session Sori asks for: the setup's, with the context's instructions
/// and the tools as they are now.
async fn configured(setup: &LinkSetup, context: &Context) -> SessionConfig {
    setup.tools.ready(TOOLS_WAIT).await;
    let mut session = setup.session.clone();
    session.instructions = context.instructions.clone();
    session.tools = setup.tools.specs().into_iter().map(|t| FunctionTool::new(t.name, t.description, t.parameters)).collect();
    session
}

/// The last turns as text items: the user's words and the answers as heard;
/// tool calls are left out (their results are in the answers).
pub fn replay(turns: &[Vec<ChatMessage>]) -> Vec<Item> {
    let from = turns.len().saturating_sub(REPLAY_TURNS);
    turns[from..]
        .iter()
        .flatten()
        .filter(|m| m.tool_calls.is_empty() && !m.content.trim().is_empty())
        .filter_map(|m| match m.role {
            Role::User => Some(Item::user_text(m.content.clone())),
            Role::Assistant => Some(Item::assistant_text(m.content.clone())),
            _ => None,
        })
        .collect()
}

/// Waits for the event `wanted` while a session is set up; an error event
/// or a close on the way is the setup's failure.
async fn next_setup_event(conn: &mut Connection, wanted: impl Fn(&ServerEvent) -> bool) -> Result<ServerEvent, ProviderError> {
    let deadline = Instant::now() + SETUP_WAIT;
    loop {
        let next = tokio::time::timeout_at(deadline, conn.next()).await;
        match next {
            Err(_) => return Err(ProviderError::new(ErrorKind::Timeout, "The Realtime server did not set the session up within 10 s.")),
            Ok(Some(Incoming::Event(ServerEvent::Error { error }))) => return Err(server_error(&error)),
            Ok(Some(Incoming::Event(e))) if wanted(&e) => return Ok(e),
            Ok(Some(Incoming::Event(_) | Incoming::Malformed(_))) => continue,
            Ok(Some(Incoming::Closed { code: Some(4000), reason })) => {
                return Err(ProviderError::new(ErrorKind::BadRequest, format!("The Realtime server refused this interface ({reason}).")))
            }
            Ok(Some(Incoming::Closed { reason, .. })) => {
                return Err(ProviderError::new(ErrorKind::Network, format!("The Realtime server closed the connection ({reason}).")))
            }
            Ok(None) => return Err(ProviderError::new(ErrorKind::Network, "The Realtime server closed the connection.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_with_jitter_and_refusals_are_final() {
        for (attempt, base) in [(1u32, 100u64), (3, 1000), (6, 8000), (9, 8000)] {
            let w = backoff(attempt).as_millis() as u64;
            assert!(w >= base * 8 / 10 && w <= base * 12 / 10, "attempt {attempt}: {w} ms");
        }
        let body = |code: &str| ErrorBody { kind: "invalid_request_error".into(), code: Some(code.into()), message: "m".into(), event_id: None };
        assert!(fatal(&server_error(&body("invalid_api_key"))));
        assert!(fatal(&server_error(&body("insufficient_quota"))));
        assert!(!fatal(&server_error(&body("rate_limit_exceeded"))));
        assert!(!fatal(&server_error(&body("session_expired"))));
        assert!(!fatal(&ProviderError::new(ErrorKind::Network, "x")));
    }

    #[test]
    fn the_replay_is_the_words_as_heard_without_tool_calls() {
        use crate::provider::ToolCall;
        let call = ToolCall { id: "c1".into(), name: "lookup_order".into(), arguments: "{}".into() };
        let turns = vec![vec![
            ChatMessage::new(Role::User, "주문 어디쯤이에요?"),
            ChatMessage::assistant_calling("", vec![call]),
            ChatMessage::tool_result("c1", "{\"status\":\"shipped\"}"),
            ChatMessage::new(Role::Assistant, "내일 도착해요."),
        ]];
        assert_eq!(replay(&turns), vec![Item::user_text("주문 어디쯤이에요?"), Item::assistant_text("내일 도착해요.")]);
        let many: Vec<Vec<ChatMessage>> = (0..30).map(|i| vec![ChatMessage::new(Role::User, format!("q{i}"))]).collect();
        let items = replay(&many);
        assert_eq!((items.len(), items[0].clone()), (REPLAY_TURNS, Item::user_text("q10")));
    }
}
