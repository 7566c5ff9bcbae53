//! The conversation history on disk: one JSON Lines file per conversation in
//! the OS data folder (e.g. `~/.local/share/sori/history/`), one line per
//! finished turn, appended with a single write and synced, so a crash loses at
//! most the turn in flight and the file stays readable. Listing, opening,
//! exporting (Markdown, JSON), deleting and clearing live in [`store`]; the
//! engine writes through [`writer`], off its async task.

pub mod export;
pub mod store;
pub mod writer;

pub use store::{ConversationInfo, ConversationLog, History};
pub use writer::HistoryWriter;

use crate::event::{Incomplete, TurnMetrics};
use serde::{Deserialize, Serialize};

/// One finished turn as it is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    pub turn: u64,
    /// When the turn ended, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub user: String,
    /// The reply as the user heard it.
    pub assistant: String,
    pub interrupted: bool,
    pub incomplete: bool,
    /// Why an incomplete turn is incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Incomplete>,
    #[serde(default)]
    pub metrics: TurnMetrics,
    /// What the user asked for (history from before request types has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<crate::request_type::RequestType>,
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
