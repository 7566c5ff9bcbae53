//! Engines on this computer as providers: Whisper speech-to-text, and Piper
//! or espeak-ng speech, from `sori-local`, and a llama.cpp chat model from
//! `sori-llama`, adapted to the provider traits.

mod chat;
mod stt;
pub mod tool_calls;
mod tts;

pub use chat::{chat_model_file, measured_speed, LocalChat, Measured};
pub use stt::LocalStt;
pub use tts::{LocalTts, AUTO_VOICE};

use crate::provider::{ErrorKind, ProviderError};
use sori_local::LocalError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

fn local_error(e: LocalError) -> ProviderError {
    ProviderError::new(ErrorKind::Local, e.to_string())
}

/// "Not installed", with how to install it: `what` (a speech-to-text model, a
/// voice) in the folder `dir`, whose name is the model's id.
fn not_installed(what: &str, dir: &Path) -> ProviderError {
    let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    ProviderError::new(
        ErrorKind::Local,
        format!("The {what} {id} is not installed: install it under Models in Settings (or run `sori-cli models install {id}`)."),
    )
}

/// Models loaded on this computer, by folder: shared by every session that
/// uses one (a new session after a settings change finds it warm) and freed
/// when none does.
struct Loaded<T: 'static> {
    table: OnceLock<Mutex<HashMap<PathBuf, Weak<T>>>>,
}

impl<T: Send + Sync + 'static> Loaded<T> {
    const fn new() -> Self {
        Loaded { table: OnceLock::new() }
    }

    /// The model in `dir`: the one a session already holds, else what
    /// `load(threads)` gives, run on a blocking thread (loading takes a
    /// second or so). `what` names it if loading stops.
    async fn get<E: std::fmt::Display + Send + 'static>(
        &'static self,
        dir: &Path,
        what: &str,
        load: impl FnOnce(usize) -> Result<T, E> + Send + 'static,
    ) -> Result<Arc<T>, ProviderError> {
        let table = self.table.get_or_init(Default::default);
        if let Some(model) = table.lock().expect("model table").get(dir).and_then(Weak::upgrade) {
            return Ok(model);
        }
        // One thread per core, up to four: measured on 2 cores, llama.cpp
        // sampled 1.3-1.6x faster on 2 threads than on 1 (`cargo bench
        // --bench local_chat`); past four, memory bandwidth limits it.
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(4);
        let model = tokio::task::spawn_blocking(move || load(threads))
            .await
            .map_err(|e| ProviderError::new(ErrorKind::Local, format!("Loading {what} stopped: {e}")))?
            .map_err(|e| ProviderError::new(ErrorKind::Local, e.to_string()))?;
        let model = Arc::new(model);
        table.lock().expect("model table").insert(dir.to_path_buf(), Arc::downgrade(&model));
        Ok(model)
    }
}
