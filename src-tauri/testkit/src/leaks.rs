//! Looking for a secret where it must not be: every file a test wrote, read
//! as text, and a check that finds the secret whole or any long piece of it
//! (a key cut short by a message limit is still a leak).

use std::path::Path;

/// Every file under `dir` (recursively), as (path, text).
pub fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), String::from_utf8_lossy(&bytes).to_string()));
        }
    }
    out
}

/// Panics, naming `what`, when `text` holds `secret` or a piece of 16 or
/// more of its characters from its start, middle or end.
pub fn assert_absent(what: &str, text: &str, secret: &str) {
    let n = secret.len();
    let pieces = [secret, &secret[..16.min(n)], &secret[n.saturating_sub(16)..], &secret[(n / 2).saturating_sub(8)..(n / 2 + 8).min(n)]];
    for piece in pieces {
        assert!(!text.contains(piece), "{what} holds a secret ({piece}):\n{text}");
    }
}
