//! Sori's desktop shell: a thin Tauri layer over `sori-core`.
//!
//! - [`commands`]: what the web view may call, one line each into the engine,
//!   grouped by topic; every command is also listed in `build.rs` so the window's
//!   capability must allow it by name.
//!
//! This file only wires things together; no logic lives here.

pub mod commands;

/// Builds and runs the app until its last window closes.
pub fn run() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::devices::audio_devices,
        ])
        .run(tauri::generate_context!())
        .expect("Sori could not start its window");
}
