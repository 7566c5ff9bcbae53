//! Which chat model runs on this computer: the catalogue model suggested
//! for its memory, the one `auto` resolves to among those installed, and
//! GGUF files the user brings (imported into a folder of their own).

use super::catalogue::{ModelInfo, ModelKind, CATALOGUE};
use super::{models_dir, valid_id, ModelError};
use std::path::{Path, PathBuf};

/// The setting that lets Sori choose.
pub const AUTO: &str = "auto";

/// Memory a model needs besides its file: its context (4096 tokens) and
/// llama.cpp's buffers, rounded up.
const OVERHEAD: u64 = 600 << 20;

/// Catalogue chat models Sori may choose for the user, best first. The
/// non-commercial ones are not among them.
const DEFAULT_ORDER: &[&str] = &["qwen2.5-1.5b-instruct", "gemma-3-1b-it", "smollm2-135m-instruct"];

fn chat_models() -> impl Iterator<Item = &'static ModelInfo> {
    CATALOGUE.iter().filter(|m| m.kind == ModelKind::Chat)
}

/// The memory model `info` needs to run.
pub fn memory_needed(info: &ModelInfo) -> u64 {
    info.size() + OVERHEAD
}

/// This computer's memory in bytes (8 GiB, a common size, where the system
/// does not say).
pub fn total_memory() -> u64 {
    match sysinfo::System::new() {
        Ok(mut system) => {
            system.refresh_memory();
            Some(system.total_memory()).filter(|&m| m > 0).unwrap_or(8 << 30)
        }
        Err(_) => 8 << 30,
    }
}

/// The chat model for a computer with `memory` bytes: the best of the
/// default ones that needs at most a quarter of it (the rest is for the
/// desktop, the speech models and the apps the user has open).
pub fn suggested(memory: u64) -> &'static ModelInfo {
    let catalogue = |id: &str| chat_models().find(|m| m.id == id).expect("a default chat model is in the catalogue");
    DEFAULT_ORDER
        .iter()
        .map(|id| catalogue(id))
        .find(|m| memory_needed(m) * 4 <= memory)
        .unwrap_or_else(|| catalogue(DEFAULT_ORDER[DEFAULT_ORDER.len() - 1]))
}

/// The folder of the chat model the setting `choice` names in `models`:
/// a model id (catalogue or imported), or `auto`: the suggested model if it
/// is installed, else the best installed default model, else any installed
/// chat model. `None` when `auto` finds none.
pub fn chat_dir_in(models: &Path, choice: &str, memory: u64) -> Option<PathBuf> {
    let choice = choice.trim();
    if choice != AUTO {
        return valid_id(choice).then(|| models.join(choice));
    }
    let installed = |id: &str| Some(models.join(id)).filter(|d| d.is_dir());
    let first = suggested(memory).id;
    std::iter::once(first)
        .chain(DEFAULT_ORDER.iter().copied())
        .chain(chat_models().map(|m| m.id))
        .find_map(installed)
        .or_else(|| imported_in(models).into_iter().next().map(|m| models.join(m.id)))
}

/// The chat model folder for the setting `choice` in Sori's models folder.
pub fn chat_dir(choice: &str) -> Option<PathBuf> {
    chat_dir_in(&models_dir(), choice, total_memory())
}

/// A GGUF file the user imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportedModel {
    pub id: String,
    /// The file's name.
    pub name: String,
    pub size: u64,
}

/// Imported chat models under `models`: folders that are not the
/// catalogue's and hold a `.gguf` file.
pub fn imported_in(models: &Path) -> Vec<ImportedModel> {
    let Ok(entries) = std::fs::read_dir(models) else { return Vec::new() };
    let mut found: Vec<ImportedModel> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let id = e.file_name().to_str()?.to_string();
            if !valid_id(&id) || super::catalogue::find(&id).is_some() {
                return None;
            }
            let file = crate::provider::local::chat_model_file(&e.path())?;
            let size = std::fs::metadata(&file).ok()?.len();
            Some(ImportedModel { id, name: file.file_name()?.to_string_lossy().into_owned(), size })
        })
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

/// The id an imported file gets: `gguf-` and its name, in the letters a
/// model id allows.
fn import_id(file: &Path) -> String {
    let stem = file.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    let slug: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || "._".contains(c) { c } else { '-' }).collect();
    let slug = slug.trim_matches(|c| c == '-' || c == '.').chars().take(58).collect::<String>();
    format!("gguf-{}", if slug.is_empty() { "model".into() } else { slug })
}

/// Copies the GGUF file `file` into its own folder under `models` and
/// returns its id. The file must start as a GGUF file does; the model is
/// only loaded (and its chat template checked) when it is first used.
pub fn import_gguf_in(models: &Path, file: &Path) -> Result<String, ModelError> {
    let not = |reason: &str| ModelError::NotAModel { path: file.display().to_string(), reason: reason.into() };
    let mut magic = [0u8; 4];
    let len = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic).map(|_| f.metadata()))
        .map_err(|_| not("it cannot be read as a GGUF file"))??
        .len();
    if &magic != b"GGUF" {
        return Err(not("it is not a GGUF file (it does not start with GGUF)"));
    }
    let id = import_id(file);
    let target = models.join(&id);
    if target.is_dir() {
        return Ok(id);
    }
    std::fs::create_dir_all(models)?;
    let free = fs4::available_space(models)?;
    if free < len + (64 << 20) {
        return Err(ModelError::NoSpace { need: len + (64 << 20), free, dir: models.display().to_string() });
    }
    let staging = models.join(".partial").join(format!("{id}.staging"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model.gguf".into());
    let name = if name.to_lowercase().ends_with(".gguf") { name } else { format!("{name}.gguf") };
    std::fs::copy(file, staging.join(name))?;
    std::fs::rename(&staging, &target)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1 << 30;

    #[test]
    fn the_suggestion_follows_memory_and_is_never_a_non_commercial_model() {
        assert_eq!(suggested(16 * GB).id, "qwen2.5-1.5b-instruct");
        assert_eq!(suggested(8 * GB).id, "qwen2.5-1.5b-instruct");
        assert_eq!(suggested(6 * GB).id, "gemma-3-1b-it");
        assert_eq!(suggested(2 * GB).id, "smollm2-135m-instruct");
        assert_eq!(suggested(0).id, "smollm2-135m-instruct");
        for memory in [GB, 4 * GB, 64 * GB, 1024 * GB] {
            assert!(!suggested(memory).licence.contains("non-commercial"));
        }
    }

    #[test]
    fn auto_takes_the_best_installed_model_and_imports_get_their_own_folder() {
        let root = std::env::temp_dir().join(format!("sori-chat-choice-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        assert_eq!(chat_dir_in(&root, AUTO, 16 * GB), None);
        assert_eq!(chat_dir_in(&root, "gemma-3-1b-it", 16 * GB), Some(root.join("gemma-3-1b-it")));

        // A GGUF file the user brings.
        let file = root.join("My Model Q4.gguf");
        std::fs::write(&file, b"GGUF\x03\0\0\0rest of the model").unwrap();
        let id = import_gguf_in(&root, &file).unwrap();
        assert_eq!(id, "gguf-my-model-q4");
        assert_eq!(imported_in(&root), vec![ImportedModel { id: id.clone(), name: "My Model Q4.gguf".into(), size: 25 }]);
        assert_eq!(chat_dir_in(&root, AUTO, 16 * GB), Some(root.join(&id)));

        // A catalogue model wins over an import, the suggested one over others.
        for id in ["smollm2-135m-instruct", "gemma-3-1b-it"] {
            std::fs::create_dir_all(root.join(id)).unwrap();
        }
        assert_eq!(chat_dir_in(&root, AUTO, 2 * GB), Some(root.join("smollm2-135m-instruct")));
        assert_eq!(chat_dir_in(&root, AUTO, 16 * GB), Some(root.join("gemma-3-1b-it")));

        // Anything that is not GGUF is refused, and nothing is left behind.
        let wav = root.join("song.gguf");
        std::fs::write(&wav, b"RIFF....WAVEfmt ").unwrap();
        assert!(matches!(import_gguf_in(&root, &wav), Err(ModelError::NotAModel { .. })));
        assert!(!root.join("gguf-song").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
