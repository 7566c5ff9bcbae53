//! Build script of the desktop shell: generates Tauri's context and the app's
//! command permissions.

fn main() {
    // Declaring the app's commands makes each one need an explicit `allow-*`
    // permission in the window's capability, so the web view can call exactly
    // these and nothing more.
    let manifest = tauri_build::AppManifest::new().commands(&["app_info", "audio_devices"]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build script failed");
}
