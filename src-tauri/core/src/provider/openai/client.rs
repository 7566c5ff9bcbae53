//! The one HTTP client (reqwest with rustls) every endpoint shares: base URL
//! and key rules, the `Authorization` header, error mapping, byte counts.

use crate::provider::{ProviderError, Providers, TransferStats};
use crate::secrets::ApiKey;
use reqwest::{RequestBuilder, Response, Url};
use std::sync::Arc;
use std::time::Duration;

/// Why a base URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    #[error("“{0}” is not a URL. Use something like https://api.openai.com/v1.")]
    Invalid(String),
    #[error("The key would travel unencrypted to {0}. Use https, or plain http only for a server on this computer (localhost).")]
    InsecureKey(String),
}

/// An OpenAI-compatible API at one base URL, with an optional key.
#[derive(Clone)]
pub struct OpenAi {
    http: reqwest::Client,
    base: Url,
    key: Option<ApiKey>,
    transfer: Arc<TransferStats>,
}

impl std::fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAi").field("base", &self.base.as_str()).field("key", &self.key).finish()
    }
}

/// Whether `base_url` names a server on this machine.
pub fn is_loopback_url(base_url: &str) -> bool {
    Url::parse(base_url.trim()).is_ok_and(|u| is_loopback(&u))
}

/// Whether a URL's host is this machine.
fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl OpenAi {
    /// A client for `base_url` (e.g. `https://api.openai.com/v1`). A key is
    /// only ever sent over https, or over http to this machine.
    pub fn new(base_url: &str, key: Option<ApiKey>) -> Result<Self, BaseUrlError> {
        let trimmed = base_url.trim().trim_end_matches('/');
        let base = Url::parse(&format!("{trimmed}/")).map_err(|_| BaseUrlError::Invalid(base_url.to_string()))?;
        match base.scheme() {
            "https" => {}
            "http" if key.is_none() || is_loopback(&base) => {}
            "http" => return Err(BaseUrlError::InsecureKey(base.host_str().unwrap_or_default().to_string())),
            _ => return Err(BaseUrlError::Invalid(base_url.to_string())),
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!("sori/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| BaseUrlError::Invalid(base_url.to_string()))?;
        Ok(OpenAi { http, base, key, transfer: Arc::default() })
    }

    /// Counts this client's bytes in `transfer` (shared by a session's clients).
    pub fn counting_in(mut self, transfer: Arc<TransferStats>) -> Self {
        self.transfer = transfer;
        self
    }

    /// The bytes this client has sent and received.
    pub fn transfer(&self) -> &Arc<TransferStats> {
        &self.transfer
    }

    /// This one client for all three stages.
    pub fn providers(self) -> Providers {
        let transfer = self.transfer.clone();
        Providers::all(Arc::new(self), transfer)
    }

    /// Whether this is OpenAI's own API, which differs from the compatible
    /// servers in a few request fields.
    pub(crate) fn is_openai(&self) -> bool {
        self.base.host_str().is_some_and(|h| h == "api.openai.com" || h.ends_with(".openai.azure.com"))
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// A POST to `path` (relative to the base URL) with the key attached.
    pub(crate) fn post(&self, path: &str) -> RequestBuilder {
        self.request(reqwest::Method::POST, path)
    }

    /// A GET to `path` with the key attached.
    pub(crate) fn get(&self, path: &str) -> RequestBuilder {
        self.request(reqwest::Method::GET, path)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        let url = self.base.join(path).expect("endpoint paths are valid relative URLs");
        let rb = self.http.request(method, url);
        match &self.key {
            Some(key) => rb.bearer_auth(key.expose()),
            None => rb,
        }
    }

    /// Sends a request; a non-2xx reply becomes a [`ProviderError`] with the
    /// server's message (never the key).
    pub(crate) async fn send(&self, request: RequestBuilder, body_len: usize) -> Result<Response, ProviderError> {
        self.transfer.sent(body_len);
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = response.bytes().await.unwrap_or_default();
        self.count_down(body.len());
        let mut error = ProviderError::from_http(status.as_u16(), retry_after.as_deref(), &body[..body.len().min(64 * 1024)]);
        error.message = self.redact(&error.message);
        Err(error)
    }

    /// The model ids the server lists (`GET /models`): a cheap call that also
    /// tells whether the key works.
    pub async fn list_models(&self) -> Result<Vec<String>, ProviderError> {
        let response = self.send(self.get("models"), 0).await?;
        let body = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        self.count_down(body.len());
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|_| ProviderError::bad_response("the model list is not JSON"))?;
        let data = value["data"].as_array().ok_or_else(|| ProviderError::bad_response("the model list has no data"))?;
        Ok(data.iter().filter_map(|m| m["id"].as_str().map(str::to_string)).collect())
    }

    pub(crate) fn count_down(&self, n: usize) {
        self.transfer.received(n);
    }

    fn redact(&self, text: &str) -> String {
        self.key.as_ref().map(|k| k.redact(text)).unwrap_or_else(|| text.to_string())
    }

    /// Maps a transport failure, in words that name the server but never the
    /// request's headers.
    pub(crate) fn transport_error(&self, e: &reqwest::Error) -> ProviderError {
        crate::provider::error::transport_error(self.base.host_str().unwrap_or("the provider"), "the provider's address", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Option<ApiKey> {
        ApiKey::new("k-123456")
    }

    #[test]
    fn keys_go_only_over_https_or_to_this_machine() {
        assert!(OpenAi::new("https://api.openai.com/v1", key()).is_ok());
        assert!(OpenAi::new("http://127.0.0.1:8080/v1/", key()).is_ok());
        assert!(OpenAi::new("http://localhost:11434/v1", key()).is_ok());
        assert!(OpenAi::new("http://[::1]:8080/v1", key()).is_ok());
        assert_eq!(OpenAi::new("http://192.168.1.20:8080/v1", key()).unwrap_err(), BaseUrlError::InsecureKey("192.168.1.20".into()));
        assert!(OpenAi::new("http://ollama.lan:11434/v1", None).is_ok(), "no key, nothing to leak");
        assert!(matches!(OpenAi::new("ftp://x/v1", key()), Err(BaseUrlError::Invalid(_))));
        assert!(matches!(OpenAi::new("not a url", key()), Err(BaseUrlError::Invalid(_))));
    }

    #[test]
    fn paths_join_under_the_base() {
        let c = OpenAi::new("http://127.0.0.1:1/v1/", None).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:1/v1");
        let r = c.post("audio/speech").build().unwrap();
        assert_eq!(r.url().as_str(), "http://127.0.0.1:1/v1/audio/speech");
        assert!(r.headers().get("authorization").is_none());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = OpenAi::new("https://api.openai.com/v1", key()).unwrap();
        assert!(!format!("{c:?}").contains("k-123456"));
    }
}
