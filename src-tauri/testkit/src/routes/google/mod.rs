//! A fake of Google Cloud Speech-to-Text v1 (`POST /v1/speech:recognize`) and
//! Text-to-Speech v1 (`POST /v1/text:synthesize`, `GET /v1/voices`), with the
//! OAuth token endpoint for service accounts (`POST /token`) and its steering
//! (`/__testkit/google…`). Wire formats as Google documents them; requests are
//! read against Google's discovery documents ([`crate::discovery`]).

pub mod auth;
pub mod control;
pub mod errors;
pub mod recognize;
pub mod synthesize;
pub mod token;
pub mod voices;

use crate::discovery::{self, Api};
use crate::faults::{Endpoint, Fault};
use crate::routes::transcriptions::Unanswered;
use crate::state::{Ctx, Shared};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use errors::{GoogleError, JSON_CONTENT_TYPE};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The Google routes and their steering. Not behind the OpenAI key check:
/// Google's credentials are checked per route ([`auth`]).
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/speech:recognize", post(recognize::recognize))
        .route("/v1/text:synthesize", post(synthesize::synthesize))
        .route("/v1/voices", get(voices::list))
        .route("/token", post(token::token))
        // Sync recognition takes 10 MB of audio, i.e. ~13.4 MB of base64.
        .layer(DefaultBodyLimit::max(16 * 1024 * 1024))
        .route("/__testkit/google", get(control::get).put(control::put))
        .route("/__testkit/google/service-account", get(control::service_account))
}

/// Logs a Google request with the API key it carried (header or query).
pub(crate) fn record(shared: &Shared, endpoint: Endpoint, headers: &HeaderMap, uri: &Uri, body: Value) -> usize {
    let index = shared.record(endpoint, headers, body);
    if let Some(entry) = shared.log.lock().unwrap().get_mut(index) {
        entry.api_key = auth::sent_key(headers, uri);
    }
    index
}

/// Starts a request: takes its fault, answers a status fault at once (as
/// `status_error` words it), waits out a slow first byte.
pub(crate) async fn begin<E>(shared: &Shared, endpoint: Endpoint, status_error: impl Fn(&Fault) -> Option<E>) -> Result<Ctx, E> {
    let start = Instant::now();
    let fault = shared.faults.lock().unwrap().take(endpoint);
    let latency = *shared.latency.lock().unwrap();
    if let Some(e) = fault.as_ref().and_then(status_error) {
        return Err(e);
    }
    if let Some(Fault::SlowFirstByte { ms }) = fault {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    Ok(Ctx { start, fault, latency })
}

/// Reads a JSON body as Google does: an empty body is an empty message,
/// then the discovery document's schema decides (unknown names, types, enums).
pub(crate) fn parse_body(api: Api, schema: &str, body: &[u8]) -> Result<Value, GoogleError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|e| GoogleError::malformed_json(&e))?
    };
    if !value.is_object() {
        return Err(GoogleError::bad_request(&[discovery::Violation {
            field: String::new(),
            description: "Invalid JSON payload received. Unknown name \"\": Root element must be a message.".into(),
        }]));
    }
    discovery::parse_request(api, schema, &value).map_err(|v| GoogleError::bad_request(&v))
}

/// A JSON reply sent whole at `at` (counted from the request's start), with
/// a `DropMidBody` fault honoured; the log says if the client gave up first.
pub(crate) async fn reply_json(shared: &Arc<Shared>, logged: usize, ctx: &Ctx, at: Duration, body: Value) -> Response {
    let mut waiting = Unanswered { shared: shared.clone(), index: logged, answered: false };
    let response = crate::stream::whole(StatusCode::OK, JSON_CONTENT_TYPE, ctx.start, at, body.to_string().into(), ctx.drop_after()).await;
    waiting.answered = true;
    response
}

/// A `google.protobuf.Duration` in JSON, to the millisecond: `"1.520s"`, `"2s"`.
pub(crate) fn duration_json(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_as_protobuf_json() {
        assert_eq!(duration_json(1.52), "1.520s");
        assert_eq!(duration_json(2.0), "2s");
        assert_eq!(duration_json(0.0004), "0s");
    }

    #[test]
    fn bodies_are_read_like_google() {
        assert_eq!(parse_body(Api::TextToSpeech, "SynthesizeSpeechRequest", b" ").unwrap(), serde_json::json!({}));
        let e = parse_body(Api::TextToSpeech, "SynthesizeSpeechRequest", b"{\"input\": ").unwrap_err();
        assert!(e.message.starts_with("Invalid JSON payload received."), "{}", e.message);
        let e = parse_body(Api::TextToSpeech, "SynthesizeSpeechRequest", b"[1]").unwrap_err();
        assert!(e.message.contains("Root element must be a message"), "{}", e.message);
    }
}
