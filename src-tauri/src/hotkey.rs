//! The global push-to-talk shortcut (tauri-plugin-global-shortcut, which
//! wraps the `global-hotkey` crate: X11 key grabs, Windows and macOS hooks).
//! Held down it talks; released, the turn starts. Where the system refuses
//! global shortcuts (Wayland without XWayland, a shortcut taken by another
//! app) the reason is kept for the window, and its in-window key still works.

use crate::state::{AppState, HotkeyState};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutEvent, ShortcutState};

/// The plugin, with the handler that turns key-down/up into push-to-talk.
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app: &AppHandle<R>, _shortcut: &Shortcut, event: ShortcutEvent| {
            let session = app.state::<AppState>().session();
            if let Some(s) = session {
                match event.state() {
                    ShortcutState::Pressed => drop(s.press()),
                    ShortcutState::Released => s.release(),
                }
            }
        })
        .build()
}

/// Registers `accelerator` (e.g. "Ctrl+Shift+Space") in place of the last one.
pub fn apply<R: Runtime>(app: &AppHandle<R>, accelerator: &str) {
    let state = app.state::<AppState>();
    let mut current = state.hotkey.lock().unwrap();
    if current.registered.as_deref() == Some(accelerator) {
        return;
    }
    let shortcuts = app.global_shortcut();
    let _ = shortcuts.unregister_all();
    *current = match accelerator.parse::<Shortcut>() {
        Err(e) => HotkeyState { registered: None, error: Some(format!("“{accelerator}” is not a shortcut Sori understands: {e}.")) },
        Ok(shortcut) => match shortcuts.register(shortcut) {
            Ok(()) => HotkeyState { registered: Some(accelerator.to_string()), error: None },
            Err(e) => HotkeyState { registered: None, error: Some(refused(&e.to_string())) },
        },
    };
}

fn refused(reason: &str) -> String {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some() && std::env::var_os("DISPLAY").is_none();
    if wayland {
        format!("This Wayland session does not allow global shortcuts ({reason}). Use the button or the key in Sori's window.")
    } else {
        format!("The system refused the shortcut ({reason}). Another app may use it: pick another in Settings.")
    }
}
