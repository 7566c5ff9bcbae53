//! Reading and saving the settings; invalid values come back as field errors,
//! saved ones apply at once (shortcut, devices, providers, persona).

use super::CommandError;
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
pub fn get_settings(state: State<'_, AppState>) -> SettingsView {
    SettingsView { settings: state.settings.lock().unwrap().clone(), warnings: state.settings_warnings.clone() }
}

#[tauri::command]
pub fn save_settings(app: tauri::AppHandle, state: State<'_, AppState>, settings: Settings) -> Result<Settings, CommandError> {
    let file = state.settings_file.as_ref().ok_or_else(|| CommandError::new("no_config_dir", "This system has no folder for settings."))?;
    file.save(&settings).map_err(|e| match e {
        SaveError::Invalid(fields) => CommandError { kind: "invalid", message: "Some settings are not valid.".into(), fields },
        SaveError::Io(m) => CommandError::new("io", m),
    })?;
    *state.settings.lock().unwrap() = settings.clone();
    crate::hotkey::apply(&app, &settings.hotkey);
    state.apply_to_session().map_err(|e| CommandError::new("session", e))?;
    Ok(settings)
}
