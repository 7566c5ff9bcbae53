//! Where keys are kept: the OS keychain through `keyring` (Secret Service, then
//! the kernel keyring, on Linux; Keychain on macOS; Credential Manager on
//! Windows), or memory for this session only. One key per provider base URL.
//! keyring is built with real stores only: with none it would silently use a
//! mock that keeps nothing.

use super::ApiKey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The keychain's service name for Sori's entries.
pub const SERVICE: &str = "Sori";

/// Why a key could not be kept or read; the keychain's own error, when
/// there was one, is the source.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    /// No usable keychain: none running, or locked.
    #[error("{reason}")]
    Unavailable {
        reason: String,
        #[source]
        source: Option<Arc<keyring::Error>>,
    },
    #[error("The keychain refused: {message}")]
    Failed {
        message: String,
        #[source]
        source: Option<Arc<keyring::Error>>,
    },
}

impl SecretError {
    /// No keychain, for a reason in plain words.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        SecretError::Unavailable { reason: reason.into(), source: None }
    }
}

/// A place that keeps keys, by account (the provider's base URL).
pub trait SecretStore: Send + Sync {
    fn get(&self, account: &str) -> Result<Option<ApiKey>, SecretError>;
    fn set(&self, account: &str, key: &ApiKey) -> Result<(), SecretError>;
    /// Removes the key; removing a missing key is not an error.
    fn delete(&self, account: &str) -> Result<(), SecretError>;
    /// What the UI calls this store ("Secret Service", "this session only", …).
    fn name(&self) -> &'static str;
    /// Whether keys outlive the app.
    fn persistent(&self) -> bool;
}

/// The account for a provider: its base URL, normalised as a URL (scheme
/// and host in lower case, a default port dropped, no trailing slash), so
/// that spellings of one address do not make two entries.
pub fn account_for(base_url: &str) -> String {
    let trimmed = base_url.trim().trim_end_matches('/');
    match reqwest::Url::parse(trimmed) {
        Ok(url) => url.as_str().trim_end_matches('/').to_string(),
        Err(_) => trimmed.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    #[cfg(target_os = "linux")]
    SecretService,
    #[cfg(target_os = "linux")]
    Keyutils,
    #[cfg(not(target_os = "linux"))]
    Native,
}

/// The OS keychain.
#[derive(Debug)]
pub struct KeychainStore {
    backend: Backend,
}

fn map_err(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => SecretError::Unavailable {
            reason: format!("No usable keychain was found ({e}). On Linux, install and unlock a Secret Service such as GNOME Keyring or KeePassXC."),
            source: Some(Arc::new(e)),
        },
        other => SecretError::Failed { message: other.to_string(), source: Some(Arc::new(other)) },
    }
}

impl KeychainStore {
    /// Opens the best keychain this system has, or says why there is none.
    pub fn open() -> Result<Self, SecretError> {
        #[cfg(target_os = "linux")]
        {
            let secret_service = KeychainStore { backend: Backend::SecretService };
            let probe = secret_service.entry("sori-probe").map_err(map_err)?;
            match probe.get_password() {
                Ok(_) | Err(keyring::Error::NoEntry) => return Ok(secret_service),
                Err(_) => {}
            }
            let kernel = KeychainStore { backend: Backend::Keyutils };
            if kernel.works() {
                return Ok(kernel);
            }
            Err(SecretError::unavailable(
                "No usable keychain was found: no Secret Service is running (or it is locked), and there is no kernel session keyring. \
                 Install and unlock GNOME Keyring or KeePassXC, or keep the key for this session only.",
            ))
        }
        #[cfg(not(target_os = "linux"))]
        {
            Ok(KeychainStore { backend: Backend::Native })
        }
    }

    /// Opens one backend by name, for tests and for users who choose:
    /// `secret-service` or `keyutils` (Linux only).
    pub fn open_named(name: &str) -> Result<Self, SecretError> {
        #[cfg(target_os = "linux")]
        {
            let store = match name {
                "secret-service" => KeychainStore { backend: Backend::SecretService },
                "keyutils" => KeychainStore { backend: Backend::Keyutils },
                other => return Err(SecretError::Failed { message: format!("unknown keychain {other}"), source: None }),
            };
            Ok(store)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = name;
            Self::open()
        }
    }

    /// The kernel keyring answers `NoEntry` to everything outside a session
    /// keyring, so only a full round trip proves it works.
    #[cfg(target_os = "linux")]
    fn works(&self) -> bool {
        let Ok(probe) = self.entry("sori-probe") else { return false };
        let ok = probe.set_password("probe").is_ok() && probe.get_password().ok().as_deref() == Some("probe");
        let _ = probe.delete_credential();
        ok
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, keyring::Error> {
        match self.backend {
            #[cfg(target_os = "linux")]
            Backend::SecretService => {
                let c = keyring::secret_service::SsCredential::new_with_target(None, SERVICE, account)?;
                Ok(keyring::Entry::new_with_credential(Box::new(c)))
            }
            #[cfg(target_os = "linux")]
            Backend::Keyutils => {
                let c = keyring::keyutils::KeyutilsCredential::new_with_target(None, SERVICE, account)?;
                Ok(keyring::Entry::new_with_credential(Box::new(c)))
            }
            #[cfg(not(target_os = "linux"))]
            Backend::Native => keyring::Entry::new(SERVICE, account),
        }
    }
}

impl SecretStore for KeychainStore {
    fn get(&self, account: &str) -> Result<Option<ApiKey>, SecretError> {
        match self.entry(account).and_then(|e| e.get_password()) {
            Ok(secret) => Ok(ApiKey::new(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    fn set(&self, account: &str, key: &ApiKey) -> Result<(), SecretError> {
        self.entry(account).and_then(|e| e.set_password(key.expose())).map_err(map_err)
    }

    fn delete(&self, account: &str) -> Result<(), SecretError> {
        match self.entry(account).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    fn name(&self) -> &'static str {
        match self.backend {
            #[cfg(target_os = "linux")]
            Backend::SecretService => "Secret Service",
            #[cfg(target_os = "linux")]
            Backend::Keyutils => "kernel keyring (until you log out)",
            #[cfg(not(target_os = "linux"))]
            Backend::Native => {
                if cfg!(target_os = "macos") {
                    "macOS Keychain"
                } else {
                    "Windows Credential Manager"
                }
            }
        }
    }

    fn persistent(&self) -> bool {
        match self.backend {
            #[cfg(target_os = "linux")]
            Backend::Keyutils => false,
            _ => true,
        }
    }
}

/// Keys for this session only, when the user chooses that over a keychain.
/// Nothing is written anywhere.
#[derive(Debug, Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<String, ApiKey>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<ApiKey>, SecretError> {
        Ok(self.keys.lock().unwrap().get(account).cloned())
    }
    fn set(&self, account: &str, key: &ApiKey) -> Result<(), SecretError> {
        self.keys.lock().unwrap().insert(account.to_string(), key.clone());
        Ok(())
    }
    fn delete(&self, account: &str) -> Result<(), SecretError> {
        self.keys.lock().unwrap().remove(account);
        Ok(())
    }
    fn name(&self) -> &'static str {
        "this session only"
    }
    fn persistent(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_ignore_case_and_trailing_slashes() {
        assert_eq!(account_for("HTTPS://API.OpenAI.com/v1/"), "https://api.openai.com/v1");
        assert_eq!(account_for("http://127.0.0.1:8080/v1"), "http://127.0.0.1:8080/v1");
        assert_ne!(account_for("https://api.groq.com/openai/v1"), account_for("https://api.openai.com/v1"));
        assert_eq!(account_for("https://api.openai.com:443/v1"), account_for("https://api.openai.com/v1"));
    }

    #[test]
    fn memory_keeps_keys_for_the_session() {
        let m = MemoryStore::default();
        let k = ApiKey::new("k-1234").unwrap();
        assert_eq!(m.get("a").unwrap(), None);
        m.set("a", &k).unwrap();
        assert_eq!(m.get("a").unwrap(), Some(k));
        m.delete("a").unwrap();
        m.delete("a").unwrap();
        assert_eq!(m.get("a").unwrap(), None);
        assert!(!m.persistent());
    }
}
