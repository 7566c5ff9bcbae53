//! Sound devices for the settings panel.

use super::CommandError;
use sori_core::audio::{list_devices, DeviceList};

/// Async so that a slow audio backend never blocks the window's main thread.
#[tauri::command]
pub async fn audio_devices() -> Result<DeviceList, CommandError> {
    Ok(list_devices()?)
}
