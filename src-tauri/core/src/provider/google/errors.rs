//! Google's error replies mapped to Sori's failure kinds: the API's
//! `{"error": {"code", "message", "status", "details"}}` (gRPC status names,
//! with `ErrorInfo` reasons) and the OAuth endpoint's `{"error",
//! "error_description"}`. The kinds carry the retry rules and the window's
//! words in both languages; the message adds what Google said.

use crate::provider::error::{clip, parse_retry_after};
use crate::provider::{ErrorKind, ProviderError};

/// Maps an error reply of Speech-to-Text or Text-to-Speech.
pub fn api_error(status: u16, retry_after: Option<&str>, body: &[u8]) -> ProviderError {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().map(|v| &v["error"]).filter(|e| e.is_object());
    let Some(error) = error else {
        // Not Google's JSON (a proxy's page): the status alone decides.
        let mut e = ProviderError::from_http(status, retry_after, body);
        e.message = format!("Google Cloud: {}", e.message);
        return e;
    };
    let code = error["status"].as_str().unwrap_or_default();
    let said = error["message"].as_str().unwrap_or_default();
    let reasons: Vec<&str> = error["details"].as_array().map(|d| d.iter().filter_map(|x| x["reason"].as_str()).collect()).unwrap_or_default();
    let reason = |r: &str| reasons.contains(&r);
    let (kind, what) = match code {
        "UNAUTHENTICATED" => (ErrorKind::Auth, "Google Cloud did not accept the credentials. Check the Google key in Settings."),
        "INVALID_ARGUMENT" if reason("API_KEY_INVALID") => {
            (ErrorKind::Auth, "Google Cloud did not accept the API key. Check the Google key in Settings.")
        }
        "PERMISSION_DENIED" if reason("BILLING_DISABLED") => {
            (ErrorKind::Quota, "Google Cloud says billing is not enabled for the project. Enable billing in the Cloud console.")
        }
        "PERMISSION_DENIED" if reason("SERVICE_DISABLED") => {
            (ErrorKind::Auth, "The API is not enabled for the Google Cloud project. Enable Speech-to-Text and Text-to-Speech in the Cloud console.")
        }
        "PERMISSION_DENIED" => (ErrorKind::Auth, "Google Cloud says these credentials may not use this API. Check the key's project and roles."),
        "RESOURCE_EXHAUSTED" => {
            let retry_after_ms = retry_after.and_then(parse_retry_after).map(|d| d.as_millis() as u64);
            (ErrorKind::RateLimited { retry_after_ms }, "Google Cloud is limiting requests (quota).")
        }
        "DEADLINE_EXCEEDED" => (ErrorKind::Timeout, "Google Cloud timed out."),
        "INTERNAL" | "UNAVAILABLE" | "UNKNOWN" | "ABORTED" => (ErrorKind::Server, "Google Cloud had a server error."),
        "INVALID_ARGUMENT" | "NOT_FOUND" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => {
            (ErrorKind::BadRequest, "Google Cloud refused the request. Check the language, model and voice in Settings.")
        }
        _ => {
            let mut e = ProviderError::from_http(status, retry_after, body);
            e.message = format!("Google Cloud: {}", e.message);
            return e;
        }
    };
    let said = if said.is_empty() { String::new() } else { format!(" Google said: {}", clip(said, 240)) };
    ProviderError { kind, status: Some(status), message: format!("{what}{said}") }
}

/// Maps an error reply of the OAuth token endpoint.
pub fn oauth_error(status: u16, retry_after: Option<&str>, body: &[u8]) -> ProviderError {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let code = parsed.as_ref().and_then(|v| v["error"].as_str()).unwrap_or_default();
    let said = parsed.as_ref().and_then(|v| v["error_description"].as_str()).map(|d| format!(" Google said: {}", clip(d, 240))).unwrap_or_default();
    let kind = match (status, code) {
        (_, "invalid_grant" | "invalid_client" | "unauthorized_client" | "access_denied") | (401 | 403, _) => ErrorKind::Auth,
        (429, _) => ErrorKind::RateLimited { retry_after_ms: retry_after.and_then(parse_retry_after).map(|d| d.as_millis() as u64) },
        (500..=599, _) => ErrorKind::Server,
        _ => ErrorKind::BadRequest,
    };
    let what = match kind {
        ErrorKind::Auth => "Google did not accept the service-account key (it may be deleted or disabled, or this computer's clock is off). Check the Google key in Settings.",
        ErrorKind::RateLimited { .. } => "Google's sign-in service is limiting requests.",
        ErrorKind::Server => "Google's sign-in service had a server error.",
        _ => "Google's sign-in service refused the request.",
    };
    ProviderError { kind, status: Some(status), message: format!("{what}{said}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn google(code: u16, status: &str, reason: Option<&str>) -> Vec<u8> {
        let details = reason.map(|r| json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": r, "domain": "googleapis.com"}]));
        let mut error = json!({"code": code, "message": format!("{status} happened"), "status": status});
        if let Some(d) = details {
            error["details"] = d;
        }
        json!({ "error": error }).to_string().into_bytes()
    }

    #[test]
    fn googles_statuses_map_to_sori_kinds_with_the_retry_rules() {
        let kind = |code, status, reason, retry| api_error(code, retry, &google(code, status, reason)).kind;
        assert_eq!(kind(401, "UNAUTHENTICATED", None, None), ErrorKind::Auth);
        assert_eq!(kind(403, "PERMISSION_DENIED", None, None), ErrorKind::Auth);
        assert_eq!(kind(400, "INVALID_ARGUMENT", Some("API_KEY_INVALID"), None), ErrorKind::Auth, "Google answers a wrong API key with 400");
        assert_eq!(kind(400, "INVALID_ARGUMENT", None, None), ErrorKind::BadRequest);
        assert_eq!(kind(403, "PERMISSION_DENIED", Some("BILLING_DISABLED"), None), ErrorKind::Quota);
        assert_eq!(kind(429, "RESOURCE_EXHAUSTED", None, Some("3")), ErrorKind::RateLimited { retry_after_ms: Some(3000) });
        assert_eq!(kind(500, "INTERNAL", None, None), ErrorKind::Server);
        assert_eq!(kind(503, "UNAVAILABLE", None, None), ErrorKind::Server);
        assert_eq!(kind(504, "DEADLINE_EXCEEDED", None, None), ErrorKind::Timeout);
        assert!(api_error(503, None, &google(503, "UNAVAILABLE", None)).is_retryable());
        assert!(!api_error(401, None, &google(401, "UNAUTHENTICATED", None)).is_retryable());
        let e = api_error(400, None, &google(400, "INVALID_ARGUMENT", None));
        assert!(e.message.ends_with("Google said: INVALID_ARGUMENT happened"), "{}", e.message);
        assert_eq!(api_error(502, None, b"<html>bad gateway</html>").kind, ErrorKind::Server);
    }

    #[test]
    fn the_token_endpoints_refusals_are_auth_failures() {
        let body = json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}).to_string();
        let e = oauth_error(400, None, body.as_bytes());
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e.message.contains("Invalid JWT Signature."));
        assert_eq!(oauth_error(503, None, b"").kind, ErrorKind::Server);
        assert_eq!(oauth_error(429, Some("2"), b"").kind, ErrorKind::RateLimited { retry_after_ms: Some(2000) });
    }
}
