//! Reading and saving the settings; invalid values come back as field errors,
//! saved ones apply at once (shortcut, devices, providers, persona). Saving
//! syncs a file and may reopen the microphone: a blocking thread does it.

use super::{blocking, CommandError, Failure};
use crate::state::AppState;
use serde::Serialize;
use sori_core::settings::{SaveError, Settings};
use tauri::State;

#[derive(Serialize)]
pub struct SettingsView {
    pub settings: Settings,
    /// Problems found when the file was loaded (shown once, as a notice).
    pub warnings: Vec<String>,
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Result<SettingsView, CommandError> {
    Ok(SettingsView { settings: state.settings(), warnings: state.settings_warnings.clone() })
}

#[tauri::command]
pub async fn save_settings(app: tauri::AppHandle, state: State<'_, AppState>, settings: Settings) -> Result<Settings, CommandError> {
    let file = state.settings_file.clone().ok_or_else(|| CommandError::new(Failure::NoConfigDir, "This system has no folder for settings."))?;
    let saved = settings.clone();
    blocking(move || file.save(&saved)).await?.map_err(|e| match e {
        SaveError::Invalid(fields) => CommandError { fields, ..CommandError::new(Failure::Invalid, "Some settings are not valid.") },
        SaveError::Io(e) => CommandError::new(Failure::Io, format!("The settings could not be saved: {e}")),
    })?;
    *state.settings.lock().unwrap() = settings.clone();
    let (app_state, hotkey) = (state.inner().clone(), settings.hotkey.clone());
    // Registering the shortcut waits on the main thread; applying may reopen the microphone.
    blocking(move || {
        crate::hotkey::apply(&app, &hotkey);
        app_state.apply_to_session()
    })
    .await??;
    Ok(settings)
}
