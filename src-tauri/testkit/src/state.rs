//! What one server instance knows and remembers: its key, latency model, queued
//! faults, script, the fake Google's account state, and a log of the requests
//! it received (for tests to inspect).

use crate::errors::ApiError;
use crate::faults::{Endpoint, Fault, FaultPlan};
use crate::latency::LatencyModel;
use crate::script::Script;
use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::Value;
use std::sync::Mutex;
use tokio::time::Instant;

/// One request as the server received it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub endpoint: Endpoint,
    /// The `Authorization` header exactly as sent (tests check what the client sends).
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The JSON body, or for multipart the text fields plus, for the file,
    /// `{"filename", "content_type", "bytes", "sha256"}`.
    pub body: Value,
    /// The client went away before the answer was sent (only the routes that
    /// answer whole say so: speech-to-text, and Google's routes).
    #[serde(default)]
    pub cancelled: bool,
    /// Google's routes: the API key as sent (`x-goog-api-key` header, else the
    /// `key` query parameter). Google requests are logged before their
    /// credentials are checked, so refused ones are here too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

/// The server's state, shared by all handlers. Locks are held only briefly and
/// never across an await.
#[derive(Debug)]
pub struct Shared {
    pub api_key: Mutex<Option<String>>,
    pub latency: Mutex<LatencyModel>,
    pub faults: Mutex<FaultPlan>,
    pub script: Mutex<Script>,
    pub log: Mutex<Vec<RecordedRequest>>,
    /// Like servers that make only one audio format whatever is asked, when set.
    pub speech_only_format: Mutex<Option<crate::audio::AudioFormat>>,
    /// Like servers that generate past `max_tokens`, when set.
    pub ignores_max_tokens: Mutex<bool>,
    /// Also answers Ollama's own model list (`GET /api/tags`), like Ollama.
    pub ollama_tags: Mutex<bool>,
    /// Refuses chat requests that offer tools, as Ollama does for a model
    /// that cannot call them.
    pub rejects_tools: Mutex<bool>,
    /// Every WAV upload to speech-to-text, decoded (samples, rate), oldest
    /// first: tests check which audio arrived.
    pub uploads: Mutex<Vec<(Vec<i16>, u32)>>,
    /// Every Realtime client event, as sent, oldest first.
    pub realtime_log: Mutex<Vec<Value>>,
    /// How long a Realtime session lasts (announced in `expires_at`, then
    /// closed with 1001): the real server's 60 minutes unless a test says.
    pub realtime_session: Mutex<std::time::Duration>,
    /// The fake Google's API key, token lifetime and minted tokens.
    pub google: Mutex<crate::google::GoogleState>,
}

/// A request under way: when it started (latency is counted from here) and the
/// fault it carries, if any, once status faults and slow starts are dealt with.
#[derive(Debug)]
pub struct Ctx {
    pub start: Instant,
    pub fault: Option<Fault>,
    pub latency: LatencyModel,
}

impl Shared {
    pub fn new(api_key: Option<String>, latency: LatencyModel, script: Script) -> Self {
        Shared {
            api_key: Mutex::new(api_key),
            latency: Mutex::new(latency),
            faults: Mutex::default(),
            script: Mutex::new(script),
            log: Mutex::default(),
            speech_only_format: Mutex::default(),
            ignores_max_tokens: Mutex::default(),
            ollama_tags: Mutex::default(),
            rejects_tools: Mutex::default(),
            uploads: Mutex::default(),
            realtime_log: Mutex::default(),
            realtime_session: Mutex::new(std::time::Duration::from_secs(3600)),
            google: Mutex::default(),
        }
    }

    /// Logs a request; its place in the log is returned.
    pub fn record(&self, endpoint: Endpoint, headers: &HeaderMap, body: Value) -> usize {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut log = self.log.lock().unwrap();
        log.push(RecordedRequest {
            endpoint,
            authorization: header("authorization"),
            content_type: header("content-type"),
            body,
            cancelled: false,
            api_key: None,
        });
        log.len() - 1
    }

    /// Marks a logged request as given up by its client.
    pub fn cancelled(&self, index: usize) {
        if let Some(r) = self.log.lock().unwrap().get_mut(index) {
            r.cancelled = true;
        }
    }

    /// Starts handling a request: takes its fault, answers status faults at
    /// once, and waits out a slow first byte. Other faults travel in the `Ctx`.
    pub async fn begin(&self, endpoint: Endpoint) -> Result<Ctx, ApiError> {
        let start = Instant::now();
        let fault = self.faults.lock().unwrap().take(endpoint);
        let latency = *self.latency.lock().unwrap();
        match fault {
            Some(Fault::Unauthorized) => Err(ApiError::invalid_key("")),
            Some(Fault::RateLimited { retry_after_secs }) => Err(ApiError::rate_limited(retry_after_secs)),
            Some(Fault::QuotaExceeded) => Err(ApiError::quota_exceeded()),
            Some(Fault::ServerError) => Err(ApiError::server_error()),
            Some(Fault::Overloaded) => Err(ApiError::overloaded()),
            Some(Fault::SlowFirstByte { ms }) => {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                Ok(Ctx { start, fault, latency })
            }
            fault => Ok(Ctx { start, fault, latency }),
        }
    }
}

impl Ctx {
    /// Bytes after which to drop the connection, for a `DropMidBody` fault.
    pub fn drop_after(&self) -> Option<usize> {
        match self.fault {
            Some(Fault::DropMidBody { after_bytes }) => Some(after_bytes),
            _ => None,
        }
    }

    pub fn has(&self, fault: &Fault) -> bool {
        self.fault.as_ref() == Some(fault)
    }
}
