//! The application layer every front end shares (the window's shell,
//! `sori-cli`, the tests, later the server): providers built from settings
//! and keys, per stage, in one place; key checks; the settings a headless
//! front end reads. Front ends only parse their input and call in here.

pub mod agent;
pub mod google;
pub mod keys;
pub mod local_servers;
pub mod providers;
pub mod realtime;

pub use keys::{check_key, KeyCheck};
pub use providers::{build_providers, client_for, providers_for, Built, Endpoint, ProviderPlan, ProviderSetupError};

use crate::settings::{Settings, SettingsFile};
use std::path::Path;

/// The settings a headless front end runs with: the file (`path`, else
/// Sori's own), then `OPENAI_BASE_URL`. Returns them with what the user
/// should be told about the file.
pub fn load_settings(path: Option<&Path>) -> (Settings, Vec<String>) {
    let file = path.map(SettingsFile::at).or_else(SettingsFile::default_location);
    let loaded = file.map(|f| f.load()).unwrap_or_else(|| crate::settings::Loaded { settings: Settings::default(), warnings: Vec::new() });
    let mut settings = loaded.settings;
    if let Ok(url) = std::env::var("OPENAI_BASE_URL") {
        settings.base_url = url;
    }
    (settings, loaded.warnings)
}
