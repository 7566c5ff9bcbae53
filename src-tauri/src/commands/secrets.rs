//! The provider's API key: status, set, clear, check. No command returns the
//! key: the web view hands it in once and afterwards sees only its status.

use super::CommandError;
use crate::state::AppState;
use sori_core::provider::openai::OpenAi;
use sori_core::secrets::{check_key as check, ApiKey, KeyCheck, KeyStatus, SecretError};
use tauri::State;

fn keychain_error(e: SecretError) -> CommandError {
    match e {
        SecretError::Unavailable(m) => CommandError::new("no_keychain", m),
        SecretError::Failed(m) => CommandError::new("keychain", m),
    }
}

#[tauri::command]
pub fn key_status(state: State<'_, AppState>) -> KeyStatus {
    state.keys.status(&state.base_url())
}

/// Keeps a key for the current provider. Without a keychain this fails with
/// `no_keychain` unless the user chose `session_only`.
#[tauri::command]
pub fn set_key(state: State<'_, AppState>, key: String, session_only: bool) -> Result<KeyStatus, CommandError> {
    let key = ApiKey::new(key).ok_or_else(|| CommandError::new("empty_key", "Paste a key first."))?;
    let base_url = state.base_url();
    OpenAi::new(&base_url, Some(key.clone())).map_err(|e| CommandError::new("insecure_url", e))?;
    let status = state.keys.set(&base_url, key, session_only).map_err(keychain_error)?;
    let _ = state.apply_to_session();
    Ok(status)
}

#[tauri::command]
pub fn clear_key(state: State<'_, AppState>) -> Result<KeyStatus, CommandError> {
    let status = state.keys.clear(&state.base_url()).map_err(keychain_error)?;
    let _ = state.apply_to_session();
    Ok(status)
}

/// Tries the key with `GET /models`: works, rejected, unreachable.
#[tauri::command]
pub async fn check_key(state: State<'_, AppState>) -> Result<KeyCheck, CommandError> {
    let base_url = state.base_url();
    let key = state.keys.resolve(&base_url).map_err(keychain_error)?.map(|(k, _)| k);
    Ok(check(&base_url, key).await)
}
