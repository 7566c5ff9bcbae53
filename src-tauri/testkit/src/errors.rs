//! OpenAI's error replies, byte for byte in shape: `{"error": {"message", "type",
//! "param", "code"}}` with the status code (and `Retry-After`) the real API uses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error reply as the real API gives it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<&'static str>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, code: Option<&'static str>, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), kind, param: None, code, retry_after_secs: None }
    }

    pub fn missing_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "You didn't provide an API key. You need to provide your API key in an Authorization header \
             using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    }

    /// Like the real API, the message names the key masked to its first 3 and last 4 characters.
    pub fn invalid_key(sent: &str) -> Self {
        let chars: Vec<char> = sent.chars().collect();
        let masked = if chars.len() > 8 {
            let head: String = chars[..3].iter().collect();
            let tail: String = chars[chars.len() - 4..].iter().collect();
            format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
        } else {
            "*".repeat(chars.len())
        };
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            format!("Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys."),
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "requests",
            Some("rate_limit_exceeded"),
            format!("Rate limit reached for requests. Please try again in {retry_after_secs}s."),
        );
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    pub fn quota_exceeded() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "insufficient_quota",
            Some("insufficient_quota"),
            "You exceeded your current quota, please check your plan and billing details.",
        )
    }

    pub fn server_error() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None, "The server had an error while processing your request. Sorry about that!")
    }

    pub fn overloaded() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", None, "The engine is currently overloaded, please try again later.")
    }

    pub fn invalid_request(message: impl Into<String>, param: Option<&str>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", None, message);
        e.param = param.map(str::to_string);
        e
    }

    pub fn model_not_found(model: &str) -> Self {
        let mut e = Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("model_not_found"),
            format!("The model `{model}` does not exist or you do not have access to it."),
        );
        e.param = Some("model".into());
        e
    }

    /// The JSON body alone, for tests and for SSE error events.
    pub fn body(&self) -> serde_json::Value {
        json!({ "error": { "message": self.message, "type": self.kind, "param": self.param, "code": self.code } })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_key_masks_all_but_the_ends() {
        let e = ApiError::invalid_key("test-key-abcdefgh");
        assert!(e.message.contains("tes**********efgh"), "{}", e.message);
        assert!(!e.message.contains("key-abcd"));
        assert!(ApiError::invalid_key("short").message.contains(": *****."));
    }
}
