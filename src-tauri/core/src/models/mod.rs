//! Models on this computer: where they live (the OS data folder, e.g.
//! `~/.local/share/sori/models`, one folder per model), the catalogue of
//! those Sori offers, and the manager that installs them.

pub mod catalogue;
pub mod chat;
pub mod download;
pub mod manager;

pub use catalogue::{ModelInfo, ModelKind, CATALOGUE};
pub use manager::{ModelManager, ModelStatus, Progress};

use std::path::PathBuf;

/// Why a model could not be installed, imported or removed, for the user.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("Sori has no model called {0:?}.")]
    Unknown(String),
    #[error("Not enough disk space in {dir}: the model needs {} MB, {} MB are free.", need / 1_000_000, free / 1_000_000)]
    NoSpace { need: u64, free: u64, dir: String },
    #[error("The download from {url} failed ({reason}); try again to resume it.")]
    Network { url: String, reason: String },
    #[error("The model server answered {status} for {url}.")]
    Http { url: String, status: u16 },
    #[error("The model file {file} is damaged: {reason}.")]
    Corrupt { file: String, reason: String },
    #[error("{path} is not this model: {reason}.")]
    NotAModel { path: String, reason: String },
    #[error("The download was cancelled; what was downloaded is kept for next time.")]
    Cancelled,
    #[error("The models folder could not be written: {0}")]
    Io(#[from] std::io::Error),
}

impl ModelError {
    fn network(url: &str, e: &reqwest::Error) -> Self {
        let reason = if e.is_connect() {
            "no connection".to_string()
        } else if e.is_timeout() {
            "timed out".to_string()
        } else {
            e.to_string()
        };
        ModelError::Network { url: url.to_string(), reason }
    }
}

/// The speech-to-text model a fresh install uses.
pub const DEFAULT_STT_MODEL: &str = "whisper-base";

/// The folder that holds installed models: `$SORI_MODELS_DIR`, else the OS
/// data folder's `sori/models`.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SORI_MODELS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir().unwrap_or_else(std::env::temp_dir).join("sori").join("models")
}

/// Whether `id` can name a model folder: lowercase letters, digits, `.`,
/// `_` and `-`, not starting with a dot (so never a path).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && !id.starts_with('.') && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

/// The folder of installed model `id` (which may not exist yet); `None` for
/// an id that is not a model name.
pub fn model_dir(id: &str) -> Option<PathBuf> {
    valid_id(id).then(|| models_dir().join(id))
}

/// Brings the files Sori writes into the model folder `dir` (settings the
/// model's source keeps elsewhere) up to this version of Sori, so a model
/// installed by an older version loads as this one expects. Folders that are
/// not a catalogue model are left alone.
pub fn refresh_written(dir: &std::path::Path) -> std::io::Result<()> {
    let Some(info) = dir.file_name().and_then(|n| n.to_str()).and_then(catalogue::find) else {
        return Ok(());
    };
    for written in info.written {
        let path = dir.join(written.name);
        if std::fs::read(&path).ok().as_deref() != Some(written.contents.as_bytes()) {
            let fresh = dir.join(format!(".{}.new", written.name));
            std::fs::write(&fresh, written.contents)?;
            std::fs::rename(&fresh, &path)?;
        }
    }
    Ok(())
}

/// The Piper voice folder local speech keeps ready for the voice setting
/// `voice`: the speech model it names, else the first installed speech model
/// of the catalogue (best first), so `auto` and a preview of any installed
/// voice both find it. `None` when no voice is installed: espeak-ng speaks.
pub fn voice_dir(voice: &str) -> Option<PathBuf> {
    let speech = || CATALOGUE.iter().filter(|m| m.kind == ModelKind::Speech);
    if let Some(named) = speech().find(|m| m.id == voice.trim()) {
        return model_dir(named.id);
    }
    speech().map(|m| models_dir().join(m.id)).find(|d| d.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_sori_writes_follow_this_version_and_other_folders_are_left_alone() {
        let root = std::env::temp_dir().join(format!("sori-written-{}", std::process::id()));
        let (base, other) = (root.join("whisper-base"), root.join("my-model"));
        std::fs::create_dir_all(&base).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(base.join("preprocessor_config.json"), r#"{"n_samples": 480000}"#).unwrap();
        std::fs::write(other.join("preprocessor_config.json"), "mine").unwrap();
        refresh_written(&base).unwrap();
        refresh_written(&other).unwrap();
        let written = std::fs::read_to_string(base.join("preprocessor_config.json")).unwrap();
        assert!(written.contains(r#""n_samples": 160000"#), "{written}");
        assert_eq!(std::fs::read_to_string(other.join("preprocessor_config.json")).unwrap(), "mine");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn model_ids_never_leave_the_models_folder() {
        assert!(valid_id("whisper-base") && valid_id("piper.en_us-joe"));
        for bad in ["", "..", "../x", "a/b", ".hidden", "Whisper", "a b"] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }
}
