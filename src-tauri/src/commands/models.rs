//! Models on this computer: the catalogue with what is installed here, an
//! install with its progress on a channel (resumable, cancellable), removal.
//! After a model lands the session is rebuilt, so a stage that was waiting
//! for it loads it at once.

use super::{blocking, CommandError, Failure};
use crate::state::AppState;
use serde::Serialize;
use sori_core::models::{ModelError, ModelManager, ModelStatus, Progress};
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
}

#[tauri::command]
pub async fn local_models() -> Result<LocalModels, CommandError> {
    blocking(|| {
        let manager = ModelManager::default_location();
        let espeak = sori_local::Espeak::find().is_ok();
        LocalModels { dir: manager.dir().display().to_string(), models: manager.list(), espeak }
    })
    .await
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
