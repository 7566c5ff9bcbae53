//! The server's errors as the client sees them: a status, a stable `code`
//! and a message that says what happened and what to do, as JSON
//! (`{"error": {"code", "message"}}`), and nothing else: no key, no audio,
//! no internal detail.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sori_core::audio::recording::RecordingError;
use sori_core::provider::{ErrorKind, ProviderError};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, for programs (and the error counter's label).
    pub code: &'static str,
    pub message: String,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<Duration>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn rate_limited(wait: Duration) -> Self {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        ApiError {
            retry_after: Some(Duration::from_secs(seconds)),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("Too many requests with this token: try again in {seconds} s."))
        }
    }

    pub fn too_large(limit_mb: u64) -> Self {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("The upload is larger than {limit_mb} MB: send a shorter recording."))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn shutting_down() -> Self {
        ApiError {
            retry_after: Some(Duration::from_secs(5)),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "This server is shutting down: send the request again (another replica will answer).",
            )
        }
    }

    /// A provider's failure, mapped to what the client can do about it: the
    /// server's own configuration (key, quota) is a 502 for the client, a
    /// provider's rate limit a 503 with its wait.
    pub fn from_provider(e: &ProviderError) -> Self {
        let (status, code) = match &e.kind {
            ErrorKind::Auth => (StatusCode::BAD_GATEWAY, "provider_auth"),
            ErrorKind::Quota => (StatusCode::BAD_GATEWAY, "provider_quota"),
            ErrorKind::RateLimited { .. } => (StatusCode::SERVICE_UNAVAILABLE, "provider_rate_limited"),
            ErrorKind::Timeout => (StatusCode::GATEWAY_TIMEOUT, "provider_timeout"),
            ErrorKind::BadRequest => (StatusCode::BAD_GATEWAY, "provider_bad_request"),
            _ => (StatusCode::BAD_GATEWAY, "provider_failed"),
        };
        let retry_after = match &e.kind {
            ErrorKind::RateLimited { retry_after_ms } => Some(Duration::from_millis(retry_after_ms.unwrap_or(1000))),
            _ => None,
        };
        ApiError { status, code, message: e.message.clone(), retry_after }
    }
}

impl From<RecordingError> for ApiError {
    fn from(e: RecordingError) -> Self {
        let code = match e {
            RecordingError::Empty | RecordingError::NoSound => "empty_audio",
            RecordingError::NotAudio => "unsupported_audio",
            RecordingError::Truncated => "truncated_audio",
            RecordingError::TooLong { .. } => "audio_too_long",
            RecordingError::Corrupt(_) => "corrupt_audio",
        };
        let status = if matches!(e, RecordingError::TooLong { .. }) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::UNPROCESSABLE_ENTITY };
        let hint = match e {
            RecordingError::TooLong { .. } => " Ask one question per request.",
            _ => "",
        };
        ApiError::new(status, code, format!("{}.{hint}", capitalised(&e.to_string())))
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&Body { error: Inner { code: self.code, message: &self.message } }).expect("an error serializes");
        let mut response = (self.status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        if let Some(wait) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"sori\""));
        }
        // The error counter reads the code back from here.
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}

/// The code of an error response, for the metrics and the request log.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);
