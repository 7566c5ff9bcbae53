//! The one managed state of the app: keys, settings and history, loaded once
//! at start-up, and the session and shortcut once they run. Commands reach it through `tauri::State<AppState>`.

use sori_core::history::History;
use sori_core::secrets::Keys;
use sori_core::settings::{Settings, SettingsFile};
use crate::hotkey::HotkeyState;
use crate::session::Session;
use std::sync::{Arc, Mutex};

pub struct AppState {
    pub keys: Keys,
    pub settings: Mutex<Settings>,
    pub settings_file: Option<SettingsFile>,
    /// What went wrong loading the settings, for the UI to show once.
    pub settings_warnings: Vec<String>,
    pub history: Option<History>,
    /// The conversation, once the window has started it.
    pub session: Mutex<Option<Arc<Session>>>,
    pub hotkey: Mutex<HotkeyState>,
}

impl AppState {
    pub fn load() -> Self {
        let settings_file = SettingsFile::default_location();
        let loaded = settings_file.as_ref().map(SettingsFile::load);
        let (settings, settings_warnings) = loaded.map(|l| (l.settings, l.warnings)).unwrap_or_default();
        AppState { keys: Keys::open(), settings: Mutex::new(settings), settings_file, settings_warnings, history: History::default_location(), session: Mutex::default(), hotkey: Mutex::default() }
    }

    pub fn base_url(&self) -> String {
        self.settings.lock().unwrap().base_url.clone()
    }
}

impl AppState {
    /// Brings the running session up to date after settings or the key changed.
    pub fn apply_to_session(&self) -> Result<(), String> {
        let session = self.session.lock().unwrap().clone();
        session.map_or(Ok(()), |s| s.apply(self))
    }
}
