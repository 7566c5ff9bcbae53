//! API keys in memory: a type that cannot leak through `Debug`, `Display` or
//! serde, so a key never lands in a log line, an event or an error message.

use std::fmt;

/// An API key. Only [`ApiKey::expose`] gives the text, for the one place that
/// builds the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Takes a key as typed or read from a store; surrounding whitespace (a
    /// common paste accident) is dropped. `None` if nothing is left.
    pub fn new(key: impl Into<String>) -> Option<Self> {
        let key = key.into().trim().to_string();
        (!key.is_empty()).then_some(ApiKey(key))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last 4 characters, which the UI may show to tell keys apart.
    pub fn last4(&self) -> String {
        let n = self.0.chars().count();
        self.0.chars().skip(n.saturating_sub(4)).collect()
    }

    /// Replaces every occurrence of the key in `text` (for messages that echo
    /// what a server or library said).
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "[redacted key]")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey(…{})", self.last4())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "…{}", self.last4())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_never_prints() {
        let key = ApiKey::new("  secret-value-9876 \n").unwrap();
        assert_eq!(key.expose(), "secret-value-9876");
        assert_eq!(format!("{key:?} {key}"), "ApiKey(…9876) …9876");
        assert_eq!(key.redact("got secret-value-9876!"), "got [redacted key]!");
        assert!(ApiKey::new("   ").is_none());
    }
}
