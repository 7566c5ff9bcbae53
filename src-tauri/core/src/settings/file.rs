//! The settings file on disk. Saving writes a temporary file beside it, syncs
//! it, renames it over the old one and syncs the folder, so a crash leaves the
//! old file or the new one, never half of one. Loading recovers from anything:
//! an unreadable file, wrong types or invalid values are set aside as
//! `settings.json.bad-<unix time>`, good fields are kept, the rest defaulted,
//! and warnings say what happened. Older versions are migrated; fields from
//! newer ones are kept.

use super::{validate, FieldError, Settings, CURRENT_VERSION};
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Settings as loaded, and what the user should be told about the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub settings: Settings,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("some settings are not valid")]
    Invalid(Vec<FieldError>),
    #[error("the settings could not be saved: {0}")]
    Io(#[from] std::io::Error),
}

/// The settings file at one path.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl SettingsFile {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        SettingsFile { path: path.into() }
    }

    /// `settings.json` in the OS config folder.
    pub fn default_location() -> Option<Self> {
        dirs::config_dir().map(|d| Self::at(d.join("sori").join("settings.json")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Loaded {
        let mut warnings = Vec::new();
        let name = self.path.display();
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded { settings: Settings::default(), warnings },
            Err(e) => {
                warnings.push(format!("Could not read {name} ({e}). Using default settings for now."));
                return Loaded { settings: Settings::default(), warnings };
            }
        };
        let object = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(o)) => o,
            Ok(_) | Err(_) => {
                let kept = self.set_aside(&bytes);
                warnings.push(format!("The settings file was damaged and could not be read; it was kept as {kept}. Using default settings."));
                return Loaded { settings: Settings::default(), warnings };
            }
        };
        let (object, migrated_from) = migrate(object);
        if let Some(v) = migrated_from {
            warnings.push(format!("Settings from an older Sori (format {v}) were updated."));
        }
        let file_version = object.get("version").and_then(Value::as_u64).unwrap_or(0) as u32;
        if file_version > CURRENT_VERSION {
            warnings.push("These settings were written by a newer Sori; settings this version does not know are kept as they are.".into());
        }

        // Take the file's fields one by one, so one bad field costs only itself.
        let mut merged = serde_json::to_value(Settings::default()).expect("settings serialize");
        let mut dropped: Vec<String> = Vec::new();
        for (field, value) in object {
            let mut trial = merged.clone();
            trial[&field] = value;
            if serde_json::from_value::<Settings>(trial.clone()).is_ok() {
                merged = trial;
            } else {
                dropped.push(field);
            }
        }
        // Invalid values go back to their defaults, field by field.
        let defaults = serde_json::to_value(Settings::default()).expect("settings serialize");
        for error in validate(&serde_json::from_value(merged.clone()).expect("every kept field was checked")) {
            merged[error.field] = defaults[error.field].clone();
            dropped.push(error.field.to_string());
        }
        let mut settings: Settings = serde_json::from_value(merged).expect("defaults are valid");
        if !dropped.is_empty() {
            let kept = self.set_aside(&bytes);
            warnings.push(format!(
                "Some settings were not valid ({}) and were reset to their defaults; the old file was kept as {kept}.",
                dropped.join(", ")
            ));
        }
        settings.version = settings.version.max(CURRENT_VERSION);
        Loaded { settings, warnings }
    }

    /// Validates and writes `settings` atomically.
    pub fn save(&self, settings: &Settings) -> Result<(), SaveError> {
        let errors = validate(settings);
        if !errors.is_empty() {
            return Err(SaveError::Invalid(errors));
        }
        let mut settings = settings.clone();
        settings.version = settings.version.max(CURRENT_VERSION);
        let json = serde_json::to_vec_pretty(&settings).expect("settings serialize");
        Ok(self.write_atomically(&json)?)
    }

    fn write_atomically(&self, bytes: &[u8]) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = self.path.with_extension(format!("json.tmp-{}", std::process::id()));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        // The rename itself must reach the disk too.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Keeps a damaged file's bytes beside it under a name no file has yet
    /// (`settings.json.bad-<time>`, then `-2`, `-3`, … within one second), so
    /// no kept file is ever overwritten; returns the name used.
    fn set_aside(&self, bytes: &[u8]) -> String {
        let stamp = now_secs();
        for n in 1..1000 {
            let suffix = if n == 1 { format!("json.bad-{stamp}") } else { format!("json.bad-{stamp}-{n}") };
            let bad = self.path.with_extension(suffix);
            // create_new: the check and the creation are one step.
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&bad) {
                Ok(mut f) => {
                    let _ = f.write_all(bytes).and_then(|_| f.sync_all());
                    return bad.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(_) => break,
            }
        }
        String::new()
    }
}

/// Brings older formats up to date: format 0 (before versions) named some
/// fields differently. Returns the old version when anything changed.
fn migrate(mut object: Map<String, Value>) -> (Map<String, Value>, Option<u32>) {
    let version = object.get("version").and_then(Value::as_u64).unwrap_or(0) as u32;
    if version >= 1 {
        return (object, None);
    }
    for (old, new) in [("model", "chat_model"), ("tts_voice", "voice"), ("openai_base_url", "base_url"), ("voice_style", "style")] {
        if let Some(v) = object.remove(old) {
            object.entry(new).or_insert(v);
        }
    }
    object.insert("version".into(), Value::from(1));
    (object, Some(version))
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
