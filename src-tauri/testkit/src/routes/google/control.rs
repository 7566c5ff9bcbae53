//! `/__testkit/google…`: steering the fake Google over HTTP, for tests in
//! other languages: the service-account key file, the token lifetime, the
//! API key, and how many tokens were minted. Not behind any credentials.

use crate::google::service_account_json;
use crate::state::Shared;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The key file, its `token_uri` on the host the caller reached.
pub async fn service_account(headers: HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    ([(header::CONTENT_TYPE, "application/json")], service_account_json(&format!("http://{host}/token"))).into_response()
}

pub async fn get(State(s): State<Arc<Shared>>) -> Json<Value> {
    let google = s.google.lock().unwrap();
    Json(json!({ "tokens_issued": google.tokens_issued, "token_ttl_secs": google.token_ttl.as_secs(), "api_key": google.api_key }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleSettings {
    token_ttl_secs: Option<u64>,
    /// A string sets the key; `null` leaves no key valid (only OAuth); absent keeps it.
    #[serde(default, deserialize_with = "some")]
    api_key: Option<Option<String>>,
}

/// Tells an explicit `null` (Some(None)) from an absent field (None).
fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub async fn put(State(s): State<Arc<Shared>>, Json(r): Json<GoogleSettings>) -> StatusCode {
    let mut google = s.google.lock().unwrap();
    if let Some(secs) = r.token_ttl_secs {
        google.token_ttl = Duration::from_secs(secs);
    }
    if let Some(key) = r.api_key {
        google.api_key = key;
    }
    StatusCode::NO_CONTENT
}
