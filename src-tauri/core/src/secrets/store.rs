//! Where keys are kept: the OS keychain through `keyring` (Secret Service, then
//! the kernel keyring, on Linux; Keychain on macOS; Credential Manager on
//! Windows), or memory for this session only. One key per provider base URL.
//! keyring is built with real stores only: with none it would silently use a
//! mock that keeps nothing.

use super::ApiKey;
use std::collections::HashMap;
use std::sync::Mutex;

/// The keychain's service name for Sori's entries.
pub const SERVICE: &str = "Sori";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No usable keychain: none running, or locked.
    #[error("{0}")]
    Unavailable(String),
    #[error("The keychain refused: {0}")]
    Failed(String),
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

/// The account for a provider: its base URL, normalised so that trailing
/// slashes and letter case do not make two entries.
pub fn account_for(base_url: &str) -> String {
    let url = base_url.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, String::new()));
            format!("{}://{}{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), path)
        }
        None => url.to_string(),
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
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => SecretError::Unavailable(format!(
            "No usable keychain was found ({e}). On Linux, install and unlock a Secret Service such as GNOME Keyring or KeePassXC."
        )),
        other => SecretError::Failed(other.to_string()),
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
            Err(SecretError::Unavailable(
                "No usable keychain was found: no Secret Service is running (or it is locked), and there is no kernel session keyring. \
                 Install and unlock GNOME Keyring or KeePassXC, or keep the key for this session only."
                    .into(),
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
                other => return Err(SecretError::Failed(format!("unknown keychain {other}"))),
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
