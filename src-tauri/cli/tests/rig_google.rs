//! Google Cloud speech from `sori-cli` on the rig: a service account's key
//! file kept in the real keychain (its text; the file is deleted after), a
//! Korean spoken question answered aloud on the virtual speaker with Google's
//! speech stages and the chat stage on the testkit, faults on the way, the
//! key and its tokens in no output, and the key removed again.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

#![cfg(target_os = "linux")]

mod common;

use sori_testkit::audio::test_audio::espeak_wav;
use sori_testkit::{Endpoint, Fault, ServerConfig, TestServer, TEST_API_KEY};
use std::process::{Command, Output};

fn cli(kit: &TestServer, config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sori-cli"))
        .args(args)
        .env("OPENAI_API_KEY", TEST_API_KEY)
        .env("OPENAI_BASE_URL", kit.base_url())
        .env("XDG_CONFIG_HOME", config)
        .env("XDG_DATA_HOME", config.join("data"))
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_korean_question_is_answered_with_google_speech_and_a_service_account_from_the_keychain() {
    common::require_rig();
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = common::temp("google");
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("sori-test-service-account.json");
    let account = kit.google_service_account();
    std::fs::write(&key_file, &account).unwrap();
    let private_key: String = serde_json::from_str::<serde_json::Value>(&account).unwrap()["private_key"].as_str().unwrap().to_string();
    // The middle of the key's base64: what a leak would carry, in any wrapping.
    let secret_line = private_key.lines().nth(5).unwrap().to_string();

    let out = cli(&kit, &dir, &["google", "set-key", "--file", key_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let status = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(status.contains(r#""type":"service_account""#) && status.contains(sori_testkit::GOOGLE_TEST_CLIENT_EMAIL), "{status}");
    assert!(status.contains(r#""store":"Secret Service""#), "{status}");
    std::fs::remove_file(&key_file).unwrap();

    let question = dir.join("question.wav");
    std::fs::write(&question, espeak_wav("주문한 물건이 언제 도착하나요", "ko", 0.3, 0.3).unwrap()).unwrap();
    let root = kit.google_root();
    let ask = |extra: &[&str]| {
        let mut args = vec!["ask", "--audio", question.to_str().unwrap(), "--stt", "google", "--tts", "google", "--google-endpoint", &root, "--json"];
        args.extend_from_slice(extra);
        cli(&kit, &dir, &args)
    };
    let out = ask(&["--play", "--out", dir.join("reply.wav").to_str().unwrap(), "--google-voice", "ko-KR-Neural2-A"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let last = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_string();
    assert!(serde_json::from_str::<serde_json::Value>(&last).is_ok_and(|m| m.is_object()), "the metrics line: {last}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("you:  "), "the question was heard: {}", text(&out));
    let reply = hound::WavReader::open(dir.join("reply.wav")).unwrap();
    assert!(reply.duration() > reply.spec().sample_rate / 2, "the reply was spoken");
    let log = kit.requests();
    let bearer: Vec<String> = log.iter().filter(|r| r.endpoint == Endpoint::GoogleSynthesize).filter_map(|r| r.authorization.clone()).collect();
    assert!(!bearer.is_empty() && bearer.iter().all(|b| b.starts_with("Bearer ")), "Google got the service account's token: {bearer:?}");
    assert!(log.iter().any(|r| r.endpoint == Endpoint::GoogleSynthesize && r.body["voice"]["name"] == "ko-KR-Neural2-A"));
    assert_eq!(kit.google_tokens_issued(), 1);

    // Faults on the way: each is reported, and no output carries a secret.
    let mut outputs = vec![text(&out)];
    for (endpoint, fault) in [
        (Endpoint::GoogleSynthesize, Fault::TruncatedAudio),
        (Endpoint::GoogleRecognize, Fault::Unauthorized),
        (Endpoint::GoogleSynthesize, Fault::DropMidBody { after_bytes: 200 }),
    ] {
        kit.push_faults(endpoint, fault, 3);
        outputs.push(text(&ask(&[])));
    }
    // Every token any of the runs was given (each process signs in anew).
    let mut secrets: Vec<String> =
        kit.requests().iter().filter_map(|r| r.authorization.as_deref()?.strip_prefix("Bearer ").map(str::to_string)).collect();
    assert!(secrets.len() > 1, "the fault runs signed in too");
    secrets.push(secret_line.clone());
    for (what, output) in outputs.iter().enumerate() {
        for secret in &secrets {
            sori_testkit::leaks::assert_absent(&format!("sori-cli output {what}"), output, secret);
        }
    }
    for (path, contents) in sori_testkit::leaks::files_under(&dir) {
        sori_testkit::leaks::assert_absent(&path, &contents, &secret_line);
    }

    let out = cli(&kit, &dir, &["google", "clear-key"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#""set":false"#), "{}", text(&out));
    let out = ask(&[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out).contains("No Google Cloud key is set"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
