//! The model manager against a real model mirror (the testkit's, serving the
//! real Whisper base files over loopback HTTP): install with progress, resume
//! a dropped download from where it stopped, refuse and delete wrong bytes,
//! start over when the server ignores `Range`, import a folder, and remove.
//! (A disk too small: sori-cli's `cli_agent_models` test.)

use sori_core::models::{ModelError, ModelManager};
use sori_testkit::fixtures;
use sori_testkit::{MirrorFault, ModelMirror};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

const ID: &str = "whisper-base";

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sori-models-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn size() -> u64 {
    sori_core::models::catalogue::find(ID).unwrap().size()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installs_with_progress_and_resumes_a_dropped_download() {
    fixtures::model(ID);
    let mirror = ModelMirror::start(fixtures::models_root()).await.unwrap();
    let dir = fresh_dir("resume");
    let manager = ModelManager::new(&dir).with_mirror(Some(mirror.url()));
    assert!(!manager.is_installed(ID));

    // The connection drops before the first byte, then 40 MB into model.bin.
    mirror.push_fault(MirrorFault::DropAfter(0));
    let err = manager.install(ID, &CancellationToken::new(), |_| {}).await.unwrap_err();
    assert!(matches!(err, ModelError::Network { .. }), "{err}");
    mirror.push_fault_on("model.bin", MirrorFault::DropAfter(40_000_000));
    let err = manager.install(ID, &CancellationToken::new(), |_| {}).await.unwrap_err();
    assert!(matches!(err, ModelError::Network { .. }), "{err}");
    assert!(err.to_string().contains("try again to resume"), "{err}");
    assert!(!manager.is_installed(ID), "a half-downloaded model is never installed");
    let kept = manager.list().into_iter().find(|m| m.info.id == ID).unwrap().partial_bytes;
    // A reset connection may lose what was still in flight: most of the 40 MB is kept.
    assert!(kept >= 30_000_000, "the download keeps what it has ({kept} bytes)");

    let sent_before = mirror.bytes_sent();
    let mut seen = Vec::new();
    let installed = manager.install(ID, &CancellationToken::new(), |p| seen.push(p.done)).await.unwrap();
    let resumed_bytes = mirror.bytes_sent() - sent_before;
    assert!(resumed_bytes <= size() - kept, "the resumed download sent {resumed_bytes} bytes: it started over");
    assert!(mirror.ranges().iter().any(|r| r.as_deref().is_some_and(|r| r.starts_with("bytes=") && r != "bytes=0-")), "{:?}", mirror.ranges());
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress only goes forward");
    // Progress starts from what was kept (config.json, then the part of model.bin), never from zero.
    assert!(seen.len() >= 3 && seen[1] >= kept && *seen.last().unwrap() == size(), "{} reports: {:?}", seen.len(), &seen[..3.min(seen.len())]);
    for f in ["model.bin", "config.json", "tokenizer.json", "vocabulary.txt", "preprocessor_config.json"] {
        assert!(installed.join(f).is_file(), "{f}");
    }
    assert!(manager.is_installed(ID));
    assert!(!dir.join(".partial").join(ID).exists(), "the partial download is cleaned up");

    assert!(manager.remove(ID).unwrap());
    assert!(!manager.is_installed(ID) && !installed.exists());
    assert!(!manager.remove(ID).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_bytes_are_deleted_and_a_server_that_ignores_range_starts_over() {
    let mirror = ModelMirror::start(fixtures::models_root()).await.unwrap();
    let dir = fresh_dir("corrupt");
    let manager = ModelManager::new(&dir).with_mirror(Some(mirror.url()));
    mirror.push_fault(MirrorFault::WrongBytes);
    let err = manager.install(ID, &CancellationToken::new(), |_| {}).await.unwrap_err();
    assert!(matches!(&err, ModelError::Corrupt { file, .. } if file == "config.json"), "{err}");
    assert_eq!(manager.list().into_iter().find(|m| m.info.id == ID).unwrap().partial_bytes, 0, "the damaged part is deleted");

    // Part of a file, then a server that answers the range with the whole file.
    mirror.push_fault_on("model.bin", MirrorFault::DropAfter(1_000_000));
    assert!(manager.install(ID, &CancellationToken::new(), |_| {}).await.is_err());
    mirror.push_fault_on("model.bin", MirrorFault::IgnoreRange);
    manager.install(ID, &CancellationToken::new(), |_| {}).await.expect("starts the file over and installs");
    assert!(manager.is_installed(ID));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_download_keeps_its_part() {
    let mirror = ModelMirror::start(fixtures::models_root()).await.unwrap();
    let dir = fresh_dir("cancel");
    let manager = ModelManager::new(&dir).with_mirror(Some(mirror.url()));
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let err = manager
        .install(ID, &cancel, move |p| {
            if p.done > 10_000_000 {
                stop.cancel();
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ModelError::Cancelled), "{err}");
    assert!(!manager.is_installed(ID));
    assert!(manager.list().into_iter().find(|m| m.info.id == ID).unwrap().partial_bytes > 10_000_000);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_is_imported_only_when_every_file_is_the_catalogues() {
    let dir = fresh_dir("import");
    let manager = ModelManager::new(&dir);
    let installed = manager.import(ID, &fixtures::model(ID)).expect("imports the fixture folder");
    assert!(installed.join("model.bin").is_file() && installed.join("preprocessor_config.json").is_file());
    assert!(manager.remove(ID).unwrap());

    // A copy whose tokenizer is damaged is refused, and nothing is installed.
    let copy = fresh_dir("import-src");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["config.json", "model.bin", "vocabulary.txt"] {
        std::fs::copy(fixtures::model(ID).join(f), copy.join(f)).unwrap();
    }
    let err = manager.import(ID, &copy).unwrap_err();
    assert!(err.to_string().contains("tokenizer.json is missing"), "{err}");
    let mut tokenizer = std::fs::read(fixtures::model(ID).join("tokenizer.json")).unwrap();
    tokenizer[100] ^= 1;
    std::fs::write(copy.join("tokenizer.json"), tokenizer).unwrap();
    let err = manager.import(ID, &copy).unwrap_err();
    assert!(matches!(&err, ModelError::Corrupt { file, .. } if file == "tokenizer.json"), "{err}");
    assert!(!manager.is_installed(ID));
    assert!(matches!(manager.import("no-such-model", &copy), Err(ModelError::Unknown(_))));
    std::fs::remove_dir_all(&copy).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
