//! Google Cloud credentials as the user pastes them: an API key, or a
//! service account's JSON key file (its whole text, never its path), read
//! into a form that cannot leak through `Debug`.

use crate::secrets::ApiKey;
use serde::Serialize;

/// Google's own token endpoint, for key files that do not name one.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// What Sori signs in to Google Cloud with.
#[derive(Debug, Clone)]
pub enum GoogleCredential {
    /// An API key, sent as `x-goog-api-key` (never in a URL, where logs keep it).
    ApiKey(ApiKey),
    /// A service account: its key signs a JWT that buys short-lived access tokens.
    ServiceAccount(ServiceAccount),
}

/// A service account's key file, the parts Sori uses.
#[derive(Clone)]
pub struct ServiceAccount {
    pub client_email: String,
    pub project_id: Option<String>,
    pub private_key_id: Option<String>,
    pub token_uri: String,
    /// The PEM private key, kept as a secret.
    pub private_key: ApiKey,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount").field("client_email", &self.client_email).field("token_uri", &self.token_uri).finish_non_exhaustive()
    }
}

/// Why pasted text is not a credential Sori can use; safe to show (it never
/// quotes the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("This is not a Google Cloud key file Sori can read: {0}. Paste the whole JSON key file of a service account, or an API key.")]
    BadJson(String),
    #[error(
        "This JSON key file is of type “{0}”, not a service account. Create a service-account key (IAM → Service accounts → Keys → Add key → JSON)."
    )]
    NotServiceAccount(String),
    #[error("The service-account key file has no {0}. Download the key file again.")]
    Missing(&'static str),
    #[error("The service-account key file's private key cannot be read. Download the key file again.")]
    BadPrivateKey,
    #[error("An API key is one word without spaces. Paste the key itself (it often starts with AIza).")]
    BadApiKey,
    #[error("The key file's token address ({0}) is not https: Sori sends a signed sign-in request only over https, or to this computer.")]
    InsecureTokenUri(String),
}

/// Whether a token endpoint may receive a signed assertion: https, or http to this machine.
fn safe_token_uri(uri: &str) -> bool {
    reqwest::Url::parse(uri).is_ok_and(|u| u.scheme() == "https" || (u.scheme() == "http" && crate::provider::openai::is_loopback_url(uri)))
}

/// What the window may know about the stored credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CredentialSummary {
    /// An API key, by its last 4 characters.
    ApiKey { last4: String },
    /// A service account, by its e-mail address and project (both public).
    ServiceAccount { client_email: String, project_id: Option<String> },
}

impl GoogleCredential {
    /// Reads pasted text: JSON is a key file, anything else an API key.
    pub fn parse(secret: &ApiKey) -> Result<Self, CredentialError> {
        let text = secret.expose().trim();
        if !text.starts_with('{') {
            if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(CredentialError::BadApiKey);
            }
            return Ok(GoogleCredential::ApiKey(secret.clone()));
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| CredentialError::BadJson(format!("line {}, column {}", e.line(), e.column())))?;
        let field = |name: &str| value[name].as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let kind = field("type").ok_or(CredentialError::Missing("“type”"))?;
        if kind != "service_account" {
            return Err(CredentialError::NotServiceAccount(kind));
        }
        let client_email = field("client_email").ok_or(CredentialError::Missing("“client_email”"))?;
        let pem = field("private_key").ok_or(CredentialError::Missing("“private_key”"))?;
        jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| CredentialError::BadPrivateKey)?;
        let token_uri = field("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string());
        if !safe_token_uri(&token_uri) {
            let host = reqwest::Url::parse(&token_uri).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or(token_uri);
            return Err(CredentialError::InsecureTokenUri(host));
        }
        Ok(GoogleCredential::ServiceAccount(ServiceAccount {
            client_email,
            project_id: field("project_id"),
            private_key_id: field("private_key_id"),
            token_uri,
            private_key: ApiKey::new(pem).ok_or(CredentialError::BadPrivateKey)?,
        }))
    }

    pub fn summary(&self) -> CredentialSummary {
        match self {
            GoogleCredential::ApiKey(key) => CredentialSummary::ApiKey { last4: key.last4() },
            GoogleCredential::ServiceAccount(sa) => {
                CredentialSummary::ServiceAccount { client_email: sa.client_email.clone(), project_id: sa.project_id.clone() }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = include_str!("../../../../testkit/fixtures/google-test-service-account.pem");

    fn key_file(kind: &str, pem: &str) -> ApiKey {
        let json = serde_json::json!({"type": kind, "project_id": "p-1", "private_key_id": "abc", "private_key": pem,
            "client_email": "bot@p-1.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"});
        ApiKey::new(json.to_string()).unwrap()
    }

    #[test]
    fn a_key_file_is_a_service_account_and_anything_else_an_api_key() {
        match GoogleCredential::parse(&key_file("service_account", PEM)).unwrap() {
            GoogleCredential::ServiceAccount(sa) => {
                assert_eq!((sa.client_email.as_str(), sa.project_id.as_deref()), ("bot@p-1.iam.gserviceaccount.com", Some("p-1")));
                assert!(!format!("{sa:?}").contains("PRIVATE KEY"), "Debug never shows the key");
            }
            other => panic!("expected a service account, got {other:?}"),
        }
        let key = ApiKey::new("AIzaSyExample-1234").unwrap();
        assert!(matches!(GoogleCredential::parse(&key), Ok(GoogleCredential::ApiKey(_))));
        assert_eq!(GoogleCredential::parse(&key).unwrap().summary(), CredentialSummary::ApiKey { last4: "1234".into() });
    }

    #[test]
    fn what_cannot_be_used_says_why_without_quoting_it() {
        let err = |text: &str| GoogleCredential::parse(&ApiKey::new(text).unwrap()).unwrap_err();
        assert!(matches!(err("{\"type\": \"service_account\", \"private_key\": "), CredentialError::BadJson(_)));
        assert_eq!(
            GoogleCredential::parse(&key_file("authorized_user", PEM)).unwrap_err(),
            CredentialError::NotServiceAccount("authorized_user".into())
        );
        let broken = key_file("service_account", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        assert_eq!(GoogleCredential::parse(&broken).unwrap_err(), CredentialError::BadPrivateKey);
        assert_eq!(err("two words"), CredentialError::BadApiKey);
        let mut plain: serde_json::Value = serde_json::from_str(key_file("service_account", PEM).expose()).unwrap();
        plain["token_uri"] = "http://tokens.example/token".into();
        let plain = ApiKey::new(plain.to_string()).unwrap();
        assert_eq!(GoogleCredential::parse(&plain).unwrap_err(), CredentialError::InsecureTokenUri("tokens.example".into()));
        assert!(!err("{\"secret-ish\": 1}").to_string().contains("secret-ish"));
    }
}
