//! `sori-cli say --play` on the rig's virtual speaker: the reply really reaches
//! the sound device, for as long as the speech lasts.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use sori_testkit::audio::synthesize;
use sori_testkit::{ServerConfig, TestServer, TEST_API_KEY};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn say_play_reaches_the_speaker() {
    common::require_rig();
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let text = "네, 좋아요. 바로 확인해 드릴게요.";
    let dir = std::env::temp_dir().join(format!("sori-cli-play-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let recording = dir.join("speaker.raw");
    let mut recorder = Command::new("parecord")
        .args(["-d", "speaker.monitor", "--raw", "--format=s16le", "--rate=48000", "--channels=2", "--latency-msec=20"])
        .arg(&recording)
        .spawn()
        .expect("parecord (run through tests/rig/with-rig.sh)");
    std::thread::sleep(Duration::from_millis(400));
    let out = Command::new(env!("CARGO_BIN_EXE_sori-cli"))
        .args(["say", text, "--play"])
        .env("OPENAI_API_KEY", TEST_API_KEY)
        .env("OPENAI_BASE_URL", s.base_url())
        .env("XDG_CONFIG_HOME", &dir)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill").args(["-INT", &recorder.id().to_string()]).status();
    let _ = recorder.wait();
    let bytes = std::fs::read(&recording).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let left: Vec<i16> = bytes.chunks_exact(4).map(|f| i16::from_le_bytes([f[0], f[1]])).collect();
    // Loud 10 ms blocks of the recording: the voiced parts of the speech.
    let voiced = left.chunks(480).filter(|b| b.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / b.len() as f64 > 1e6).count();
    let expected = synthesize(text, "coral", 1.0);
    let expected_voiced = expected.chunks(240).filter(|b| b.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / b.len() as f64 > 1e6).count();
    assert!(
        voiced as f64 > expected_voiced as f64 * 0.9 && (voiced as f64) < expected_voiced as f64 * 1.1,
        "{voiced} voiced blocks recorded, {expected_voiced} in the speech"
    );
}
