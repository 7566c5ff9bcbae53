//! Which key a provider uses and where it comes from: the keychain, this
//! session's memory, or the `OPENAI_API_KEY` environment variable, in that
//! order. The UI sees only [`KeyStatus`] (set or not, from where, last 4
//! characters) and [`KeyCheck`]; no function here hands the key to it.

use super::store::{account_for, MemoryStore, SecretError, SecretStore};
use super::ApiKey;
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    Keychain,
    Session,
    Environment,
}

/// What the UI may know about a provider's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyStatus {
    pub set: bool,
    pub source: Option<KeySource>,
    /// The store's name when the key is stored ("Secret Service", …).
    pub store: Option<String>,
    pub last4: Option<String>,
    pub keychain_available: bool,
    /// Why there is no keychain, in plain words, when there is none.
    pub keychain_problem: Option<String>,
}

/// The keys of all providers.
pub struct Keys {
    keychain: Result<Arc<dyn SecretStore>, SecretError>,
    session: MemoryStore,
    env: Option<ApiKey>,
}

impl Keys {
    /// The system's keychain (if any) and `OPENAI_API_KEY`.
    pub fn open() -> Self {
        let keychain = super::KeychainStore::open().map(|k| Arc::new(k) as Arc<dyn SecretStore>);
        Self::new(keychain, std::env::var("OPENAI_API_KEY").ok().and_then(ApiKey::new))
    }

    pub fn new(keychain: Result<Arc<dyn SecretStore>, SecretError>, env: Option<ApiKey>) -> Self {
        Keys { keychain, session: MemoryStore::default(), env }
    }

    /// The key to use for `base_url`, and where it came from.
    pub fn resolve(&self, base_url: &str) -> Result<Option<(ApiKey, KeySource)>, SecretError> {
        match self.stored(&account_for(base_url))? {
            Some(found) => Ok(Some(found)),
            None => Ok(self.env.clone().map(|k| (k, KeySource::Environment))),
        }
    }

    /// A secret by its account, from the keychain, else this session's memory.
    fn stored(&self, account: &str) -> Result<Option<(ApiKey, KeySource)>, SecretError> {
        if let Ok(store) = &self.keychain {
            if let Some(key) = store.get(account)? {
                return Ok(Some((key, KeySource::Keychain)));
            }
        }
        Ok(self.session.get(account)?.map(|k| (k, KeySource::Session)))
    }

    pub fn status(&self, base_url: &str) -> KeyStatus {
        self.status_of(self.resolve(base_url))
    }

    /// The status of a secret that is not an OpenAI-style key (no
    /// `OPENAI_API_KEY` stands in for it), by its account.
    pub fn secret_status(&self, account: &str) -> KeyStatus {
        self.status_of(self.stored(account))
    }

    fn status_of(&self, resolved: Result<Option<(ApiKey, KeySource)>, SecretError>) -> KeyStatus {
        let (resolved, problem) = match resolved {
            Ok(r) => (r, self.keychain.as_ref().err().map(ToString::to_string)),
            Err(e) => (None, Some(e.to_string())),
        };
        let store = resolved.as_ref().and_then(|(_, source)| match source {
            KeySource::Keychain => self.keychain.as_ref().ok().map(|s| s.name().to_string()),
            KeySource::Session => Some(self.session.name().to_string()),
            KeySource::Environment => None,
        });
        KeyStatus {
            set: resolved.is_some(),
            source: resolved.as_ref().map(|(_, s)| *s),
            store,
            last4: resolved.map(|(k, _)| k.last4()),
            keychain_available: self.keychain.is_ok(),
            keychain_problem: problem,
        }
    }

    /// Keeps `key` for `base_url`: in the keychain, or, when the user chose it
    /// (`session_only`), in memory. Without a keychain and without that choice,
    /// it refuses, so the UI can ask: a key is never quietly kept less safely.
    pub fn set(&self, base_url: &str, key: ApiKey, session_only: bool) -> Result<KeyStatus, SecretError> {
        let account = account_for(base_url);
        if session_only {
            if let Ok(store) = &self.keychain {
                store.delete(&account)?;
            }
            self.session.set(&account, &key)?;
        } else {
            let store = self.keychain.as_ref().map_err(Clone::clone)?;
            store.set(&account, &key)?;
            self.session.delete(&account)?;
        }
        Ok(self.status(base_url))
    }

    /// A secret that is not a provider's key (an MCP server's token), by its
    /// account: from the keychain, else this session's memory.
    pub fn secret(&self, account: &str) -> Result<Option<ApiKey>, SecretError> {
        Ok(self.stored(account)?.map(|(k, _)| k))
    }

    /// Keeps a secret in the keychain; without one, refuses (as `set` does).
    pub fn set_secret(&self, account: &str, value: &ApiKey) -> Result<(), SecretError> {
        self.keychain.as_ref().map_err(Clone::clone)?.set(account, value)
    }

    /// Forgets the key for `base_url` wherever Sori kept it (the environment
    /// variable is not Sori's to change).
    pub fn clear(&self, base_url: &str) -> Result<KeyStatus, SecretError> {
        let account = account_for(base_url);
        self.session.delete(&account)?;
        if let Ok(store) = &self.keychain {
            store.delete(&account)?;
        }
        Ok(self.status(base_url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ApiKey {
        ApiKey::new(s).unwrap()
    }

    #[test]
    fn keychain_then_session_then_environment() {
        let keys = Keys::new(Ok(Arc::new(MemoryStore::default())), Some(key("env-key-9999")));
        let url = "https://api.openai.com/v1";
        let s = keys.status(url);
        assert_eq!((s.set, s.source, s.last4.as_deref()), (true, Some(KeySource::Environment), Some("9999")));
        let s = keys.set(url, key("stored-1111"), false).unwrap();
        assert_eq!((s.source, s.last4.as_deref()), (Some(KeySource::Keychain), Some("1111")));
        let s = keys.set(url, key("session-2222"), true).unwrap();
        assert_eq!((s.source, s.last4.as_deref()), (Some(KeySource::Session), Some("2222")), "the keychain copy was removed");
        let s = keys.clear(url).unwrap();
        assert_eq!(s.source, Some(KeySource::Environment));
        // Another provider has its own key.
        keys.set("https://api.groq.com/openai/v1", key("groq-3333"), false).unwrap();
        assert_eq!(keys.status(url).last4.as_deref(), Some("9999"));
    }

    #[test]
    fn without_a_keychain_a_key_is_only_kept_when_the_user_says_so() {
        let keys = Keys::new(Err(SecretError::unavailable("no Secret Service")), None);
        let url = "https://api.openai.com/v1";
        let s = keys.status(url);
        assert!(!s.set && !s.keychain_available);
        assert_eq!(s.keychain_problem.as_deref(), Some("no Secret Service"));
        assert!(matches!(keys.set(url, key("k-4444"), false), Err(SecretError::Unavailable { .. })));
        let s = keys.set(url, key("k-4444"), true).unwrap();
        assert_eq!((s.source, s.store.as_deref()), (Some(KeySource::Session), Some("this session only")));
    }

    #[test]
    fn status_never_serializes_the_key() {
        let keys = Keys::new(Ok(Arc::new(MemoryStore::default())), None);
        keys.set("https://x.io/v1", key("very-secret-value-7777"), false).unwrap();
        let json = serde_json::to_string(&keys.status("https://x.io/v1")).unwrap();
        assert!(!json.contains("very-secret-value") && json.contains("7777"));
    }
}
