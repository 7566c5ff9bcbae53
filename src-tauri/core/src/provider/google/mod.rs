//! Google Cloud Speech-to-Text and Text-to-Speech (v1 REST) as Sori's
//! speech stages: one client for both, signed in with an API key or a
//! service account's access tokens, errors mapped to Sori's kinds.
//!
//! REST, not gRPC: `speech:recognize` takes a whole utterance (Sori's early
//! transcription already sends it at the first pause), and `text:synthesize`
//! one clause at a time, which is how the pipeline speaks while the model
//! still writes. Google's streaming recognition exists only over gRPC, whose
//! stack (tonic, protobuf code generation) is heavier than what it would gain.

pub mod credentials;
pub mod errors;
mod stt;
pub mod token;
mod tts;

pub use credentials::{CredentialError, CredentialSummary, GoogleCredential};
pub use tts::GoogleVoice;

use crate::provider::openai::BaseUrlError;
use crate::provider::{ErrorKind, ProviderError, TransferStats};
use reqwest::{RequestBuilder, Url};
use std::sync::Arc;
use std::time::Duration;
use token::TokenSource;

/// The real hosts; a custom root (a proxy in front of both APIs, or the
/// testkit) serves both under one address. Google's regional hosts differ
/// per API, so a custom root is not a way to pick a region.
const SPEECH_ROOT: &str = "https://speech.googleapis.com";
const TTS_ROOT: &str = "https://texttospeech.googleapis.com";

/// How Sori signs in, once read.
enum Auth {
    None,
    ApiKey(crate::secrets::ApiKey),
    ServiceAccount(Box<TokenSource>),
}

/// Google Cloud's speech APIs with one credential.
pub struct GoogleCloud {
    http: reqwest::Client,
    speech: Url,
    tts: Url,
    auth: Auth,
    /// BCP-47 codes recognition chooses from when the language is automatic
    /// (the first is the main one); a set language picks its entry here.
    languages: Vec<String>,
    transfer: Arc<TransferStats>,
}

impl std::fmt::Debug for GoogleCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleCloud").field("speech", &self.speech.as_str()).field("tts", &self.tts.as_str()).finish_non_exhaustive()
    }
}

/// A URL credentials may go to: https, or http to this machine.
fn checked_root(root: &str) -> Result<Url, BaseUrlError> {
    let trimmed = root.trim().trim_end_matches('/');
    let url = Url::parse(&format!("{trimmed}/")).map_err(|_| BaseUrlError::Invalid(root.to_string()))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if crate::provider::openai::is_loopback_url(url.as_str()) => Ok(url),
        "http" => Err(BaseUrlError::InsecureKey(url.host_str().unwrap_or_default().to_string())),
        _ => Err(BaseUrlError::Invalid(root.to_string())),
    }
}

impl GoogleCloud {
    /// A client for Google's own hosts, or for both APIs under `root`.
    /// `credential` `None` still builds: each request then fails with a clear Auth error.
    pub fn new(root: Option<&str>, credential: Option<GoogleCredential>, languages: Vec<String>) -> Result<Self, BaseUrlError> {
        let root = root.map(str::trim).filter(|r| !r.is_empty());
        let speech = checked_root(root.unwrap_or(SPEECH_ROOT))?;
        let tts = checked_root(root.unwrap_or(TTS_ROOT))?;
        // No redirects: reqwest keeps custom headers (`x-goog-api-key`) on
        // one, which could carry the key off to another host or plain http.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!("sori/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| BaseUrlError::Invalid(speech.to_string()))?;
        let transfer = Arc::new(TransferStats::default());
        let auth = match credential {
            None => Auth::None,
            Some(GoogleCredential::ApiKey(key)) => Auth::ApiKey(key),
            Some(GoogleCredential::ServiceAccount(account)) => {
                checked_root(&account.token_uri)?;
                match TokenSource::new(account, http.clone(), transfer.clone()) {
                    Ok(source) => Auth::ServiceAccount(Box::new(source)),
                    // Parsing checked the key already; a key that still fails signs nothing.
                    Err(_) => Auth::None,
                }
            }
        };
        let languages = languages.into_iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
        Ok(GoogleCloud { http, speech, tts, auth, languages, transfer })
    }

    /// Counts this client's bytes in `transfer` (shared by a session's clients).
    pub fn counting_in(mut self, transfer: Arc<TransferStats>) -> Self {
        if let Auth::ServiceAccount(source) = &mut self.auth {
            source.count_in(transfer.clone());
        }
        self.transfer = transfer;
        self
    }

    fn host(url: &Url) -> String {
        url.host_str().unwrap_or("Google Cloud").to_string()
    }

    /// Sends a request built by `build` (called again for a retry with a
    /// fresh token), signed in; a non-2xx reply becomes a [`ProviderError`].
    async fn send(&self, api: &Url, build: impl Fn() -> RequestBuilder, body_len: usize) -> Result<bytes::Bytes, ProviderError> {
        let mut fresh_token_tried = false;
        let mut sent_token = None;
        loop {
            let request = match &self.auth {
                Auth::None => {
                    return Err(ProviderError::new(
                        ErrorKind::Auth,
                        "No Google Cloud key is set. Add an API key or a service-account key file under Google Cloud in Settings.",
                    ))
                }
                Auth::ApiKey(key) => {
                    let mut value = reqwest::header::HeaderValue::from_str(key.expose()).map_err(|_| {
                        ProviderError::new(ErrorKind::Auth, "The Google API key has characters a header cannot carry. Add it again in Settings.")
                    })?;
                    value.set_sensitive(true);
                    build().header("x-goog-api-key", value)
                }
                Auth::ServiceAccount(source) => {
                    let token = source.token().await?;
                    sent_token = Some(token.clone());
                    build().bearer_auth(token.expose())
                }
            };
            self.transfer.sent(body_len);
            let response = request.send().await.map_err(|e| transport_error(&Self::host(api), &e))?;
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
            let body = response.bytes().await.map_err(|e| transport_error(&Self::host(api), &e))?;
            self.transfer.received(body.len());
            if (200..300).contains(&status) {
                return Ok(body);
            }
            // A token the API refuses before it expired (revoked, a clock
            // off): one more try with a new one.
            if let (401, Auth::ServiceAccount(source), false, Some(token)) = (status, &self.auth, fresh_token_tried, &sent_token) {
                source.forget(token).await;
                fresh_token_tried = true;
                continue;
            }
            let mut error = errors::api_error(status, retry_after.as_deref(), &body[..body.len().min(64 * 1024)]);
            if let Auth::ApiKey(key) = &self.auth {
                error.message = key.redact(&error.message);
            }
            return Err(error);
        }
    }

    fn url(base: &Url, path: &str) -> Url {
        base.join(path).expect("endpoint paths are valid relative URLs")
    }
}

/// A transport failure, in words that name the host but never the request's headers.
pub(crate) fn transport_error(host: &str, e: &reqwest::Error) -> ProviderError {
    crate::provider::error::transport_error(host, "the Google Cloud address", e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::ApiKey;

    #[test]
    fn credentials_go_only_over_https_or_to_this_machine() {
        let key = || Some(GoogleCredential::ApiKey(ApiKey::new("AIza-test-9999").unwrap()));
        let google = GoogleCloud::new(None, key(), vec![]).unwrap();
        assert_eq!((google.speech.as_str(), google.tts.as_str()), ("https://speech.googleapis.com/", "https://texttospeech.googleapis.com/"));
        assert!(GoogleCloud::new(Some("http://127.0.0.1:9"), key(), vec![]).is_ok());
        assert_eq!(GoogleCloud::new(Some("http://speech.lan"), key(), vec![]).unwrap_err(), BaseUrlError::InsecureKey("speech.lan".into()));
        assert!(!format!("{:?}", google).contains("9999"));
    }
}
