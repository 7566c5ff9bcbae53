//! The model manager: which catalogue models are installed, and installing,
//! importing and removing them. A model is installed when its folder
//! `<models>/<id>/` exists: downloads go to `<models>/.partial/<id>/`, are
//! verified there, and the folder is renamed into place in one step, so a
//! half-downloaded or damaged model is never used.

use super::catalogue::{self, ModelInfo};
use super::download::{fetch, sha256_file};
use super::ModelError;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Room kept free beyond the download itself.
const SPARE_BYTES: u64 = 64 << 20;
/// Progress is told at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// What the manager knows of one catalogue model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelStatus {
    #[serde(flatten)]
    pub info: ModelInfo,
    pub size: u64,
    pub installed: bool,
    /// Bytes of an unfinished download kept for resuming.
    pub partial_bytes: u64,
}

/// How far an install is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub id: &'static str,
    pub done: u64,
    pub total: u64,
}

/// Installs and removes models under one folder.
#[derive(Clone)]
pub struct ModelManager {
    dir: PathBuf,
    /// `<mirror>/<id>/<file>` instead of each file's own address.
    mirror: Option<String>,
    http: reqwest::Client,
}

impl ModelManager {
    /// The manager of `dir`, downloading from the catalogue's sources (or
    /// `$SORI_MODEL_MIRROR` when it is set).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let mirror = std::env::var("SORI_MODEL_MIRROR").ok().filter(|m| !m.trim().is_empty());
        let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(15)).build().expect("an HTTP client");
        ModelManager { dir: dir.into(), mirror, http }
    }

    /// The manager of Sori's own models folder.
    pub fn default_location() -> Self {
        Self::new(super::models_dir())
    }

    /// Downloads from `mirror` (a base URL) instead.
    pub fn with_mirror(mut self, mirror: Option<String>) -> Self {
        self.mirror = mirror;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn installed_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    fn partial_dir(&self, id: &str) -> PathBuf {
        self.dir.join(".partial").join(id)
    }

    /// Whether model `id` is installed.
    pub fn is_installed(&self, id: &str) -> bool {
        super::valid_id(id) && self.installed_dir(id).is_dir()
    }

    /// Every catalogue model and whether it is here.
    pub fn list(&self) -> Vec<ModelStatus> {
        catalogue::CATALOGUE
            .iter()
            .map(|info| {
                let partial_bytes = info
                    .files
                    .iter()
                    .filter_map(|f| std::fs::metadata(self.partial_dir(info.id).join(format!("{}.part", f.name))).ok())
                    .map(|m| m.len())
                    .sum();
                ModelStatus { info: *info, size: info.size(), installed: self.is_installed(info.id), partial_bytes }
            })
            .collect()
    }

    fn url_of(&self, info: &ModelInfo, file: &catalogue::ModelFile) -> String {
        match &self.mirror {
            Some(m) => format!("{}/{}/{}", m.trim_end_matches('/'), info.id, file.name),
            None => file.url.to_string(),
        }
    }

    /// Downloads and installs model `id`, telling `progress` as it goes (at
    /// most every 100 ms, and once at the end). A cancelled or broken
    /// download keeps what it has; the next install resumes from there.
    pub async fn install(&self, id: &str, cancel: &CancellationToken, mut progress: impl FnMut(Progress)) -> Result<PathBuf, ModelError> {
        let info = catalogue::find(id).ok_or_else(|| ModelError::Unknown(id.to_string()))?;
        let target = self.installed_dir(info.id);
        let total = info.size();
        if target.is_dir() {
            progress(Progress { id: info.id, done: total, total });
            return Ok(target);
        }
        let partial = self.partial_dir(info.id);
        std::fs::create_dir_all(&partial)?;
        let already: u64 = info.files.iter().filter_map(|f| std::fs::metadata(partial.join(format!("{}.part", f.name))).ok()).map(|m| m.len()).sum();
        let need = total.saturating_sub(already) + SPARE_BYTES;
        let free = fs4::available_space(&partial)?;
        if free < need {
            return Err(ModelError::NoSpace { need, free, dir: self.dir.display().to_string() });
        }
        let mut done_before = 0u64;
        let mut last = Instant::now() - PROGRESS_EVERY;
        for file in info.files {
            let part = partial.join(format!("{}.part", file.name));
            let url = self.url_of(info, file);
            // The first report of a file says at once what an earlier try left.
            let mut first = true;
            fetch(&self.http, file, &url, &part, cancel, |on_disk| {
                if std::mem::take(&mut first) || last.elapsed() >= PROGRESS_EVERY {
                    last = Instant::now();
                    progress(Progress { id: info.id, done: done_before + on_disk, total });
                }
            })
            .await?;
            done_before += file.size;
        }
        self.finish_install(info, &partial)?;
        progress(Progress { id: info.id, done: total, total });
        Ok(target)
    }

    /// Moves verified parts into a staging folder with the written files,
    /// then renames it into place.
    fn finish_install(&self, info: &ModelInfo, partial: &Path) -> Result<(), ModelError> {
        let staging = self.dir.join(".partial").join(format!("{}.staging", info.id));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging)?;
        for file in info.files {
            std::fs::rename(partial.join(format!("{}.part", file.name)), staging.join(file.name))?;
        }
        for written in info.written {
            std::fs::write(staging.join(written.name), written.contents)?;
        }
        std::fs::rename(&staging, self.installed_dir(info.id))?;
        let _ = std::fs::remove_dir_all(partial);
        Ok(())
    }

    /// Installs model `id` from a folder the user already has (a copy of the
    /// model's files, e.g. from another computer). Every file is checked
    /// against the catalogue before anything is installed.
    pub fn import(&self, id: &str, source: &Path) -> Result<PathBuf, ModelError> {
        let info = catalogue::find(id).ok_or_else(|| ModelError::Unknown(id.to_string()))?;
        if !source.is_dir() {
            return Err(ModelError::NotAModel { path: source.display().to_string(), reason: "it is not a folder".into() });
        }
        for file in info.files {
            let path = source.join(file.name);
            let len = std::fs::metadata(&path)
                .map(|m| m.len())
                .map_err(|_| ModelError::NotAModel { path: source.display().to_string(), reason: format!("{} is missing", file.name) })?;
            if len != file.size || sha256_file(&path)? != file.sha256 {
                return Err(ModelError::Corrupt { file: file.name.to_string(), reason: "it is not the file the catalogue names".into() });
            }
        }
        let target = self.installed_dir(info.id);
        if target.is_dir() {
            return Ok(target);
        }
        let partial = self.partial_dir(info.id);
        std::fs::create_dir_all(&partial)?;
        let free = fs4::available_space(&partial)?;
        if free < info.size() + SPARE_BYTES {
            return Err(ModelError::NoSpace { need: info.size() + SPARE_BYTES, free, dir: self.dir.display().to_string() });
        }
        for file in info.files {
            std::fs::copy(source.join(file.name), partial.join(format!("{}.part", file.name)))?;
        }
        self.finish_install(info, &partial)?;
        Ok(target)
    }

    /// Chat models imported from GGUF files.
    pub fn imported(&self) -> Vec<super::chat::ImportedModel> {
        super::chat::imported_in(&self.dir)
    }

    /// Copies a GGUF chat model file in; returns the id it is chosen by.
    pub fn import_gguf(&self, file: &Path) -> Result<String, ModelError> {
        super::chat::import_gguf_in(&self.dir, file)
    }

    /// Removes model `id` (from the catalogue, or imported) and any
    /// unfinished download of it.
    pub fn remove(&self, id: &str) -> Result<bool, ModelError> {
        if catalogue::find(id).is_none() && !self.imported().iter().any(|m| m.id == id) {
            return Err(ModelError::Unknown(id.to_string()));
        }
        let was = self.installed_dir(id).is_dir();
        // Renamed away first, so a half-removed model is never loaded.
        if was {
            let doomed = self.dir.join(".partial").join(format!("{}.removing", id));
            let _ = std::fs::remove_dir_all(&doomed);
            std::fs::create_dir_all(self.dir.join(".partial"))?;
            std::fs::rename(self.installed_dir(id), &doomed)?;
            std::fs::remove_dir_all(&doomed)?;
        }
        let _ = std::fs::remove_dir_all(self.partial_dir(id));
        Ok(was)
    }
}
