//! Build script of the desktop shell: generates Tauri's context and the app's
//! command permissions.

fn main() {
    // Every command is declared: a declared command needs an explicit `allow-*`
    // permission in the window's capability (undeclared ones would be open to
    // any window), so the web view can call exactly what it is granted.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_info",
        "audio_devices",
        "key_status",
        "set_key",
        "clear_key",
        "check_key",
        "google_key_status",
        "set_google_key",
        "clear_google_key",
        "check_google_key",
        "google_voices",
        "get_settings",
        "save_settings",
        "list_conversations",
        "open_conversation",
        "export_conversation",
        "delete_conversation",
        "clear_history",
        "start_session",
        "ask",
        "stop",
        "ptt_press",
        "ptt_release",
        "new_conversation",
        "resume_conversation",
        "replay_turn",
        "preview_voice",
        "list_models",
        "list_voices",
        "local_models",
        "install_model",
        "cancel_model_install",
        "remove_model",
        "import_gguf",
        "local_servers",
        "answer_confirmation",
        "list_customers",
        "mcp_servers",
        "save_mcp_servers",
        "set_mcp_tool",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("tauri build script failed");
}
