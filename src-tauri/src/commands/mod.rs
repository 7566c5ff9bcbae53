//! The commands the web view can call, grouped by topic, and the error shape
//! they all return.

pub mod app;
pub mod devices;

use serde::Serialize;

/// What a failed command gives the UI: a stable `kind` to branch on and a
/// message that is safe to show (never a key, never a raw backtrace).
#[derive(Debug, Serialize)]
pub struct CommandError {
    pub kind: &'static str,
    pub message: String,
}

impl From<sori_core::audio::DeviceError> for CommandError {
    fn from(e: sori_core::audio::DeviceError) -> Self {
        CommandError { kind: "audio_devices", message: e.to_string() }
    }
}
