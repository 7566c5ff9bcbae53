//! The engine's memory: a finished turn kept in the conversation (and the
//! Realtime link's context) and appended to the history, whoever waits for
//! it told once it is on disk; a saved conversation continued.

use super::{Engine, OpenError};
use crate::history::{now_ms, TurnRecord};
use crate::turn::TurnOutcome;
use tokio::sync::oneshot;

impl Engine {
    pub(super) fn keep(&mut self, outcome: TurnOutcome, reply_to: Option<oneshot::Sender<TurnOutcome>>) {
        let tell = move |outcome: TurnOutcome| {
            if let Some(tx) = reply_to {
                let _ = tx.send(outcome);
            }
        };
        let (Some(user), history) = (&outcome.user_text, &self.history) else { return tell(outcome) };
        self.conversation.record_turn(outcome.messages());
        self.share_context();
        let Some(history) = history else { return tell(outcome) };
        let record = TurnRecord {
            turn: 0,
            at_ms: now_ms(),
            user: user.clone(),
            assistant: outcome.heard.clone(),
            interrupted: outcome.interrupted,
            incomplete: outcome.incomplete,
            reason: outcome.reason,
            metrics: outcome.metrics,
            request_type: outcome.request_type,
        };
        history.append(record, move || tell(outcome));
    }

    /// Loads a saved conversation as the context and resumes its file.
    pub(super) async fn open(&mut self, id: &str) -> Result<(), OpenError> {
        let history = self.history.as_ref().ok_or(OpenError::HistoryOff)?;
        let records = history.resume(id).await?;
        self.conversation.clear();
        for r in &records {
            self.conversation.record(&r.user, &r.assistant);
        }
        self.share_context();
        Ok(())
    }
}
