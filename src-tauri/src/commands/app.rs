//! Who we are: app and engine versions, for the About line and bug reports.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub name: &'static str,
    pub version: &'static str,
    pub engine_version: &'static str,
}

#[tauri::command]
pub async fn app_info() -> AppInfo {
    AppInfo { name: "Sori", version: env!("CARGO_PKG_VERSION"), engine_version: sori_core::VERSION }
}
