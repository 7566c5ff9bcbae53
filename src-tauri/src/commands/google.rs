//! The Google Cloud key and voices: status, set, clear, check, and the voice
//! list for the picker. As with the provider key, no command returns the key:
//! the web view hands in an API key or a key file's text once (never a path)
//! and afterwards sees only its kind and label.

use super::{blocking, CommandError, Failure};
use crate::state::AppState;
use sori_core::app::google::{self, GoogleKeyError, GoogleKeyStatus};
use sori_core::app::KeyCheck;
use sori_core::provider::google::GoogleVoice;
use sori_core::secrets::ApiKey;
use tauri::State;

impl From<GoogleKeyError> for CommandError {
    fn from(e: GoogleKeyError) -> Self {
        match e {
            GoogleKeyError::Credential(e) => CommandError::new(Failure::BadFormat, e),
            GoogleKeyError::Keychain(e) => e.into(),
        }
    }
}

#[tauri::command]
pub async fn google_key_status(state: State<'_, AppState>) -> Result<GoogleKeyStatus, CommandError> {
    let app = state.inner().clone();
    blocking(move || google::status(app.keys())).await
}

/// Keeps a Google key (an API key or a service account's JSON key file) once
/// it reads as one. Without a keychain this fails with `no_keychain` unless
/// the user chose `session_only`.
#[tauri::command]
pub async fn set_google_key(state: State<'_, AppState>, key: String, session_only: bool) -> Result<GoogleKeyStatus, CommandError> {
    let key = ApiKey::new(key).ok_or_else(|| CommandError::new(Failure::EmptyKey, "Paste a key first."))?;
    let app = state.inner().clone();
    blocking(move || {
        let status = google::set(app.keys(), key, session_only)?;
        app.apply_to_session()?;
        Ok::<_, CommandError>(status)
    })
    .await?
}

#[tauri::command]
pub async fn clear_google_key(state: State<'_, AppState>) -> Result<GoogleKeyStatus, CommandError> {
    let app = state.inner().clone();
    blocking(move || {
        let status = google::clear(app.keys())?;
        app.apply_to_session()?;
        Ok(status)
    })
    .await?
}

/// Tries the Google key with `voices.list`: works, rejected, unreachable.
#[tauri::command]
pub async fn check_google_key(state: State<'_, AppState>) -> Result<KeyCheck, CommandError> {
    let app = state.inner().clone();
    Ok(google::check(&app.settings(), app.keys()).await)
}

/// The voices Google offers for `language` (`ko-KR`), or all.
#[tauri::command]
pub async fn google_voices(state: State<'_, AppState>, language: Option<String>) -> Result<Vec<GoogleVoice>, CommandError> {
    let app = state.inner().clone();
    Ok(google::voices(&app.settings(), app.keys(), language.as_deref()).await?)
}
