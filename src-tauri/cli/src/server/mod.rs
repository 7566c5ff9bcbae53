//! `sori-cli serve`: Sori's pipeline behind HTTP, one more front end over the
//! engine. Routes:
//! - `POST /voice-chat`: the tutorial's endpoint (multipart `audio` in,
//!   `audio/mpeg` out), or streamed as Server-Sent Events (`voice_chat.rs`, `sse.rs`);
//! - `GET /v1/voice`: a WebSocket for microphone audio in and speech out (`ws.rs`);
//! - `GET /v1/conversations/{id}`: a conversation's turns;
//! - `GET /healthz`, `GET /metrics` (Prometheus), and the demo page at `/`.
//!
//! Safe by default: loopback only unless told otherwise, a client token on
//! every request (`tokens.rs`), limits on size, length and time, a rate limit
//! per token, CORS only for origins named, and logs without keys, tokens or audio.

pub mod config;
mod demo;
pub mod errors;
mod http;
mod metrics;
mod mp3;
mod output;
mod rate_limit;
mod sse;
pub mod store;
pub mod tokens;
mod turn;
mod upload;
mod voice_chat;
mod ws;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use config::ServeOptions;
use sori_core::provider::Providers;
use sori_core::settings::Settings;
use sori_core::turn::TurnSettings;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::Store;
use tokio_util::sync::CancellationToken;

/// How much a request may bring and take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest request body.
    pub upload_bytes: usize,
    /// The longest recording.
    pub audio: Duration,
    /// The longest a turn may run.
    pub turn: Duration,
}

/// What every request handler shares.
pub struct State {
    pub providers: Providers,
    pub settings: Settings,
    pub turn_settings: TurnSettings,
    pub store: Store,
    pub tokens: tokens::TokenBook,
    pub limiter: rate_limit::RateLimiter,
    pub metrics: metrics::Metrics,
    pub limits: Limits,
    /// Clients need no token (loopback only).
    pub open: bool,
    /// Set when the server is shutting down: new turns are refused.
    pub draining: CancellationToken,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The WebSocket sessions, waited for at shutdown.
    pub sessions: tokio_util::task::TaskTracker,
    /// The providers with each customer's tools (`turn::providers_for`).
    customer_providers: Mutex<HashMap<String, Providers>>,
}

impl State {
    /// The lock that makes one conversation's turns take their turn.
    fn conversation_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() > 1000 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(id.to_string()).or_default().clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("--no-auth lets anyone who can reach the server use it, so it is refused on {0}: it works only on a loopback address (127.0.0.1 or ::1). Make tokens with `sori-cli serve token add NAME` instead.")]
    OpenOutsideLoopback(std::net::IpAddr),
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// The routes, over a built state.
pub fn router(state: Arc<State>, cors: &[String]) -> Router {
    let guarded = Router::new()
        .route("/voice-chat", post(voice_chat::voice_chat))
        .route("/v1/voice", get(ws::upgrade))
        .route("/v1/conversations/{id}", get(http::conversation))
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::guard))
        .layer(DefaultBodyLimit::max(state.limits.upload_bytes));
    let open = Router::new()
        .route("/", get(demo::page))
        .route("/demo.js", get(demo::script))
        .route("/healthz", get(http::healthz))
        .route("/metrics", get(http::metrics));
    let app = guarded.merge(open).layer(axum::middleware::from_fn_with_state(state.clone(), http::log_requests)).with_state(state);
    match http::cors(cors) {
        Some(layer) => app.layer(layer),
        None => app,
    }
}

/// Runs until SIGINT or SIGTERM, then stops taking requests and lets the
/// turns in flight finish (for at most `options.grace`).
pub async fn serve(options: ServeOptions, providers: Providers, settings: Settings) -> Result<(), ServeError> {
    if options.no_auth && !options.listen.is_loopback() {
        return Err(ServeError::OpenOutsideLoopback(options.listen));
    }
    let store = match &options.redis {
        Some(url) => Store::redis(url, options.conversation_ttl).await?,
        None => Store::files(options.data_dir.join("conversations")),
    };
    let tokens = tokens::TokenBook::at(&options.data_dir);
    let addr = SocketAddr::new(options.listen, options.port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
    let bound = listener.local_addr().map_err(ServeError::Serve)?;
    let state = Arc::new(State {
        turn_settings: settings.turn_settings(),
        providers,
        settings,
        store,
        tokens,
        limiter: rate_limit::RateLimiter::new(options.rate_per_minute, options.rate_burst),
        metrics: metrics::Metrics::default(),
        limits: options.limits.clone(),
        open: options.no_auth,
        draining: CancellationToken::new(),
        locks: Mutex::default(),
        customer_providers: Mutex::default(),
        sessions: tokio_util::task::TaskTracker::new(),
    });
    if !state.open && state.tokens.list().is_ok_and(|t| t.iter().all(|t| t.revoked_ms.is_some())) {
        tracing::warn!("no client token exists yet, so every request will be refused: make one with `sori-cli serve token add NAME`");
    }
    tracing::info!(address = %bound, store = state.store.kind(), auth = !state.open, "listening");
    // The one line on stdout: scripts (and tests) read the address from it.
    println!("sori-cli serve: listening on http://{bound}");
    let draining = state.draining.clone();
    let sessions = state.sessions.clone();
    let app = router(state, &options.cors);
    let stopping = draining.clone();
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(async move {
        stop_signal().await;
        tracing::info!("shutting down: finishing the turns in flight");
        stopping.cancel();
    });
    let result = tokio::select! {
        result = server => result.map_err(ServeError::Serve),
        () = async { draining.cancelled().await; tokio::time::sleep(options.grace).await } => {
            tracing::warn!(grace_s = options.grace.as_secs(), "turns still running after the grace period were cut off");
            Ok(())
        }
    };
    // WebSockets outlive their HTTP request: each finishes its reply, then closes.
    sessions.close();
    if tokio::time::timeout(options.grace, sessions.wait()).await.is_err() {
        tracing::warn!(sessions = sessions.len(), "WebSocket sessions still open after the grace period were cut off");
    }
    result
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
