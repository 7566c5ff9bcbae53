//! `sori-cli` on this computer: `ask --offline` answers with no network at
//! all (Whisper, the chat model in process, and a local voice), in English
//! and Korean; it transcribes a real spoken question with the installed
//! Whisper model, with chat on a loopback server when one is named;
//! `--offline` refuses a chat server elsewhere; a missing model says how to
//! install it; `models list`.

use serde_json::Value;
use sori_testkit::audio::test_audio::espeak_wav;
use sori_testkit::{fixtures, Endpoint, ServerConfig, TestServer};
use std::path::PathBuf;
use std::process::{Command, Output};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sori-cli-offline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The models folder: the fixture cache itself holds `whisper-base/` as installed.
fn cli(models: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sori-cli"))
        .args(args)
        .env("SORI_MODELS_DIR", models)
        .env("XDG_CONFIG_HOME", temp("no-config"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .unwrap()
}

#[test]
fn ask_offline_hears_a_spoken_question_and_speaks_the_reply() {
    fixtures::model("whisper-base");
    let s = TestServer::start_in_background(ServerConfig { api_key: None, ..ServerConfig::default() }).unwrap();
    s.add_reply("order", "Your order arrives tomorrow.");
    let question = temp("question.wav");
    std::fs::write(&question, espeak_wav("When will my order arrive?", "en-us", 0.2, 0.2).unwrap()).unwrap();
    let reply = temp("reply.wav");
    let args = [
        "ask",
        "--offline",
        "--chat",
        &s.base_url(),
        "--language",
        "en",
        "--audio",
        question.to_str().unwrap(),
        "--out",
        reply.to_str().unwrap(),
        "--json",
    ];
    let out = cli(&fixtures::models_root(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let m: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    let heard = m["user_text"].as_str().unwrap().to_lowercase();
    assert!(heard.contains("order") && heard.contains("arrive"), "Whisper heard {heard:?}");
    assert_eq!(m["reply"], "Your order arrives tomorrow.");
    // espeak-ng's voice: 22.05 kHz, about a second and a half of speech.
    let r = hound::WavReader::open(&reply).unwrap();
    let seconds = r.duration() as f64 / r.spec().sample_rate as f64;
    assert!((0.8..6.0).contains(&seconds), "{seconds} s of reply");
    let recorded = s.requests();
    assert!(
        !recorded.is_empty() && recorded.iter().all(|r| r.endpoint == Endpoint::Chat),
        "only chat went to the server: {:?}",
        recorded.iter().map(|r| r.endpoint).collect::<Vec<_>>()
    );
}

/// `sori-cli` in a network namespace of its own: no network at all, with
/// its history in `data`.
fn cli_without_network(models: &std::path::Path, data: &std::path::Path, args: &[&str]) -> Output {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    Command::new("unshare")
        .args(if root { &["--net"][..] } else { &["--user", "--map-root-user", "--net"][..] })
        .arg(env!("CARGO_BIN_EXE_sori-cli"))
        .args(args)
        .env("SORI_MODELS_DIR", models)
        .env("XDG_CONFIG_HOME", temp("no-config"))
        .env("XDG_DATA_HOME", data)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .expect("unshare (util-linux)")
}

#[test]
fn ask_offline_holds_a_conversation_with_no_network_at_all_in_english_and_korean() {
    fixtures::model("smollm2-135m-instruct");
    let data = temp("offline-data");
    let _ = std::fs::remove_dir_all(&data);
    let questions = [("Hi, I am Minji. What are your opening hours?", "en"), ("Can I return a gift?", "en"), ("배송은 얼마나 걸리나요?", "ko")];
    for (question, language) in questions {
        let reply = temp(&format!("offline-{language}.wav"));
        let args = ["ask", "--offline", "--continue", "--text", question, "--language", language, "--out", reply.to_str().unwrap(), "--json"];
        let out = cli_without_network(&fixtures::models_root(), &data, &args);
        assert_eq!(out.status.code(), Some(0), "{language}: {}", String::from_utf8_lossy(&out.stderr));
        let m: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
        let answer = m["reply"].as_str().unwrap();
        assert!(!answer.trim().is_empty(), "{language}: no answer");
        assert!(m["llm_first_token_ms"].as_f64().is_some_and(|t| t > 0.0), "{language}: the first token is timed: {m}");
        let r = hound::WavReader::open(&reply).unwrap();
        assert!(r.duration() as f64 / r.spec().sample_rate as f64 > 0.3, "{language}: the answer was spoken");
    }
    // One conversation in history, with the three turns in order.
    let history = sori_core::history::History::at(data.join("sori").join("history"));
    let conversations = history.list().unwrap();
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    let turns: Vec<String> = history.open(&conversations[0].id).unwrap().into_iter().map(|t| t.user).collect();
    assert_eq!(turns, questions.map(|(q, _)| q.to_string()));
}

#[test]
fn ask_continue_sends_the_earlier_turns_to_the_model() {
    let s = TestServer::start_in_background(ServerConfig { api_key: None, ..ServerConfig::default() }).unwrap();
    s.add_reply("order", "Your order arrives tomorrow.");
    let data = temp("continue-data");
    let _ = std::fs::remove_dir_all(&data);
    for question in ["Where is my order?", "And can I change the address?"] {
        let out = Command::new(env!("CARGO_BIN_EXE_sori-cli"))
            .args(["ask", "--continue", "--offline", "--chat", &s.base_url(), "--text", question, "--json"])
            .env("SORI_MODELS_DIR", fixtures::models_root())
            .env("XDG_CONFIG_HOME", temp("no-config"))
            .env("XDG_DATA_HOME", &data)
            .env_remove("OPENAI_API_KEY")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // The replies' requests, not the request-type questions asked beside them.
    let chats: Vec<_> = s.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat && r.body.get("response_format").is_none()).collect();
    assert_eq!(chats.len(), 2);
    let said: Vec<(String, String)> = chats[1].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap().to_string(), m["content"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(said.len(), 4, "persona, the first turn, the new question: {said:?}");
    assert_eq!(said[1], ("user".into(), "Where is my order?".into()));
    assert_eq!(said[2], ("assistant".into(), "Your order arrives tomorrow.".into()));
    assert_eq!(said[3], ("user".into(), "And can I change the address?".into()));
}

#[test]
fn offline_refuses_a_chat_server_on_another_machine() {
    let out = cli(&fixtures::models_root(), &["ask", "--offline", "--chat", "https://api.openai.com/v1", "--text", "hi"]);
    assert_eq!(out.status.code(), Some(2), "a setup error, before any turn");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--offline keeps everything on this computer") && stderr.contains("api.openai.com"), "{stderr}");
}

#[test]
fn a_model_that_is_not_installed_says_how_to_install_it() {
    let s = TestServer::start_in_background(ServerConfig { api_key: None, ..ServerConfig::default() }).unwrap();
    let empty = temp("no-models");
    std::fs::create_dir_all(&empty).unwrap();
    let question = temp("q2.wav");
    std::fs::write(&question, espeak_wav("Hello there.", "en-us", 0.1, 0.1).unwrap()).unwrap();
    let out = cli(&empty, &["ask", "--offline", "--chat", &s.base_url(), "--audio", question.to_str().unwrap(), "--json"]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("whisper-base is not installed") && all.contains("sori-cli models install whisper-base"), "{all}");
}

#[test]
fn models_list_shows_the_catalogue_and_what_is_installed() {
    let out = cli(&fixtures::models_root(), &["models", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let base = list.as_array().unwrap().iter().find(|m| m["id"] == "whisper-base").expect("whisper-base listed");
    assert_eq!((base["installed"].as_bool(), base["size"].as_u64(), base["licence"].as_str()), (Some(true), Some(147_882_941), Some("MIT")));
    let out = cli(&temp("none"), &["models", "list"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("whisper-base") && table.contains("not installed") && table.contains("148 MB"), "{table}");
}
