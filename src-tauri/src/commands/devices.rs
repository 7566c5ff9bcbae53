//! Sound devices for the settings panel.

use super::{blocking, CommandError};
use sori_core::audio::{list_devices, DeviceList};

/// Listing opens the audio system, which can be slow: off the main thread and the async workers.
#[tauri::command]
pub async fn audio_devices() -> Result<DeviceList, CommandError> {
    Ok(blocking(list_devices).await??)
}
