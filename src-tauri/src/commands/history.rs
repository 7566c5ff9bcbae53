//! Past conversations: list, open, export (Markdown or JSON), delete, clear.

use super::CommandError;
use crate::state::AppState;
use sori_core::history::{export, ConversationInfo, History, TurnRecord};
use tauri::{AppHandle, Manager, State};

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

/// Saves the conversation as `markdown` or `json` in the user's Downloads
/// folder (the home folder when there is none) and returns the file's path.
/// Written here rather than through the web view: WebKitGTK's handling of a
/// page's download differs between versions, and the user should be told
/// exactly where the file went.
#[tauri::command]
pub fn export_conversation(app: AppHandle, state: State<'_, AppState>, id: String, format: String) -> Result<String, CommandError> {
    let records = history(&state)?.open(&id)?;
    let (text, ext) = match format.as_str() {
        "markdown" => (export::markdown(&id, &records), "md"),
        "json" => (export::json(&id, &records), "json"),
        other => return Err(CommandError::new("bad_format", format!("Unknown export format {other}."))),
    };
    let dir = app.path().download_dir().or_else(|_| app.path().home_dir()).map_err(|e| CommandError::new("no_folder", e))?;
    Ok(export::save_new(&dir, &format!("sori-{id}"), ext, &text)?.display().to_string())
}

#[tauri::command]
pub fn delete_conversation(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    Ok(history(&state)?.delete(&id)?)
}

#[tauri::command]
pub fn clear_history(state: State<'_, AppState>) -> Result<(), CommandError> {
    Ok(history(&state)?.clear()?)
}
