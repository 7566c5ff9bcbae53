//! `ask --continue`: a conversation held over several commands. The turn
//! goes on from the latest conversation in history (its turns become the
//! model's context, as in the window) and is kept there when it ends.

use sori_core::conversation::Conversation;
use sori_core::history::{now_ms, ConversationLog, History, TurnRecord};
use sori_core::settings::Settings;
use sori_core::turn::TurnOutcome;

/// The conversation a turn continues, open for appending.
pub struct Continued {
    log: ConversationLog,
}

/// Loads the latest conversation's turns into `conversation` (or starts a
/// new conversation when history has none).
pub fn continue_latest(settings: &Settings, conversation: &mut Conversation) -> Result<Continued, String> {
    if !settings.history_enabled {
        return Err("--continue reads and keeps the conversation in history, which is off in the settings (history_enabled).".into());
    }
    let history = History::default_location().ok_or("this system has no data folder to keep history in")?;
    let unreadable = |e: std::io::Error| format!("the history could not be read: {e}");
    let log = match history.list().map_err(unreadable)?.first() {
        Some(latest) => {
            for turn in history.open(&latest.id).map_err(unreadable)? {
                conversation.record(&turn.user, &turn.assistant);
            }
            history.resume(&latest.id).map_err(unreadable)?
        }
        None => history.start().map_err(unreadable)?,
    };
    Ok(Continued { log })
}

impl Continued {
    /// Keeps the finished turn (one with nothing understood is not history).
    pub fn keep(&mut self, outcome: &TurnOutcome) -> Result<(), String> {
        let Some(user) = outcome.user_text.clone() else { return Ok(()) };
        let record = TurnRecord {
            turn: self.log.next_turn(),
            at_ms: now_ms(),
            user,
            assistant: outcome.heard.clone(),
            interrupted: outcome.interrupted,
            incomplete: outcome.incomplete,
            reason: outcome.reason,
            metrics: outcome.metrics,
            request_type: outcome.request_type,
        };
        self.log.append(&record).map_err(|e| format!("the turn could not be kept in history: {e}"))
    }
}
