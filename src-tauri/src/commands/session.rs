//! The conversation itself: start (events flow to the window's channel), ask
//! by typing, stop, push-to-talk, new or resumed conversation, replay of a
//! turn's captured audio, voice preview, and the provider's models and voices.
//! Every sound goes through the engine, which stops whatever plays first.

use super::{blocking, CommandError, Failure};
use crate::session::Session;
use crate::state::AppState;
use serde::Serialize;
use sori_core::app::client_for;
use sori_core::event::{Event, TurnId};
use sori_core::turn::speaker::Voice;
use sori_core::turn::TurnInput;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

/// What the window needs to know about the session it joined.
#[derive(Serialize)]
pub struct SessionInfo {
    pub microphone: bool,
    pub speaker: bool,
    /// The global push-to-talk shortcut, when the system accepted it.
    pub hotkey: Option<String>,
    /// Why the shortcut could not be registered (some Wayland sessions).
    pub hotkey_error: Option<String>,
}

pub(crate) fn session(state: &AppState) -> Result<Arc<Session>, CommandError> {
    state.session().ok_or_else(|| CommandError::new(Failure::NoSession, "Sori is still starting."))
}

/// Starts the conversation (or joins it after a reload); events arrive on `on_event`.
#[tauri::command]
pub async fn start_session(state: State<'_, AppState>, on_event: Channel<Event>) -> Result<SessionInfo, CommandError> {
    let app = state.inner().clone();
    let s = blocking(move || {
        // One start at a time; the session slot itself is locked only for a moment.
        let _starting = app.starting.lock().unwrap();
        if let Some(s) = app.session() {
            s.attach(on_event);
            return Ok(s);
        }
        let settings = app.settings();
        let (providers, realtime, warning) = app.providers(&settings)?;
        let s = Session::start(&settings, providers, realtime, app.history.clone(), on_event);
        s.notify(warning);
        *app.session.lock().unwrap() = Some(s.clone());
        Ok::<_, CommandError>(s)
    })
    .await??;
    let hotkey = state.hotkey.lock().unwrap().clone();
    Ok(SessionInfo { microphone: s.has_microphone(), speaker: s.has_speaker(), hotkey: hotkey.registered, hotkey_error: hotkey.error })
}

/// A typed question; the reply is spoken unless `speak` is false.
#[tauri::command]
pub async fn ask(state: State<'_, AppState>, text: String, speak: bool) -> Result<TurnId, CommandError> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(CommandError::new(Failure::Empty, "Type a question first."));
    }
    Ok(session(&state)?.engine.ask_with(TurnInput::Text(text), speak))
}

/// The stop button: whatever plays stops at once; history keeps what was heard.
#[tauri::command]
pub async fn stop(state: State<'_, AppState>) -> Result<(), CommandError> {
    session(&state)?.engine.cancel();
    Ok(())
}

#[tauri::command]
pub async fn ptt_press(state: State<'_, AppState>) -> Result<(), CommandError> {
    if session(&state)?.press() {
        Ok(())
    } else {
        Err(CommandError::new(Failure::NoMicrophone, "No microphone is available. Pick one in Settings."))
    }
}

#[tauri::command]
pub async fn ptt_release(state: State<'_, AppState>) -> Result<(), CommandError> {
    session(&state)?.release();
    Ok(())
}

/// Starts a new conversation; the old one stays in the history.
#[tauri::command]
pub async fn new_conversation(state: State<'_, AppState>) -> Result<(), CommandError> {
    session(&state)?.engine.clear_history();
    Ok(())
}

/// Continues a saved conversation.
#[tauri::command]
pub async fn resume_conversation(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    Ok(session(&state)?.engine.open_conversation(&id).await?)
}

/// Plays what the microphone captured for a recent turn (after stopping
/// whatever plays); resolves to its length in seconds.
#[tauri::command]
pub async fn replay_turn(state: State<'_, AppState>, turn: TurnId) -> Result<f64, CommandError> {
    let length = session(&state)?.engine.replay(turn).await;
    length.map(|d| d.as_secs_f64()).ok_or_else(|| CommandError::new(Failure::NoAudio, "No recording is kept for this turn."))
}

/// Speaks `text` in a voice and style, without touching the conversation.
#[tauri::command]
pub async fn preview_voice(
    state: State<'_, AppState>,
    text: String,
    model: String,
    voice: String,
    style: String,
    speed: f32,
    pitch: Option<f32>,
) -> Result<(), CommandError> {
    let s = session(&state)?;
    let style = Some(style.trim().to_string()).filter(|s| !s.is_empty());
    let settings = state.settings();
    // A pitch not given is the one in Settings (only Google's voices take one).
    let pitch = pitch.unwrap_or(settings.turn_settings().voice.pitch);
    let voice = Voice { model, voice, style, speed, pitch, format: settings.audio_format };
    Ok(s.engine.preview(&text, voice).await?)
}

/// The provider's model ids (`GET /models`); empty when it lists none.
#[tauri::command]
pub async fn list_models(state: State<'_, AppState>) -> Result<Vec<String>, CommandError> {
    let app = state.inner().clone();
    let client = blocking(move || client_for(&app.base_url(), app.keys())).await??;
    Ok(client.list_models().await?)
}

/// The voices a speech model offers (OpenAI has no endpoint listing them).
#[tauri::command]
pub async fn list_voices(model: String) -> Vec<&'static str> {
    sori_core::provider::openai::tts::voices_for(&model).to_vec()
}
