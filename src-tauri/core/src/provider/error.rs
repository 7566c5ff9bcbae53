//! What can go wrong talking to a provider, as kinds the engine and the UI act
//! on (retry, ask for a key, wait, give up), mapped from HTTP statuses and
//! OpenAI's error JSON. Messages are safe to show: they never carry a key.

use serde::Serialize;
use std::time::Duration;

/// The kind of a provider failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorKind {
    /// 401/403: the key is missing, wrong or lacks access.
    Auth,
    /// 429 rate limit; wait `retry_after_ms` when the server said how long.
    RateLimited { retry_after_ms: Option<u64> },
    /// 429 `insufficient_quota`: waiting does not help, billing does.
    Quota,
    /// 400/404/413/422: the request itself is wrong (model name, format, …).
    BadRequest,
    /// No connection, or it broke before a reply was complete.
    Network,
    /// The server took longer than we wait.
    Timeout,
    /// 5xx: the provider's own trouble.
    Server,
    /// The reply arrived but is not what the API promises (bad JSON, bad SSE, bad audio).
    BadResponse,
    /// An engine on this computer failed: its model is missing or damaged,
    /// or a program it runs is not installed.
    Local,
}

/// A provider failure with a message that is safe to show to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    pub message: String,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError { kind, status: None, message: message.into() }
    }

    pub fn bad_response(what: impl std::fmt::Display) -> Self {
        Self::new(ErrorKind::BadResponse, format!("The provider sent a reply Sori cannot read: {what}."))
    }

    /// Whether trying the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::RateLimited { .. } | ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Server)
    }

    /// How long the server asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            ErrorKind::RateLimited { retry_after_ms: Some(ms) } => Some(Duration::from_millis(ms)),
            _ => None,
        }
    }

    /// Maps an HTTP error reply: status, `Retry-After` header, and body
    /// (OpenAI's `{"error": {"message", "type", "code"}}` when present).
    pub fn from_http(status: u16, retry_after: Option<&str>, body: &[u8]) -> Self {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let error = parsed.as_ref().map(|v| &v["error"]);
        let code = error.and_then(|e| e["code"].as_str().or(e["type"].as_str())).unwrap_or_default();
        let server_says = error.and_then(|e| e["message"].as_str()).map(|m| format!(" The server said: {}", clip(m, 240))).unwrap_or_default();
        let (kind, what) = match status {
            401 | 403 => (ErrorKind::Auth, "The provider did not accept the API key. Check the key in Settings.".to_string()),
            429 if code == "insufficient_quota" => {
                (ErrorKind::Quota, "The provider says the account is out of quota. Check the plan and billing.".to_string())
            }
            429 => {
                let retry_after_ms = retry_after.and_then(parse_retry_after).map(|d| d.as_millis() as u64);
                (ErrorKind::RateLimited { retry_after_ms }, "The provider is rate-limiting requests.".to_string())
            }
            408 | 504 => (ErrorKind::Timeout, format!("The provider timed out ({status}).")),
            400..=499 => (ErrorKind::BadRequest, format!("The provider refused the request ({status}). Check the model and settings.")),
            500..=599 => (ErrorKind::Server, format!("The provider had a server error ({status}).")),
            _ => (ErrorKind::BadResponse, format!("The provider answered with an unexpected status {status}.")),
        };
        ProviderError { kind, status: Some(status), message: format!("{what}{server_says}") }
    }
}

/// A transport failure in words that name `host` but never the request's
/// headers; `address` says which setting to check ("the provider's address").
pub(crate) fn transport_error(host: &str, address: &str, e: &reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::new(ErrorKind::Timeout, format!("{host} did not answer in time."))
    } else if e.is_connect() {
        ProviderError::new(ErrorKind::Network, format!("Cannot reach {host}. Check the network and {address}."))
    } else {
        // A body cut off mid-way reaches us as a "decode" error too: reqwest's
        // body decoder wraps transport errors, and no content-encoding is enabled.
        ProviderError::new(ErrorKind::Network, format!("The connection to {host} broke before the reply was complete."))
    }
}

/// `Retry-After` as seconds (`"7"`, `"1.5"`) or OpenAI's `retry-after-ms` style
/// values such as `"20ms"`; HTTP dates are rare from APIs and ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Some(ms) = v.strip_suffix("ms") {
        return ms.trim().parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0).map(|x| Duration::from_secs_f64(x / 1000.0));
    }
    v.trim_end_matches('s').parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0).map(Duration::from_secs_f64)
}

/// `s` cut to `max` characters, with an ellipsis when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openai(code: Option<&str>, kind: &str, message: &str) -> Vec<u8> {
        serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": code}}).to_string().into_bytes()
    }

    #[test]
    fn statuses_map_to_kinds() {
        let auth =
            ProviderError::from_http(401, None, &openai(Some("invalid_api_key"), "invalid_request_error", "Incorrect API key provided: sor***0123."));
        assert_eq!(auth.kind, ErrorKind::Auth);
        assert!(auth.message.starts_with("The provider did not accept the API key"));
        assert!(!auth.is_retryable());

        let limited = ProviderError::from_http(429, Some("7"), &openai(Some("rate_limit_exceeded"), "requests", "slow down"));
        assert_eq!(limited.kind, ErrorKind::RateLimited { retry_after_ms: Some(7000) });
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
        assert!(limited.is_retryable());

        let quota = ProviderError::from_http(429, None, &openai(Some("insufficient_quota"), "insufficient_quota", "no money"));
        assert_eq!(quota.kind, ErrorKind::Quota);
        assert!(!quota.is_retryable());

        assert_eq!(ProviderError::from_http(503, None, b"<html>busy</html>").kind, ErrorKind::Server);
        assert_eq!(ProviderError::from_http(400, None, b"").kind, ErrorKind::BadRequest);
        assert_eq!(ProviderError::from_http(404, None, b"").kind, ErrorKind::BadRequest);
        assert_eq!(ProviderError::from_http(504, None, b"").kind, ErrorKind::Timeout);
        assert!(ProviderError::from_http(500, None, b"").is_retryable());
    }

    #[test]
    fn the_servers_message_is_kept_but_clipped() {
        let long = "x".repeat(1000);
        let e = ProviderError::from_http(400, None, &openai(None, "invalid_request_error", &long));
        assert!(e.message.contains("The server said: xxx"));
        assert!(e.message.chars().count() < 400);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
