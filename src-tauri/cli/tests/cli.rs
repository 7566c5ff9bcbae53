//! `sori-cli` as a user runs it, against the testkit server: settings from
//! file, environment and flags; the JSON metrics line; WAV output; errors.

mod common;

use common::{cli, temp};

use serde_json::Value;
use sori_testkit::audio::{encode::wav, synthesize};
use sori_testkit::script::default_reply;
use sori_testkit::{Endpoint, ServerConfig, TestServer, TEST_API_KEY};
use std::process::Output;

fn last_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {stdout}"))
}

#[test]
fn ask_text_prints_the_reply_and_a_metrics_line() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let out = cli(&s, TEST_API_KEY, &["ask", "--text", "배송 언제 와요?", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let m = last_json(&out);
    assert_eq!(m["reply"], default_reply("배송 언제 와요?"));
    let (ttfa, total) = (m["ttfa_ms"].as_f64().unwrap(), m["total_ms"].as_f64().unwrap());
    assert!(0.0 < ttfa && ttfa <= total);
    assert!(m["llm_first_token_ms"].as_f64().unwrap() <= m["first_chunk_ms"].as_f64().unwrap());
    assert!(m["bytes_down"].as_u64().unwrap() > 0 && m["peak_rss_mb"].as_f64().unwrap() > 0.0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("sori: 네, 고객님"), "progress goes to stderr with --json");
}

#[test]
fn ask_audio_transcribes_and_writes_the_spoken_reply() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let samples: Vec<i16> = (0..24_000).map(|i| ((i as f64 * 0.04).sin() * 8000.0) as i16).collect();
    s.set_transcript_for_samples(&samples, "When will my order arrive?");
    let question = temp("question.wav");
    std::fs::write(&question, wav(&samples, 16_000).unwrap()).unwrap();
    let reply = temp("reply.wav");
    let out = cli(&s, TEST_API_KEY, &["ask", "--audio", question.to_str().unwrap(), "--out", reply.to_str().unwrap(), "--json", "--language", "en"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let m = last_json(&out);
    assert_eq!(m["user_text"], "When will my order arrive?");
    assert!(m["transcript_ms"].as_f64().unwrap() <= m["ttfa_ms"].as_f64().unwrap());
    let mut r = hound::WavReader::open(&reply).unwrap();
    assert_eq!(r.spec().sample_rate, 24_000);
    let got: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
    assert!(got.len() > 24_000 * 5, "{} samples", got.len());
    assert_eq!(s.requests()[0].body["language"], "en");
}

#[test]
fn say_speaks_with_the_settings_file_and_flags() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let settings = temp("settings.json");
    std::fs::write(&settings, r#"{"voice": "nova", "tts_model": "tts-1", "speed": 1.25}"#).unwrap();
    let out_wav = temp("say.wav");
    let out = cli(
        &s,
        TEST_API_KEY,
        &["say", "안녕하세요, 소리입니다.", "--settings", settings.to_str().unwrap(), "--out", out_wav.to_str().unwrap(), "--speed", "1.5"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let sent = &s.requests()[0].body;
    assert_eq!((sent["voice"].as_str(), sent["model"].as_str(), sent["speed"].as_f64()), (Some("nova"), Some("tts-1"), Some(1.5)));
    assert!(sent.get("instructions").is_none(), "tts-1 takes no style");
    let got: Vec<i16> = hound::WavReader::open(&out_wav).unwrap().samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(got, synthesize("안녕하세요, 소리입니다.", "nova", 1.5));
}

#[test]
fn a_wrong_key_fails_clearly_without_showing_it() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let key = "wrong-secret-key-5555";
    let out = cli(&s, key, &["ask", "--text", "hi", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did not accept the API key"), "{stderr}");
    assert!(!stderr.contains(key) && !String::from_utf8_lossy(&out.stdout).contains(key));
    assert!(s.requests().iter().all(|r| r.endpoint != Endpoint::Speech));
}

#[test]
fn a_key_is_never_sent_in_the_clear_to_another_machine() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let out = cli(&s, TEST_API_KEY, &["ask", "--text", "hi", "--base-url", "http://10.1.2.3:8080/v1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unencrypted"));
}
