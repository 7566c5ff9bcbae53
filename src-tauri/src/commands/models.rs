//! Models on this computer: the catalogue with what is installed here, an
//! install with its progress on a channel (resumable, cancellable), removal,
//! GGUF chat models the user brings, and chat servers already running here.
//! After a model lands the session is rebuilt, so a stage that was waiting
//! for it loads it at once.

use super::{blocking, CommandError, Failure};
use crate::state::AppState;
use serde::Serialize;
use sori_core::app::local_servers::{self, LocalServer};
use sori_core::models::chat::ImportedModel;
use sori_core::models::{ModelError, ModelManager, ModelStatus, Progress};
use sori_core::provider::local::Measured;
use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;

impl From<ModelError> for CommandError {
    fn from(e: ModelError) -> Self {
        let kind = if matches!(e, ModelError::Cancelled) { Failure::Cancelled } else { Failure::Model };
        CommandError::new(kind, e)
    }
}

/// The models Sori offers and where they go.
#[derive(Serialize)]
pub struct LocalModels {
    pub dir: String,
    pub models: Vec<ModelStatus>,
    /// Whether espeak-ng (the local voice that is always there) is installed.
    pub espeak: bool,
    /// GGUF chat models the user imported.
    pub imported: Vec<ImportedModel>,
    /// The chat model Sori would choose for this computer's memory.
    pub suggested_chat: &'static str,
    /// The model `auto` (or the chosen one) runs now, and how fast it
    /// answered on this computer once it has.
    pub active_chat: Option<String>,
    pub chat_speed: Option<Measured>,
}

#[tauri::command]
pub async fn local_models(state: State<'_, AppState>) -> Result<LocalModels, CommandError> {
    let choice = state.settings().local_chat_model;
    blocking(move || {
        let manager = ModelManager::default_location();
        let espeak = sori_local::Espeak::find().is_ok();
        let suggested_chat = sori_core::models::chat::suggested(sori_core::models::chat::total_memory()).id;
        let active = sori_core::models::chat::chat_dir(&choice).filter(|d| d.is_dir());
        LocalModels {
            dir: manager.dir().display().to_string(),
            models: manager.list(),
            espeak,
            imported: manager.imported(),
            suggested_chat,
            active_chat: active.as_ref().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().into_owned()),
            chat_speed: active.as_deref().and_then(sori_core::provider::local::measured_speed),
        }
    })
    .await
}

/// Copies a GGUF chat model file into Sori's models; returns its id.
#[tauri::command]
pub async fn import_gguf(path: String) -> Result<String, CommandError> {
    blocking(move || ModelManager::default_location().import_gguf(std::path::Path::new(path.trim())).map_err(CommandError::from)).await?
}

/// Chat servers running on this computer (Ollama, llama.cpp, LM Studio) and their models.
#[tauri::command]
pub async fn local_servers() -> Result<Vec<LocalServer>, CommandError> {
    Ok(local_servers::find_usual().await)
}

/// Downloads and installs model `id`; progress arrives on `on_progress`
/// (about ten times a second). A second install of the same model while one
/// runs is refused.
#[tauri::command]
pub async fn install_model(state: State<'_, AppState>, id: String, on_progress: Channel<Progress>) -> Result<(), CommandError> {
    let cancel = CancellationToken::new();
    {
        let mut installs = state.installs.lock().unwrap();
        if installs.contains_key(&id) {
            return Err(CommandError::new(Failure::Model, format!("{id} is already being installed.")));
        }
        installs.insert(id.clone(), cancel.clone());
    }
    let result = ModelManager::default_location().install(&id, &cancel, |p| drop(on_progress.send(p))).await;
    state.installs.lock().unwrap().remove(&id);
    result?;
    let app = state.inner().clone();
    blocking(move || app.apply_to_session()).await??;
    Ok(())
}

/// Stops the install of `id`; what was downloaded is kept for next time.
#[tauri::command]
pub async fn cancel_model_install(state: State<'_, AppState>, id: String) -> Result<bool, CommandError> {
    Ok(state.installs.lock().unwrap().get(&id).map(|c| c.cancel()).is_some())
}

#[tauri::command]
pub async fn remove_model(state: State<'_, AppState>, id: String) -> Result<bool, CommandError> {
    let app = state.inner().clone();
    blocking(move || {
        let removed = ModelManager::default_location().remove(&id)?;
        app.apply_to_session()?;
        Ok(removed)
    })
    .await?
}
