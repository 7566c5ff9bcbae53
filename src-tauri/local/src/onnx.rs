//! ONNX Runtime, loaded from its shared library at run time (never linked,
//! never downloaded by the build): found next to Sori, in Sori's data folder
//! or where `SORI_ONNXRUNTIME` points, and started once per process.

use crate::LocalError;
use ort::environment::Environment;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The library's file name on this system, without a version suffix.
#[cfg(target_os = "windows")]
const LIBRARY: &str = "onnxruntime.dll";
#[cfg(target_os = "macos")]
const LIBRARY: &str = "libonnxruntime.dylib";
#[cfg(not(any(target_os = "windows", target_os = "macos")))]
const LIBRARY: &str = "libonnxruntime.so";

/// The ONNX Runtime library: `$SORI_ONNXRUNTIME` if set, else the first of
/// `dirs` that holds it (a versioned name such as `libonnxruntime.so.1.32.0`
/// counts).
pub fn find_runtime(dirs: &[PathBuf]) -> Option<PathBuf> {
    std::env::var_os("SORI_ONNXRUNTIME").filter(|p| !p.is_empty()).map(PathBuf::from).or_else(|| find_in(dirs))
}

/// The library in the first of `dirs` that holds it.
fn find_in(dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter().find_map(|dir| {
        let exact = dir.join(LIBRARY);
        if exact.is_file() {
            return Some(exact);
        }
        let mut versioned: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&format!("{LIBRARY}."))))
            .collect();
        versioned.sort();
        versioned.pop()
    })
}

/// The process's ONNX Runtime, started from `library` on first use. ONNX
/// Runtime allows one environment per process, so the first library wins and
/// a failure is remembered.
pub fn runtime(library: &Path) -> Result<Environment, LocalError> {
    static RUNTIME: OnceLock<Result<Environment, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let builder = ort::init_from(library).map_err(|e| format!("{} could not be loaded: {e}", library.display()))?;
            builder.with_name("sori").build().map_err(|e| format!("ONNX Runtime did not start: {e}"))
        })
        .clone()
        .map_err(|reason| LocalError::Engine { engine: "ONNX Runtime", reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versioned_library_is_found_and_the_newest_wins() {
        let dir = std::env::temp_dir().join(format!("sori-onnx-find-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(find_in(std::slice::from_ref(&dir)), None);
        for name in [format!("{LIBRARY}.1.31.0"), format!("{LIBRARY}.1.32.0"), "other.so".into()] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        assert_eq!(find_in(&[dir.join("missing"), dir.clone()]), Some(dir.join(format!("{LIBRARY}.1.32.0"))));
        std::fs::write(dir.join(LIBRARY), b"").unwrap();
        assert_eq!(find_in(std::slice::from_ref(&dir)), Some(dir.join(LIBRARY)), "the plain name first");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
