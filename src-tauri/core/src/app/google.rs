//! The Google Cloud key every front end shares: one keychain entry holding
//! an API key or a service account's whole key file (never a path to it),
//! checked before it is kept; its status in words the window may show; a
//! check and the voice list, both through `voices.list`.

use super::keys::KeyCheck;
use crate::provider::google::{CredentialError, CredentialSummary, GoogleCloud, GoogleCredential, GoogleVoice};
use crate::provider::{ErrorKind, ProviderError};
use crate::secrets::{ApiKey, KeySource, Keys, SecretError};
use crate::settings::Settings;
use serde::Serialize;

/// The keychain account of the Google key.
pub const GOOGLE_ACCOUNT: &str = "google-cloud";

/// What the window may know about the Google key: never the key, only its
/// kind and the label that tells keys apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoogleKeyStatus {
    pub set: bool,
    pub source: Option<KeySource>,
    pub store: Option<String>,
    pub credential: Option<CredentialSummary>,
    pub keychain_available: bool,
    pub keychain_problem: Option<String>,
}

/// Why a Google key was not kept.
#[derive(Debug, thiserror::Error)]
pub enum GoogleKeyError {
    #[error("{0}")]
    Credential(#[from] CredentialError),
    #[error("{0}")]
    Keychain(#[from] SecretError),
}

/// The stored Google key, read. A stored entry that no longer reads as a key
/// (damaged outside Sori) is a keychain failure that says what to do.
pub fn credential(keys: &Keys) -> Result<Option<GoogleCredential>, SecretError> {
    let Some(secret) = keys.secret(GOOGLE_ACCOUNT)? else { return Ok(None) };
    GoogleCredential::parse(&secret)
        .map(Some)
        .map_err(|e| SecretError::Failed { message: format!("the stored Google key cannot be used ({e}) Add it again in Settings."), source: None })
}

pub fn status(keys: &Keys) -> GoogleKeyStatus {
    let s = keys.secret_status(GOOGLE_ACCOUNT);
    let credential = if s.set { credential(keys).ok().flatten().map(|c| c.summary()) } else { None };
    GoogleKeyStatus {
        set: s.set,
        source: s.source,
        store: s.store,
        credential,
        keychain_available: s.keychain_available,
        keychain_problem: s.keychain_problem,
    }
}

/// Keeps `text` (an API key or a key file's JSON) once it reads as a key:
/// in the keychain, or for this session when the user chose that.
pub fn set(keys: &Keys, text: ApiKey, session_only: bool) -> Result<GoogleKeyStatus, GoogleKeyError> {
    GoogleCredential::parse(&text)?;
    keys.set(GOOGLE_ACCOUNT, text, session_only)?;
    Ok(status(keys))
}

pub fn clear(keys: &Keys) -> Result<GoogleKeyStatus, SecretError> {
    keys.clear(GOOGLE_ACCOUNT)?;
    Ok(status(keys))
}

fn client(settings: &Settings, keys: &Keys) -> Result<GoogleCloud, ProviderError> {
    let credential = credential(keys).map_err(|e| ProviderError::new(ErrorKind::Auth, e.to_string()))?;
    GoogleCloud::new(settings.google_endpoint.as_deref(), credential, settings.google_languages.clone())
        .map_err(|e| ProviderError::new(ErrorKind::BadRequest, e.to_string()))
}

/// The voices Google offers for `language` (all when `None`).
pub async fn voices(settings: &Settings, keys: &Keys, language: Option<&str>) -> Result<Vec<GoogleVoice>, ProviderError> {
    client(settings, keys)?.voices(language).await
}

/// Tries the Google key with `voices.list`, the cheapest call: it works
/// (with how many voices), it was rejected, or Google could not be reached.
pub async fn check(settings: &Settings, keys: &Keys) -> KeyCheck {
    match voices(settings, keys, None).await {
        Ok(list) => KeyCheck::Works { models: list.len() },
        Err(e) => match e.kind {
            ErrorKind::Auth => KeyCheck::Rejected { message: e.message },
            ErrorKind::Network | ErrorKind::Timeout => KeyCheck::Unreachable { message: e.message },
            _ => KeyCheck::Failed { message: e.message },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemoryStore;
    use std::sync::Arc;

    #[test]
    fn a_key_is_checked_before_it_is_kept_and_its_status_never_holds_it() {
        let keys = Keys::new(Ok(Arc::new(MemoryStore::default())), ApiKey::new("openai-env-key-1111"));
        assert!(!status(&keys).set, "OPENAI_API_KEY never stands in for Google's key");
        assert!(matches!(set(&keys, ApiKey::new("{\"type\": \"authorized_user\"}").unwrap(), false), Err(GoogleKeyError::Credential(_))));
        assert!(!status(&keys).set, "nothing was kept");
        let s = set(&keys, ApiKey::new("AIzaSyGoogleTest-5678").unwrap(), false).unwrap();
        assert_eq!((s.source, s.credential.clone()), (Some(KeySource::Keychain), Some(CredentialSummary::ApiKey { last4: "5678".into() })));
        assert!(!serde_json::to_string(&s).unwrap().contains("AIzaSyGoogleTest"));
        assert!(!clear(&keys).unwrap().set);
    }
}
