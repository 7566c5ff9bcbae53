//! The conversation itself: start (events flow to the window's channel), ask
//! by typing, stop, push-to-talk, new or resumed conversation, replay of a
//! turn's captured audio, voice preview, and the provider's models and voices.

use super::CommandError;
use crate::session::Session;
use crate::state::AppState;
use futures_util::StreamExt;
use serde::Serialize;
use sori_core::event::{Event, TurnId};
use sori_core::provider::{SpeechRequest, TextToSpeech};
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

fn session(state: &AppState) -> Result<Arc<Session>, CommandError> {
    state.session.lock().unwrap().clone().ok_or_else(|| CommandError::new("no_session", "Sori is still starting."))
}

/// Starts the conversation (or joins it after a reload); events arrive on `on_event`.
#[tauri::command]
pub async fn start_session(state: State<'_, AppState>, on_event: Channel<Event>) -> Result<SessionInfo, CommandError> {
    let existing = state.session.lock().unwrap().clone();
    let s = match existing {
        Some(s) => {
            s.attach(on_event);
            s
        }
        None => {
            let s = Session::start(&state, on_event).map_err(|e| CommandError::new("session", e))?;
            *state.session.lock().unwrap() = Some(s.clone());
            s
        }
    };
    let hotkey = state.hotkey.lock().unwrap().clone();
    Ok(SessionInfo { microphone: s.has_microphone(), speaker: s.has_speaker(), hotkey: hotkey.registered, hotkey_error: hotkey.error })
}

/// A typed question; the reply is spoken unless `speak` is false.
#[tauri::command]
pub fn ask(state: State<'_, AppState>, text: String, speak: bool) -> Result<TurnId, CommandError> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(CommandError::new("empty", "Type a question first."));
    }
    Ok(session(&state)?.engine.ask_with(TurnInput::Text(text), speak))
}

/// The stop button: the reply stops at once; history keeps what was heard.
#[tauri::command]
pub fn stop(state: State<'_, AppState>) -> Result<(), CommandError> {
    session(&state)?.engine.cancel();
    Ok(())
}

#[tauri::command]
pub fn ptt_press(state: State<'_, AppState>) -> Result<(), CommandError> {
    if session(&state)?.press() {
        Ok(())
    } else {
        Err(CommandError::new("no_microphone", "No microphone is available. Pick one in Settings."))
    }
}

#[tauri::command]
pub fn ptt_release(state: State<'_, AppState>) -> Result<(), CommandError> {
    session(&state)?.release();
    Ok(())
}

/// Starts a new conversation; the old one stays in the history.
#[tauri::command]
pub fn new_conversation(state: State<'_, AppState>) -> Result<(), CommandError> {
    session(&state)?.engine.clear_history();
    Ok(())
}

/// Continues a saved conversation.
#[tauri::command]
pub async fn resume_conversation(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    Ok(session(&state)?.engine.open_conversation(&id).await?)
}

/// Plays what the microphone captured for a recent turn.
#[tauri::command]
pub async fn replay_turn(state: State<'_, AppState>, turn: TurnId) -> Result<f64, CommandError> {
    let s = session(&state)?;
    let audio = s.engine.turn_audio(turn).await.ok_or_else(|| CommandError::new("no_audio", "No recording is kept for this turn."))?;
    s.output.flush();
    s.output.queue(&audio);
    Ok(audio.samples.len() as f64 / audio.sample_rate.max(1) as f64)
}

/// Speaks `text` in a voice and style, without touching the conversation.
#[tauri::command]
pub async fn preview_voice(state: State<'_, AppState>, text: String, model: String, voice: String, style: String, speed: f32) -> Result<(), CommandError> {
    let s = session(&state)?;
    let settings = state.settings.lock().unwrap().clone();
    let client = crate::session::client(&state, &settings).map_err(|e| CommandError::new("insecure_url", e))?;
    let style = style.trim();
    let request = SpeechRequest { text: &text, model: &model, voice: &voice, instructions: (!style.is_empty()).then_some(style), speed, format: settings.audio_format };
    let mut audio = client.synthesize(request).await.map_err(|e| CommandError::new("provider", e))?;
    s.engine.cancel();
    s.output.flush();
    while let Some(piece) = audio.next().await {
        s.output.queue(&piece.map_err(|e| CommandError::new("provider", e))?);
    }
    Ok(())
}

/// The provider's model ids (`GET /models`); empty when it lists none.
#[tauri::command]
pub async fn list_models(state: State<'_, AppState>) -> Result<Vec<String>, CommandError> {
    let settings = state.settings.lock().unwrap().clone();
    let client = crate::session::client(&state, &settings).map_err(|e| CommandError::new("insecure_url", e))?;
    client.list_models().await.map_err(|e| CommandError::new("provider", e))
}

/// The voices a speech model offers (OpenAI has no endpoint listing them).
#[tauri::command]
pub fn list_voices(model: String) -> Vec<&'static str> {
    sori_core::provider::openai::tts::voices_for(&model).to_vec()
}
