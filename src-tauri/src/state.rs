//! The one managed state of the app: keys, settings and history, and the
//! session and shortcut once they run. Cheap to clone (one `Arc`), so a
//! command can hand it to a blocking task. Commands reach it through
//! `tauri::State<AppState>`.

use crate::session::Session;
use sori_core::app::{providers_for, Built, ProviderSetupError};
use sori_core::event::{Event, WarningCode};
use sori_core::history::History;
use sori_core::provider::Providers;
use sori_core::realtime::link::LinkSetup;
use sori_core::secrets::Keys;
use sori_core::settings::{Settings, SettingsFile};
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

/// What became of the configured global shortcut.
#[derive(Debug, Clone, Default)]
pub struct HotkeyState {
    pub registered: Option<String>,
    pub error: Option<String>,
}

pub struct App {
    /// Opened on first use, off the main thread: probing the keychain talks
    /// D-Bus, which must not hold up the window.
    keys: OnceLock<Keys>,
    pub settings: Mutex<Settings>,
    pub settings_file: Option<SettingsFile>,
    /// What went wrong loading the settings, for the UI to show once.
    pub settings_warnings: Vec<String>,
    pub history: Option<History>,
    /// The conversation, once the window has started it.
    pub session: Mutex<Option<Arc<Session>>>,
    /// Held while a session starts (opening devices takes a while), so that
    /// `session` itself is only ever locked for a moment.
    pub starting: Mutex<()>,
    pub hotkey: Mutex<HotkeyState>,
    /// Model installs running now, by model id, to cancel them.
    pub installs: Mutex<std::collections::HashMap<String, tokio_util::sync::CancellationToken>>,
}

#[derive(Clone)]
pub struct AppState(Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    /// Reads the settings file (small, local); the keychain waits until needed.
    pub fn load() -> Self {
        let settings_file = SettingsFile::default_location();
        let loaded = settings_file.as_ref().map(SettingsFile::load);
        let (settings, settings_warnings) = loaded.map(|l| (l.settings, l.warnings)).unwrap_or_default();
        AppState(Arc::new(App {
            keys: OnceLock::new(),
            settings: Mutex::new(settings),
            settings_file,
            settings_warnings,
            history: History::default_location(),
            session: Mutex::default(),
            starting: Mutex::default(),
            hotkey: Mutex::default(),
            installs: Mutex::default(),
        }))
    }
}

impl App {
    /// The keys; the first call opens the keychain (blocking: call it off the main thread).
    pub fn keys(&self) -> &Keys {
        self.keys.get_or_init(Keys::open)
    }

    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap().clone()
    }

    pub fn base_url(&self) -> String {
        self.settings.lock().unwrap().base_url.clone()
    }

    pub fn session(&self) -> Option<Arc<Session>> {
        self.session.lock().unwrap().clone()
    }

    /// The providers and tools the settings and keys ask for (blocking: the
    /// keychain), and the warnings to show: a key that could not be read,
    /// tools that are off.
    pub fn providers(&self, settings: &Settings) -> Result<(Providers, Option<LinkSetup>, Vec<Event>), ProviderSetupError> {
        let Built { providers, key_problem, tool_problem } = providers_for(settings, self.keys())?;
        let realtime = sori_core::app::realtime::link_setup(settings, self.keys())?;
        let key = key_problem.map(|e| Event::warning(WarningCode::KeychainUnreadable, format!("{e} Sori goes on without the API key.")));
        let tools = tool_problem.map(|message| Event::warning(WarningCode::Tools, message));
        Ok((providers, realtime, key.into_iter().chain(tools).collect()))
    }

    /// Brings the running session up to date after settings or the key
    /// changed (blocking: it may reopen the microphone).
    pub fn apply_to_session(&self) -> Result<(), ProviderSetupError> {
        let Some(session) = self.session() else { return Ok(()) };
        let settings = self.settings();
        let (providers, realtime, warning) = self.providers(&settings)?;
        session.apply(&settings, providers, realtime);
        session.notify(warning);
        Ok(())
    }
}
