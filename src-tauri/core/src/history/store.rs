//! Conversation files: `<id>.jsonl`, one [`TurnRecord`] a line. A line is
//! written whole with one `write` and synced before the turn counts as kept;
//! a torn last line (power loss) is skipped when reading and cut off before
//! appending again.

use super::TurnRecord;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;

/// A conversation as the history list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationInfo {
    pub id: String,
    /// The first question, shortened, as a title.
    pub title: String,
    pub turns: usize,
    pub started_ms: u64,
    pub last_ms: u64,
    /// How many turns asked for each request type (by its name).
    pub request_types: std::collections::BTreeMap<String, usize>,
}

/// The history folder.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
}

/// Ids are made here; anything else (a path, `..`) is refused.
fn valid_id(id: &str) -> io::Result<&str> {
    if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(id)
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, "not a conversation id"))
    }
}

impl History {
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        History { dir: dir.into() }
    }

    /// `history/` in the OS data folder.
    pub fn default_location() -> Option<Self> {
        dirs::data_dir().map(|d| Self::at(d.join("sori").join("history")))
    }

    fn path(&self, id: &str) -> io::Result<PathBuf> {
        Ok(self.dir.join(format!("{}.jsonl", valid_id(id)?)))
    }

    /// Starts a new conversation file.
    pub fn start(&self) -> io::Result<ConversationLog> {
        std::fs::create_dir_all(&self.dir)?;
        let now = super::now_ms();
        let id = format!("{now}-{:04x}", std::process::id() as u16 ^ (now as u16).rotate_left(7));
        let log = self.resume(&id)?;
        // The new file's name must reach the disk too.
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(log)
    }

    /// Opens a conversation to add turns to it.
    pub fn resume(&self, id: &str) -> io::Result<ConversationLog> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(id)?;
        let file = OpenOptions::new().create(true).read(true).append(true).open(&path)?;
        // Cut a torn last line, so the next turn starts on a line of its own.
        let bytes = std::fs::read(&path)?;
        let whole = bytes.iter().rposition(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
        if whole < bytes.len() {
            file.set_len(whole as u64)?;
            file.sync_all()?;
        }
        let next_turn = read_records(&bytes[..whole]).last().map(|r| r.turn + 1).unwrap_or(1);
        Ok(ConversationLog { id: id.to_string(), file, next_turn })
    }

    /// The turns of a conversation, oldest first.
    pub fn open(&self, id: &str) -> io::Result<Vec<TurnRecord>> {
        Ok(read_records(&std::fs::read(self.path(id)?)?))
    }

    /// All conversations, newest first.
    pub fn list(&self) -> io::Result<Vec<ConversationInfo>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut list = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(id) = name.strip_suffix(".jsonl") else { continue };
            let Ok(records) = self.open(id) else { continue };
            let (Some(first), Some(last)) = (records.first(), records.last()) else { continue };
            let title: String = first.user.chars().take(60).collect();
            let mut request_types = std::collections::BTreeMap::new();
            for kind in records.iter().filter_map(|r| r.request_type) {
                *request_types.entry(kind.name().to_string()).or_insert(0) += 1;
            }
            list.push(ConversationInfo {
                id: id.to_string(),
                title,
                turns: records.len(),
                started_ms: first.at_ms,
                last_ms: last.at_ms,
                request_types,
            });
        }
        list.sort_by(|a, b| b.last_ms.cmp(&a.last_ms).then(b.id.cmp(&a.id)));
        Ok(list)
    }

    pub fn delete(&self, id: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path(id)?) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Deletes every conversation.
    pub fn clear(&self) -> io::Result<()> {
        for info in self.list()? {
            self.delete(&info.id)?;
        }
        Ok(())
    }
}

/// Whole, parseable lines only: a torn or foreign line is skipped, not fatal.
fn read_records(bytes: &[u8]) -> Vec<TurnRecord> {
    bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).filter_map(|l| serde_json::from_slice(l).ok()).collect()
}

/// An open conversation file that turns are appended to.
#[derive(Debug)]
pub struct ConversationLog {
    pub id: String,
    file: File,
    next_turn: u64,
}

impl ConversationLog {
    /// The number the next turn gets.
    pub fn next_turn(&self) -> u64 {
        self.next_turn
    }

    /// Appends a finished turn and syncs it to disk before returning.
    pub fn append(&mut self, record: &TurnRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()?;
        self.next_turn = record.turn + 1;
        Ok(())
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
