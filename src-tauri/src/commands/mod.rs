//! The commands the web view can call, grouped by topic, and the error shape
//! they all return. Each is also listed in `build.rs`, so the window's
//! capability must allow it by name.

pub mod app;
pub mod devices;
pub mod history;
pub mod secrets;
pub mod session;
pub mod settings;

use serde::Serialize;
use sori_core::settings::FieldError;

/// What a failed command gives the UI: a stable `kind` to branch on, a
/// message that is safe to show (never a key), and field errors for forms.
#[derive(Debug, Serialize)]
pub struct CommandError {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl CommandError {
    pub fn new(kind: &'static str, message: impl ToString) -> Self {
        CommandError { kind, message: message.to_string(), fields: Vec::new() }
    }
}

impl From<sori_core::audio::DeviceError> for CommandError {
    fn from(e: sori_core::audio::DeviceError) -> Self {
        CommandError::new("audio_devices", e)
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        CommandError::new("io", e)
    }
}
