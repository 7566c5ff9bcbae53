//! The one managed state of the app: keys, settings and history, loaded once
//! at start-up. Commands reach it through `tauri::State<AppState>`.

use sori_core::history::History;
use sori_core::secrets::Keys;
use sori_core::settings::{Settings, SettingsFile};
use std::sync::Mutex;

pub struct AppState {
    pub keys: Keys,
    pub settings: Mutex<Settings>,
    pub settings_file: Option<SettingsFile>,
    /// What went wrong loading the settings, for the UI to show once.
    pub settings_warnings: Vec<String>,
    pub history: Option<History>,
}

impl AppState {
    pub fn load() -> Self {
        let settings_file = SettingsFile::default_location();
        let loaded = settings_file.as_ref().map(SettingsFile::load);
        let (settings, settings_warnings) = loaded.map(|l| (l.settings, l.warnings)).unwrap_or_default();
        AppState { keys: Keys::open(), settings: Mutex::new(settings), settings_file, settings_warnings, history: History::default_location() }
    }

    pub fn base_url(&self) -> String {
        self.settings.lock().unwrap().base_url.clone()
    }
}
