//! Past conversations: list, open, export (Markdown or JSON), delete, clear.
//! All of it is disk work, done on a blocking thread.

use super::{blocking, CommandError, Failure};
use crate::state::AppState;
use sori_core::history::{export, ConversationInfo, History, TurnRecord};
use tauri::{AppHandle, Manager, State};

fn history(state: &AppState) -> Result<History, CommandError> {
    state.history.clone().ok_or_else(|| CommandError::new(Failure::NoDataDir, "This system has no folder for the history."))
}

#[tauri::command]
pub async fn list_conversations(state: State<'_, AppState>) -> Result<Vec<ConversationInfo>, CommandError> {
    let history = history(&state)?;
    Ok(blocking(move || history.list()).await??)
}

#[tauri::command]
pub async fn open_conversation(state: State<'_, AppState>, id: String) -> Result<Vec<TurnRecord>, CommandError> {
    let history = history(&state)?;
    Ok(blocking(move || history.open(&id)).await??)
}

/// Saves the conversation as `markdown` or `json` in the user's Downloads
/// folder (the home folder when there is none) and returns the file's path.
/// Written here rather than through the web view: WebKitGTK's handling of a
/// page's download differs between versions, and the user should be told
/// exactly where the file went.
#[tauri::command]
pub async fn export_conversation(app: AppHandle, state: State<'_, AppState>, id: String, format: String) -> Result<String, CommandError> {
    let history = history(&state)?;
    let dir = app.path().download_dir().or_else(|_| app.path().home_dir()).map_err(|e| CommandError::new(Failure::NoFolder, e))?;
    blocking(move || {
        let records = history.open(&id)?;
        let (text, ext) = match format.as_str() {
            "markdown" => (export::markdown(&id, &records), "md"),
            "json" => (export::json(&id, &records), "json"),
            other => return Err(CommandError::new(Failure::BadFormat, format!("Unknown export format {other}."))),
        };
        Ok(export::save_new(&dir, &format!("sori-{id}"), ext, &text)?.display().to_string())
    })
    .await?
}

#[tauri::command]
pub async fn delete_conversation(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    let history = history(&state)?;
    Ok(blocking(move || history.delete(&id)).await??)
}

#[tauri::command]
pub async fn clear_history(state: State<'_, AppState>) -> Result<(), CommandError> {
    let history = history(&state)?;
    Ok(blocking(move || history.clear()).await??)
}
