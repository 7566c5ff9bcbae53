//! Google's error replies: `{"error": {"code", "message", "status", "details"}}`
//! (google.rpc.Status as googleapis.com writes it) for the speech APIs, the
//! OAuth server's own `{"error", "error_description"}`, and what each fault becomes.

use crate::discovery::{describe, Violation};
use crate::faults::Fault;
use crate::google::GOOGLE_TEST_PROJECT_ID;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The project number Google's messages name (the test project's, made up).
pub const PROJECT_NUMBER: &str = "123456789012";

/// Google's JSON content type, as its servers send it.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// The API and method a request reached: Google's `ErrorInfo` metadata names them.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    pub name: &'static str,
    pub method: &'static str,
}

pub const RECOGNIZE: Service = Service { name: "speech.googleapis.com", method: "google.cloud.speech.v1.Speech.Recognize" };
pub const SYNTHESIZE: Service = Service { name: "texttospeech.googleapis.com", method: "google.cloud.texttospeech.v1.TextToSpeech.SynthesizeSpeech" };
pub const LIST_VOICES: Service = Service { name: "texttospeech.googleapis.com", method: "google.cloud.texttospeech.v1.TextToSpeech.ListVoices" };

/// An error reply of a Google API.
#[derive(Debug, Clone)]
pub struct GoogleError {
    pub status: StatusCode,
    pub message: String,
    /// The `google.rpc.Code` name: `INVALID_ARGUMENT`, `UNAUTHENTICATED`, …
    pub code_name: &'static str,
    pub details: Vec<Value>,
    pub retry_after_secs: Option<u64>,
}

fn error_info(reason: &str, service: Service, extra: Value) -> Value {
    let mut metadata = json!({ "service": service.name, "method": service.method });
    if let (Some(m), Some(extra)) = (metadata.as_object_mut(), extra.as_object()) {
        m.extend(extra.clone());
    }
    json!({ "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com", "metadata": metadata })
}

impl GoogleError {
    fn new(status: StatusCode, code_name: &'static str, message: impl Into<String>) -> Self {
        GoogleError { status, message: message.into(), code_name, details: Vec::new(), retry_after_secs: None }
    }

    fn with(mut self, detail: Value) -> Self {
        self.details.push(detail);
        self
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
    }

    /// What the JSON parser found wrong, with a `BadRequest` detail per field as Google gives.
    pub fn bad_request(violations: &[Violation]) -> Self {
        let fields: Vec<Value> =
            violations
                .iter()
                .map(|v| {
                    if v.field.is_empty() {
                        json!({ "description": v.description })
                    } else {
                        json!({ "field": v.field, "description": v.description })
                    }
                })
                .collect();
        Self::invalid_argument(describe(violations)).with(json!({ "@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": fields }))
    }

    /// A body that is not JSON at all.
    pub fn malformed_json(e: &serde_json::Error) -> Self {
        let fault = if e.is_eof() { "Unexpected end of string." } else { "Unexpected token." };
        Self::bad_request(&[Violation {
            field: String::new(),
            description: format!("Invalid JSON payload received. {fault} (line {}, column {})", e.line(), e.column()),
        }])
    }

    /// No key and no token.
    pub fn credentials_missing(service: Service) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Method doesn't allow unregistered callers (callers without established identity). \
             Please use API Key or other form of API consumer identity to call this API.",
        )
        .with(error_info("CREDENTIALS_MISSING", service, json!({})))
    }

    /// A bearer token Google does not know, or no longer honours.
    pub fn bad_token(service: Service, expired: bool) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid \
             authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )
        .with(error_info(if expired { "ACCESS_TOKEN_EXPIRED" } else { "ACCESS_TOKEN_TYPE_UNSUPPORTED" }, service, json!({})))
    }

    /// A wrong API key: 400, not 401, as Google really answers.
    pub fn api_key_invalid(service: Service) -> Self {
        let info = json!({ "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                           "metadata": { "service": service.name } });
        Self::invalid_argument("API key not valid. Please pass a valid API key.").with(info)
    }

    /// A token minted for other scopes than cloud-platform.
    pub fn insufficient_scopes(service: Service) -> Self {
        Self::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", "Request had insufficient authentication scopes.").with(error_info(
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            service,
            json!({}),
        ))
    }

    pub fn permission_denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", "The caller does not have permission")
    }

    pub fn rate_limited(service: Service, retry_after_secs: u64) -> Self {
        let message = format!(
            "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service '{}' for consumer 'project_number:{PROJECT_NUMBER}'.",
            service.name
        );
        let extra = json!({ "consumer": format!("projects/{PROJECT_NUMBER}"), "quota_metric": format!("{}/default_requests", service.name),
                            "quota_limit": "DefaultRequestsPerMinutePerProject" });
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "RESOURCE_EXHAUSTED", message).with(error_info("RATE_LIMIT_EXCEEDED", service, extra));
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// Out of money, not out of breath: retrying does not help.
    pub fn billing_disabled(service: Service) -> Self {
        let message = format!(
            "This API method requires billing to be enabled. Please enable billing on project #{PROJECT_NUMBER} by visiting \
             https://console.developers.google.com/billing/enable?project={PROJECT_NUMBER} then retry. If you enabled billing for this \
             project recently, wait a few minutes for the action to propagate to our systems and retry."
        );
        let extra = json!({ "consumer": format!("projects/{PROJECT_NUMBER}"), "containerInfo": GOOGLE_TEST_PROJECT_ID });
        Self::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message).with(error_info("BILLING_DISABLED", service, extra))
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "Internal error encountered.")
    }

    pub fn unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", "The service is currently unavailable.")
    }

    /// The reply a status fault stands for, if it is one.
    pub fn from_fault(fault: &Fault, service: Service) -> Option<Self> {
        Some(match fault {
            Fault::Unauthorized => Self::permission_denied(),
            Fault::RateLimited { retry_after_secs } => Self::rate_limited(service, *retry_after_secs),
            Fault::QuotaExceeded => Self::billing_disabled(service),
            Fault::ServerError => Self::internal(),
            Fault::Overloaded => Self::unavailable(),
            _ => return None,
        })
    }

    /// The JSON body alone, for tests.
    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.status.as_u16(), "message": self.message, "status": self.code_name });
        if !self.details.is_empty() {
            error["details"] = Value::Array(self.details.clone());
        }
        json!({ "error": error })
    }
}

fn json_response(status: StatusCode, body: &Value, retry_after_secs: Option<u64>) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    if let Some(secs) = retry_after_secs {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

impl IntoResponse for GoogleError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body(), self.retry_after_secs)
    }
}

/// An error of the OAuth token endpoint (RFC 6749 §5.2, in Google's words).
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub retry_after_secs: Option<u64>,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into(), retry_after_secs: None }
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    /// The reply a status fault stands for at the token endpoint, if it is one.
    pub fn from_fault(fault: &Fault) -> Option<Self> {
        Some(match fault {
            // As for a key that was deleted or disabled.
            Fault::Unauthorized => Self::invalid_grant("Invalid JWT Signature."),
            Fault::RateLimited { retry_after_secs } => {
                let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", "Rate Limit Exceeded");
                e.retry_after_secs = Some(*retry_after_secs);
                e
            }
            Fault::ServerError => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_failure", "Backend Error"),
            Fault::Overloaded => Self::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "The service is currently unavailable."),
            _ => return None,
        })
    }

    pub fn body(&self) -> Value {
        json!({ "error": self.error, "error_description": self.description })
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, &self.body(), self.retry_after_secs);
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_fault_has_googles_code_name() {
        let cases = [
            (Fault::Unauthorized, 403, "PERMISSION_DENIED"),
            (Fault::RateLimited { retry_after_secs: 3 }, 429, "RESOURCE_EXHAUSTED"),
            (Fault::QuotaExceeded, 403, "PERMISSION_DENIED"),
            (Fault::ServerError, 500, "INTERNAL"),
            (Fault::Overloaded, 503, "UNAVAILABLE"),
        ];
        for (fault, status, name) in cases {
            let e = GoogleError::from_fault(&fault, RECOGNIZE).unwrap();
            assert_eq!((e.status.as_u16(), e.code_name), (status, name), "{fault:?}");
            assert_eq!(e.body()["error"]["code"], status);
        }
        assert!(GoogleError::from_fault(&Fault::TruncatedAudio, SYNTHESIZE).is_none());
        assert_eq!(GoogleError::from_fault(&Fault::QuotaExceeded, RECOGNIZE).unwrap().details[0]["reason"], "BILLING_DISABLED");
    }
}
