//! Sori's desktop shell: a thin Tauri layer over `sori-core`.
//!
//! - [`commands`]: what the web view may call, one line each into the engine,
//!   grouped by topic; every command is also listed in `build.rs` so the window's
//!   capability must allow it by name.
//! - [`state`]: the one managed `AppState` (keys, settings, history, session).
//! - [`session`]: the engine, speaker and microphone behind the window.
//! - [`hotkey`]: the global push-to-talk shortcut.
//!
//! Modules depend one way: `session` on the engine only; `state` on
//! `session`; `hotkey` and `commands` on `state`.
//!
//! This file only wires things together; no logic lives here.

pub mod commands;
pub mod hotkey;
pub mod session;
pub mod state;

/// Builds and runs the app until its last window closes.
pub fn run() {
    tauri::Builder::default()
        .manage(state::AppState::load())
        .plugin(hotkey::plugin())
        .setup(|app| {
            use tauri::Manager;
            let state = app.state::<state::AppState>().inner().clone();
            hotkey::apply(app.handle(), &state.settings().hotkey);
            // Open the keychain now, off the main thread, so the first command finds it ready.
            tauri::async_runtime::spawn_blocking(move || {
                let _ = state.keys();
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::devices::audio_devices,
            commands::secrets::key_status,
            commands::secrets::set_key,
            commands::secrets::clear_key,
            commands::secrets::check_key,
            commands::google::google_key_status,
            commands::google::set_google_key,
            commands::google::clear_google_key,
            commands::google::check_google_key,
            commands::google::google_voices,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::history::list_conversations,
            commands::history::open_conversation,
            commands::history::export_conversation,
            commands::history::delete_conversation,
            commands::history::clear_history,
            commands::session::start_session,
            commands::session::ask,
            commands::agent::answer_confirmation,
            commands::agent::list_customers,
            commands::agent::mcp_servers,
            commands::agent::save_mcp_servers,
            commands::agent::set_mcp_tool,
            commands::session::stop,
            commands::session::ptt_press,
            commands::session::ptt_release,
            commands::session::new_conversation,
            commands::session::resume_conversation,
            commands::session::replay_turn,
            commands::session::preview_voice,
            commands::session::list_models,
            commands::session::list_voices,
            commands::models::local_models,
            commands::models::install_model,
            commands::models::cancel_model_install,
            commands::models::remove_model,
            commands::models::import_gguf,
            commands::models::local_servers,
        ])
        .run(tauri::generate_context!())
        .expect("Sori could not start its window");
}
