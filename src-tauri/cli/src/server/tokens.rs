//! The server's client tokens: made here (32 random bytes, shown once),
//! kept only as their SHA-256 in `tokens.json` (readable by its owner
//! only), listed and revoked by `sori-cli serve token`. A running server sees
//! a token added or revoked by another process at the next request (it
//! rereads the file when it changes). SHA-256 without a salt is enough here:
//! the tokens are random, not passwords, so there is nothing to guess.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// What every token starts with, so a leaked one is recognisable (secret scanners).
pub const PREFIX: &str = "sori_";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenEntry {
    /// Public: in logs, metrics and `token list`.
    pub id: String,
    pub name: String,
    sha256: String,
    pub created_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_ms: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token file {path} could not be read or written: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the token file {path} is damaged ({message}); it was left as it is: fix or remove it")]
    Damaged { path: PathBuf, message: String },
    #[error("no token is named or numbered {0}")]
    NoSuchToken(String),
    #[error("a token name is 1 to 64 letters, digits, '-', '_' or '.'")]
    BadName,
}

/// The token file, cached with the time it was last changed.
pub struct TokenBook {
    path: PathBuf,
    cache: Mutex<(Option<SystemTime>, Vec<TokenEntry>)>,
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn random(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

impl TokenBook {
    pub fn at(dir: &Path) -> Self {
        TokenBook { path: dir.join("tokens.json"), cache: Mutex::new((None, Vec::new())) }
    }

    fn read(&self) -> Result<Vec<TokenEntry>, TokenError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice::<TokenFile>(&bytes)
                .map(|f| f.tokens)
                .map_err(|e| TokenError::Damaged { path: self.path.clone(), message: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(TokenError::Io { path: self.path.clone(), source }),
        }
    }

    /// Writes atomically (temporary file, then rename), readable by the owner only.
    fn write(&self, tokens: Vec<TokenEntry>) -> Result<(), TokenError> {
        let io = |source| TokenError::Io { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let temp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&TokenFile { tokens }).expect("tokens serialize");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp).map_err(io)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&temp, &self.path).map_err(io)
    }

    /// Makes a token; the secret is returned once and kept nowhere.
    pub fn add(&self, name: &str) -> Result<(TokenEntry, String), TokenError> {
        let valid = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
        if name.is_empty() || name.len() > 64 || !name.chars().all(valid) {
            return Err(TokenError::BadName);
        }
        let mut tokens = self.read()?;
        let secret = format!("{PREFIX}{}", random(32));
        let entry = TokenEntry { id: format!("t_{}", &random(6)), name: name.into(), sha256: hash(&secret), created_ms: now_ms(), revoked_ms: None };
        tokens.push(entry.clone());
        self.write(tokens)?;
        Ok((entry, secret))
    }

    pub fn list(&self) -> Result<Vec<TokenEntry>, TokenError> {
        self.read()
    }

    /// Revokes every live token with this id or name.
    pub fn revoke(&self, which: &str) -> Result<Vec<TokenEntry>, TokenError> {
        let mut tokens = self.read()?;
        let mut revoked = Vec::new();
        for t in tokens.iter_mut().filter(|t| (t.id == which || t.name == which) && t.revoked_ms.is_none()) {
            t.revoked_ms = Some(now_ms());
            revoked.push(t.clone());
        }
        if revoked.is_empty() {
            return Err(TokenError::NoSuchToken(which.into()));
        }
        self.write(tokens)?;
        Ok(revoked)
    }

    /// The live token this secret is, rereading the file when it changed.
    /// A file that cannot be read lets nobody in.
    pub fn verify(&self, secret: &str) -> Option<TokenEntry> {
        let changed = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0 != changed || changed.is_none() {
            *cache = (changed, self.read().unwrap_or_default());
        }
        let wanted = hash(secret);
        cache.1.iter().find(|t| t.sha256 == wanted && t.revoked_ms.is_none()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_kept_hashed_works_until_revoked_and_a_revocation_elsewhere_is_seen() {
        let dir = std::env::temp_dir().join(format!("sori-tokens-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let book = TokenBook::at(&dir);
        let (entry, secret) = book.add("front-desk").unwrap();
        assert!(secret.starts_with(PREFIX) && secret.len() > 40);
        let file = std::fs::read_to_string(dir.join("tokens.json")).unwrap();
        assert!(!file.contains(&secret[PREFIX.len()..]) && file.contains(&hash(&secret)), "{file}");
        #[cfg(unix)]
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.join("tokens.json")).unwrap().permissions()) & 0o777, 0o600);
        assert_eq!(book.verify(&secret).map(|t| t.id), Some(entry.id.clone()));
        assert!(book.verify(&format!("{secret}x")).is_none() && book.verify("").is_none());
        // Another process (another book on the same file) revokes it.
        std::thread::sleep(std::time::Duration::from_millis(20));
        TokenBook::at(&dir).revoke("front-desk").unwrap();
        assert!(book.verify(&secret).is_none(), "the revocation is seen");
        assert!(matches!(book.revoke("front-desk"), Err(TokenError::NoSuchToken(_))), "only live tokens are revoked");
        assert!(matches!(book.add("no spaces"), Err(TokenError::BadName)));
        std::fs::write(dir.join("tokens.json"), "{not json").unwrap();
        assert!(matches!(book.list(), Err(TokenError::Damaged { .. })));
        assert!(book.verify(&secret).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
