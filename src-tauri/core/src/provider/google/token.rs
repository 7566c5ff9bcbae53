//! OAuth access tokens for a service account: a JWT signed with its key
//! (RS256, by `jsonwebtoken`) is traded at the token endpoint for a bearer
//! token, which is cached and replaced a while before it expires, so a
//! conversation never meets an expired token.

use super::credentials::ServiceAccount;
use super::errors::oauth_error;
use crate::provider::{ErrorKind, ProviderError, TransferStats};
use crate::secrets::ApiKey;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Every Google Cloud API, Speech-to-Text and Text-to-Speech among them.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// How long a signed assertion asks the token to live (Google's limit).
const LIFETIME: Duration = Duration::from_secs(3600);

/// A token is replaced this long before it expires (as Google's own client
/// libraries do, 3 min 45 s), or after three quarters of a short life.
const REFRESH_MARGIN: Duration = Duration::from_secs(225);

/// After a failed refresh, how long the old token serves before the next try.
const RETRY_REFRESH: Duration = Duration::from_secs(15);

struct Cached {
    token: ApiKey,
    refresh_at: Instant,
    expires_at: Instant,
}

/// Access tokens for one service account.
pub struct TokenSource {
    account: ServiceAccount,
    key: jsonwebtoken::EncodingKey,
    http: reqwest::Client,
    transfer: Arc<TransferStats>,
    /// One mint at a time: stages that ask together share the new token.
    cached: tokio::sync::Mutex<Option<Cached>>,
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

impl TokenSource {
    pub fn new(account: ServiceAccount, http: reqwest::Client, transfer: Arc<TransferStats>) -> Result<Self, ProviderError> {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(account.private_key.expose().as_bytes()).map_err(|_| {
            ProviderError::new(ErrorKind::Auth, "The service-account key's private key cannot be read. Add the key file again in Settings.")
        })?;
        Ok(TokenSource { account, key, http, transfer, cached: tokio::sync::Mutex::new(None) })
    }

    /// Counts the token requests' bytes in `transfer`.
    pub fn count_in(&mut self, transfer: Arc<TransferStats>) {
        self.transfer = transfer;
    }

    /// A token that is good for a while yet: the cached one, else a new one.
    /// When a refresh fails while the old token still has time, the old one
    /// serves and the next try waits [`RETRY_REFRESH`], so a sign-in
    /// service that is down does not stall every clause.
    pub async fn token(&self) -> Result<ApiKey, ProviderError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        match self.mint().await {
            Ok(fresh) => {
                let token = fresh.token.clone();
                *cached = Some(fresh);
                Ok(token)
            }
            Err(e) => match cached.as_mut().filter(|c| Instant::now() + Duration::from_secs(5) < c.expires_at) {
                Some(c) => {
                    c.refresh_at = (Instant::now() + RETRY_REFRESH).min(c.expires_at - Duration::from_secs(5));
                    Ok(c.token.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Forgets `refused` if it is still the cached token (the API refused
    /// it: revoked, or a clock off); a newer one another request minted stays.
    pub async fn forget(&self, refused: &ApiKey) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| &c.token == refused) {
            *cached = None;
        }
    }

    async fn mint(&self) -> Result<Cached, ProviderError> {
        let iat = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims = Claims { iss: &self.account.client_email, scope: SCOPE, aud: &self.account.token_uri, iat, exp: iat + LIFETIME.as_secs() };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = self.account.private_key_id.clone();
        let assertion = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|_| {
            ProviderError::new(ErrorKind::Auth, "The service-account key could not sign a sign-in request. Add the key file again in Settings.")
        })?;
        let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())];
        let body = form_body(&form);
        self.transfer.sent(body.len());
        let asked = Instant::now();
        let host = reqwest::Url::parse(&self.account.token_uri).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        let response = self
            .http
            .post(&self.account.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| super::transport_error(&host, &e))?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = response.bytes().await.map_err(|e| super::transport_error(&host, &e))?;
        self.transfer.received(bytes.len());
        if !(200..300).contains(&status) {
            return Err(oauth_error(status, retry_after.as_deref(), &bytes));
        }
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| ProviderError::bad_response("Google's sign-in reply is not JSON"))?;
        let token = value["access_token"]
            .as_str()
            .and_then(ApiKey::new)
            .ok_or_else(|| ProviderError::bad_response("Google's sign-in reply has no access token"))?;
        // Google gives an hour; anything longer (or nothing) is held to that.
        let life = Duration::from_secs(value["expires_in"].as_u64().unwrap_or(LIFETIME.as_secs()).clamp(1, LIFETIME.as_secs()));
        Ok(Cached { token, refresh_at: asked + life - REFRESH_MARGIN.min(life / 4), expires_at: asked + life })
    }
}

/// `application/x-www-form-urlencoded` for the two plain fields of a token
/// request (the assertion is base64url and dots, the grant type a URN).
fn form_body(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect::<Vec<_>>().join("&")
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_lived_token_is_replaced_at_three_quarters_of_its_life_and_a_long_one_minutes_early() {
        let at = |life: u64| Duration::from_secs(life) - REFRESH_MARGIN.min(Duration::from_secs(life) / 4);
        assert_eq!(at(3600), Duration::from_secs(3375));
        assert_eq!(at(4), Duration::from_secs(3));
        assert_eq!(percent_encode("urn:a b"), "urn%3Aa%20b");
    }
}
