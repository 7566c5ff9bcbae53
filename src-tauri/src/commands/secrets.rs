//! The provider's API key: status, set, clear, check. No command returns the
//! key: the web view hands it in once and afterwards sees only its status.
//! The keychain talks D-Bus, so every call runs on a blocking thread.

use super::{blocking, CommandError, Failure};
use crate::state::AppState;
use sori_core::app::{check_key as check, KeyCheck};
use sori_core::provider::openai::OpenAi;
use sori_core::secrets::{ApiKey, KeyStatus};
use tauri::State;

#[tauri::command]
pub async fn key_status(state: State<'_, AppState>) -> Result<KeyStatus, CommandError> {
    let app = state.inner().clone();
    blocking(move || app.keys().status(&app.base_url())).await
}

/// Keeps a key for the current provider. Without a keychain this fails with
/// `no_keychain` unless the user chose `session_only`.
#[tauri::command]
pub async fn set_key(state: State<'_, AppState>, key: String, session_only: bool) -> Result<KeyStatus, CommandError> {
    let key = ApiKey::new(key).ok_or_else(|| CommandError::new(Failure::EmptyKey, "Paste a key first."))?;
    let app = state.inner().clone();
    let status = blocking(move || {
        let base_url = app.base_url();
        OpenAi::new(&base_url, Some(key.clone()))?;
        let status = app.keys().set(&base_url, key, session_only)?;
        app.apply_to_session()?;
        Ok::<_, CommandError>(status)
    })
    .await??;
    Ok(status)
}

#[tauri::command]
pub async fn clear_key(state: State<'_, AppState>) -> Result<KeyStatus, CommandError> {
    let app = state.inner().clone();
    blocking(move || {
        let status = app.keys().clear(&app.base_url())?;
        app.apply_to_session()?;
        Ok(status)
    })
    .await?
}

/// Tries the key with `GET /models`: works, rejected, unreachable.
#[tauri::command]
pub async fn check_key(state: State<'_, AppState>) -> Result<KeyCheck, CommandError> {
    let app = state.inner().clone();
    let base_url = app.base_url();
    let key = blocking(move || app.keys().resolve(&app.base_url())).await??.map(|(k, _)| k);
    Ok(check(&base_url, key).await)
}
