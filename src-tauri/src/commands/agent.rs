//! The customer-service agent in the window: the shop's customers for the
//! picker, and the user's click on a confirmation card (the same answer as
//! saying yes or no, as a turn of the conversation).

use super::session::session;
use super::{blocking, CommandError, Failure};
use crate::state::AppState;
use sori_core::event::TurnId;
use sori_core::tools::shop::Customer;
use sori_core::turn::TurnInput;
use tauri::State;

/// The customers in the shop the settings point at.
#[tauri::command]
pub async fn list_customers(state: State<'_, AppState>) -> Result<Vec<Customer>, CommandError> {
    let settings = state.settings();
    blocking(move || sori_core::app::agent::customers(&settings)).await?.map_err(|e| CommandError::new(Failure::Shop, e))
}

/// Confirm (or cancel) the call the agent holds; `text` is what the
/// transcript shows the user said, in the window's language.
#[tauri::command]
pub async fn answer_confirmation(state: State<'_, AppState>, approve: bool, text: String, speak: bool) -> Result<TurnId, CommandError> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(CommandError::new(Failure::Empty, "The answer needs words for the transcript."));
    }
    Ok(session(&state)?.engine.ask_with(TurnInput::Answer { approve, text }, speak))
}
