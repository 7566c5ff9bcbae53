//! `sori-cli ask --realtime`: one turn speech to speech over the testkit's
//! fake Realtime API, reported as a chained turn is (the same JSON line,
//! with `realtime` and the usage); no REST stage is used; a refused key is
//! said plainly and not shown.

mod common;

use common::{cli, temp};
use serde_json::Value;
use sori_testkit::audio::{encode::wav, synthesize};
use sori_testkit::{ServerConfig, TestServer, TEST_API_KEY};

#[test]
fn a_spoken_question_is_answered_speech_to_speech() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let question = temp("question.wav");
    std::fs::write(&question, wav(&synthesize("When will my order arrive?", "alloy", 1.0), 24_000).unwrap()).unwrap();
    let reply = temp("reply.wav");
    let args = ["ask", "--realtime", "--audio", question.to_str().unwrap(), "--out", reply.to_str().unwrap(), "--json", "--language", "en"];
    let out = cli(&s, TEST_API_KEY, &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let m: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!((m["user_text"].as_str(), m["realtime"].as_bool()), (Some("When will my order arrive?"), Some(true)), "{m}");
    assert!(m["usage"]["output_audio_tokens"].as_u64().is_some() && m["ttfa_ms"].as_f64().unwrap() > 0.0, "{m}");
    let r = hound::WavReader::open(&reply).unwrap();
    assert_eq!(r.spec().sample_rate, 24_000);
    assert!(r.duration() > 24_000 * 2, "{} samples of reply", r.duration());
    assert!(s.requests().is_empty(), "no REST stage was used: {:?}", s.requests());
    let sent: Vec<String> = s.realtime_events().iter().filter_map(|e| e["type"].as_str().map(str::to_string)).collect();
    assert!(sent.contains(&"input_audio_buffer.commit".to_string()) && sent.last().is_some_and(|k| k == "response.create"), "{sent:?}");
}

#[test]
fn a_refused_key_is_said_and_not_shown() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let out = cli(&s, "sk-wrong-realtime-9999", &["ask", "--realtime", "--text", "hello"]);
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("API key") && !stderr.contains("sk-wrong-realtime-9999"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("sk-wrong-realtime-9999"));
}
