//! The server: its router, and [`TestServer`], the handle tests hold to start
//! it on `127.0.0.1:0`, read its base URL, and steer it.

use crate::auth::require_key;
use crate::errors::ApiError;
use crate::faults::{Endpoint, Fault};
use crate::latency::LatencyModel;
use crate::routes::{chat, control, google, models, realtime, speech, transcriptions};
use crate::script::{sha256_hex, Script};
use crate::state::{RecordedRequest, Shared};
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

/// The key the server expects unless told otherwise. Not shaped like a real
/// key on purpose, so no scanner mistakes it for one.
pub const TEST_API_KEY: &str = "sori-test-key-0123";

/// How a server starts.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `None` accepts any request, like a local Ollama.
    pub api_key: Option<String>,
    pub latency: LatencyModel,
    pub script: Script,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { api_key: Some(TEST_API_KEY.into()), latency: LatencyModel::instant(), script: Script::default() }
    }
}

/// The whole router: the OpenAI endpoints behind the key, the Google ones
/// beside them with Google's own credentials, and the control API.
pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{id}", get(models::get))
        .route("/api/tags", get(models::ollama_tags))
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/audio/speech", post(speech::speech))
        .route("/v1/audio/transcriptions", post(transcriptions::transcriptions))
        .route("/v1/realtime", get(realtime::upgrade))
        // OpenAI accepts uploads up to 25 MB.
        .layer(DefaultBodyLimit::max(25 * 1024 * 1024))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), require_key));
    let control = Router::new()
        .route("/__testkit/faults", post(control::push_fault).delete(control::clear_faults))
        .route("/__testkit/latency", axum::routing::put(control::set_latency))
        .route("/__testkit/transcripts", post(control::set_transcript))
        .route("/__testkit/replies", post(control::add_reply))
        .route("/__testkit/tool-replies", post(control::add_tool_reply))
        .route("/__testkit/tool-answers", post(control::add_tool_answer))
        .route("/__testkit/realtime-events", get(control::realtime_events))
        .route("/__testkit/requests", get(control::requests).delete(control::clear_requests));
    api.merge(google::router()).merge(control).fallback(not_found).with_state(shared)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    let mut e = ApiError::invalid_request(format!("Invalid URL ({method} {})", uri.path()), None);
    e.status = axum::http::StatusCode::NOT_FOUND;
    e
}

/// A running server. Dropping it shuts the server down.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server on `127.0.0.1:0` on the current tokio runtime.
    pub async fn start(config: ServerConfig) -> std::io::Result<Self> {
        Self::bind(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a server on `addr` on the current tokio runtime.
    pub async fn bind(config: ServerConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::new(config.api_key, config.latency, config.script));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = router(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(TestServer { addr, shared, shutdown: Some(tx), thread: None })
    }

    /// Starts a server on its own thread and runtime, for tests that are not
    /// async or that must not share their runtime with the server.
    pub fn start_in_background(config: ServerConfig) -> std::io::Result<Self> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name("sori-testkit".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return drop(ready_tx.send(Err(e))),
            };
            runtime.block_on(async move {
                let server = match TestServer::start(config).await {
                    Ok(server) => server,
                    Err(e) => return drop(ready_tx.send(Err(e))),
                };
                let (stop_tx, stop_rx) = oneshot::channel::<()>();
                let _ = ready_tx.send(Ok((server.addr, server.shared.clone(), stop_tx)));
                let _ = stop_rx.await;
                drop(server);
            });
        })?;
        let (addr, shared, stop) = ready_rx.recv().map_err(std::io::Error::other)??;
        Ok(TestServer { addr, shared, shutdown: Some(stop), thread: Some(thread) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:41234/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn api_key(&self) -> Option<String> {
        self.shared.api_key.lock().unwrap().clone()
    }

    pub fn set_latency(&self, model: LatencyModel) {
        *self.shared.latency.lock().unwrap() = model;
    }

    /// Queues `fault` for the next request to `endpoint`.
    ///
    /// Panics if the fault cannot apply there: that is a mistake in the test.
    pub fn push_fault(&self, endpoint: Endpoint, fault: Fault) {
        self.push_faults(endpoint, fault, 1)
    }

    /// Queues `fault` for the next `times` requests to `endpoint`.
    pub fn push_faults(&self, endpoint: Endpoint, fault: Fault, times: usize) {
        self.shared.faults.lock().unwrap().push(endpoint, fault, times).unwrap_or_else(|e| panic!("{e}"));
    }

    /// The transcript for uploads of exactly these file bytes.
    pub fn set_transcript(&self, audio_file: &[u8], text: &str) {
        self.shared.script.lock().unwrap().set_transcript(sha256_hex(audio_file), text);
    }

    /// The transcript for any WAV upload carrying exactly these samples,
    /// whatever its header says.
    pub fn set_transcript_for_samples(&self, samples: &[i16], text: &str) {
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        self.shared.script.lock().unwrap().set_transcript(sha256_hex(&bytes), text);
    }

    /// Makes the speech endpoint answer in `format` whatever is asked, as some
    /// local servers do; `None` restores normal behaviour.
    pub fn set_speech_only_format(&self, format: Option<crate::audio::AudioFormat>) {
        *self.shared.speech_only_format.lock().unwrap() = format;
    }

    /// Makes chat replies run past `max_tokens`, as some servers do; `false`
    /// restores the limit (the reply is cut there, `finish_reason: "length"`).
    /// Refuses chat requests that offer tools (400), as Ollama does for a
    /// model that cannot call them.
    pub fn set_rejects_tools(&self, on: bool) {
        *self.shared.rejects_tools.lock().unwrap() = on;
    }

    /// Answers Ollama's own model list too (`GET /api/tags`), as Ollama does.
    pub fn set_ollama_tags(&self, on: bool) {
        *self.shared.ollama_tags.lock().unwrap() = on;
    }

    pub fn set_ignores_max_tokens(&self, ignores: bool) {
        *self.shared.ignores_max_tokens.lock().unwrap() = ignores;
    }

    /// Replies `reply` when the user's last message contains `needle`.
    pub fn add_reply(&self, needle: &str, reply: &str) {
        self.shared.script.lock().unwrap().add_reply(needle, reply);
    }

    /// When the user's last message contains `needle` and tools are offered:
    /// streams `preamble`, then calls each (name, raw arguments) in parallel.
    pub fn add_tool_reply(&self, needle: &str, preamble: &str, calls: &[(&str, &str)]) {
        self.shared.script.lock().unwrap().add_tool_reply(needle, preamble, calls);
    }

    /// After tool results for a question containing `needle`: `template`
    /// with each `{key}` filled from the results.
    pub fn add_tool_answer(&self, needle: &str, template: &str) {
        self.shared.script.lock().unwrap().add_tool_answer(needle, template);
    }

    /// Answers a structured-output request about `needle` with `value`.
    pub fn add_structured_reply(&self, needle: &str, value: serde_json::Value) {
        self.shared.script.lock().unwrap().add_structured_reply(needle, value);
    }

    /// Every WAV uploaded to speech-to-text so far, decoded (samples, rate).
    pub fn uploaded_audio(&self) -> Vec<(Vec<i16>, u32)> {
        self.shared.uploads.lock().unwrap().clone()
    }

    /// Every request received so far, oldest first.
    /// Every event Realtime clients sent, in order (all connections).
    /// Realtime sessions from now on last this long.
    pub fn set_realtime_session_length(&self, length: std::time::Duration) {
        *self.shared.realtime_session.lock().unwrap() = length;
    }

    pub fn realtime_events(&self) -> Vec<serde_json::Value> {
        self.shared.realtime_log.lock().unwrap().clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The root the fake Google APIs live under (`{root}/v1/speech:recognize`,
    /// `{root}/v1/text:synthesize`, `{root}/v1/voices`), e.g.
    /// `http://127.0.0.1:41234`: what Sori is given as its Google endpoint.
    pub fn google_root(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The fake OAuth token endpoint, `{google_root}/token`.
    pub fn google_token_uri(&self) -> String {
        format!("{}/token", self.google_root())
    }

    /// The test service account's key file, its `token_uri` pointing here.
    pub fn google_service_account(&self) -> String {
        crate::google::service_account_json(&self.google_token_uri())
    }

    /// How long access tokens minted from now on last (Google's 3600 s by default).
    pub fn set_google_token_ttl(&self, ttl: std::time::Duration) {
        self.shared.google.lock().unwrap().token_ttl = ttl;
    }

    /// How many access tokens `/token` has minted.
    /// Revokes every token issued so far: the API then answers them with 401
    /// `UNAUTHENTICATED`, as Google does a token revoked before it expired.
    pub fn revoke_google_tokens(&self) {
        self.shared.google.lock().unwrap().tokens.clear();
    }

    pub fn google_tokens_issued(&self) -> usize {
        self.shared.google.lock().unwrap().tokens_issued
    }

    /// The API key the Google routes accept; `None` accepts no key at all
    /// (only OAuth tokens), as for a project without API keys.
    pub fn set_google_api_key(&self, key: Option<String>) {
        self.shared.google.lock().unwrap().api_key = key;
    }

    pub fn google_api_key(&self) -> Option<String> {
        self.shared.google.lock().unwrap().api_key.clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
