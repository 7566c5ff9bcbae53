//! Past conversations: list, open, export (Markdown or JSON), delete, clear.

use super::CommandError;
use crate::state::AppState;
use sori_core::history::{export, ConversationInfo, History, TurnRecord};
use tauri::State;

fn history<'a>(state: &'a State<'_, AppState>) -> Result<&'a History, CommandError> {
    state.history.as_ref().ok_or_else(|| CommandError::new("no_data_dir", "This system has no folder for the history."))
}

#[tauri::command]
pub fn list_conversations(state: State<'_, AppState>) -> Result<Vec<ConversationInfo>, CommandError> {
    Ok(history(&state)?.list()?)
}

#[tauri::command]
pub fn open_conversation(state: State<'_, AppState>, id: String) -> Result<Vec<TurnRecord>, CommandError> {
    Ok(history(&state)?.open(&id)?)
}

/// The conversation as text in `format` (`markdown` or `json`), for the UI to save.
#[tauri::command]
pub fn export_conversation(state: State<'_, AppState>, id: String, format: String) -> Result<String, CommandError> {
    let records = history(&state)?.open(&id)?;
    match format.as_str() {
        "markdown" => Ok(export::markdown(&id, &records)),
        "json" => Ok(export::json(&id, &records)),
        other => Err(CommandError::new("bad_format", format!("Unknown export format {other}."))),
    }
}

#[tauri::command]
pub fn delete_conversation(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    Ok(history(&state)?.delete(&id)?)
}

#[tauri::command]
pub fn clear_history(state: State<'_, AppState>) -> Result<(), CommandError> {
    Ok(history(&state)?.clear()?)
}
