//! The key never shows: whole turns run with every fault the test server can
//! throw, through the engine (with history); then every event and every file
//! written is searched for the key. (`sori-cli` and its server: the cli
//! package's own redaction test.)

mod common;

use common::settings;
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::engine;
use sori_core::history::History;
use sori_core::provider::openai::OpenAi;
use sori_core::secrets::ApiKey;
use sori_core::settings::{Settings, SettingsFile};
use sori_core::turn::TurnInput;
use sori_testkit::{Endpoint, Fault, ServerConfig, TestServer};
use std::sync::Arc;

const KEY: &str = "sori-redaction-test-key-5b8e21c9";

fn every_fault() -> Vec<(Endpoint, Fault)> {
    let mut faults = vec![];
    for endpoint in [Endpoint::Transcriptions, Endpoint::Chat, Endpoint::Speech] {
        faults.extend(
            [
                Fault::Unauthorized,
                Fault::RateLimited { retry_after_secs: 0 },
                Fault::QuotaExceeded,
                Fault::ServerError,
                Fault::Overloaded,
                Fault::SlowFirstByte { ms: 20 },
                Fault::DropMidBody { after_bytes: 300 },
                Fault::MalformedSse,
            ]
            .into_iter()
            .map(|f| (endpoint, f)),
        );
    }
    faults.push((Endpoint::Speech, Fault::TruncatedAudio));
    faults.retain(|(e, f)| f.applies_to(*e));
    faults
}

fn assert_no_key(what: &str, text: &str) {
    sori_testkit::leaks::assert_absent(what, text, KEY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_appears_in_no_event_output_or_file() {
    let server = TestServer::start_in_background(ServerConfig { api_key: Some(KEY.into()), ..Default::default() }).unwrap();
    let dir = std::env::temp_dir().join(format!("sori-redaction-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let history = History::at(dir.join("history"));
    SettingsFile::at(dir.join("settings.json")).save(&Settings { base_url: server.base_url(), ..Default::default() }).unwrap();

    // The engine: one turn per fault, spoken and typed, with a wrong key too.
    let providers = OpenAi::new(&server.base_url(), ApiKey::new(KEY)).unwrap().providers();
    let (handle, mut events) =
        engine::spawn(Conversation::default(), providers, settings(), Arc::new(MemoryOutput::default()), Some(history.clone()));
    let audio: Vec<i16> = (0..16_000).map(|i| ((i as f64 * 0.05).sin() * 7000.0) as i16).collect();
    for (endpoint, fault) in every_fault() {
        server.push_fault(endpoint, fault);
        let input = if endpoint == Endpoint::Transcriptions {
            TurnInput::Audio { samples: audio.clone(), sample_rate: 16_000 }
        } else {
            TurnInput::Text("Hello?".into())
        };
        handle.ask_and_wait(input).await.unwrap();
    }
    let wrong = OpenAi::new(&server.base_url(), ApiKey::new(format!("{KEY}-wrong"))).unwrap();
    let e = wrong.list_models().await.unwrap_err();
    assert_no_key("a wrong-key error", &e.message);
    let client = OpenAi::new(&server.base_url(), ApiKey::new(KEY)).unwrap();
    assert_no_key("a client's Debug", &format!("{client:?}"));

    let mut all_events = String::new();
    while let Ok(e) = events.try_recv() {
        all_events.push_str(&serde_json::to_string(&e).unwrap());
        all_events.push('\n');
    }
    assert!(all_events.contains(r#""type":"error""#) && all_events.contains(r#""type":"retrying""#), "faults happened");
    assert_no_key("the events", &all_events);

    // The key did travel where it should: in the Authorization header.
    assert!(server.requests().iter().any(|r| r.authorization.as_deref() == Some(&format!("Bearer {KEY}"))));
    let files = sori_testkit::leaks::files_under(&dir);
    assert!(files.iter().any(|(p, _)| p.ends_with(".jsonl")), "history was written: {:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());
    for (path, text) in files {
        assert_no_key(&path, &text);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Google's speech stages with an API key, then a service account: every
/// fault of its routes through the engine, and neither the API key, the
/// service account's private key nor an access token in any event, Debug
/// text or file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_google_key_or_token_appears_in_any_event_or_file() {
    use sori_core::app::{build_providers, google, Endpoint as Where, ProviderPlan};
    use sori_core::secrets::{Keys, MemoryStore};
    let server = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("sori-redaction-google-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let history = History::at(dir.join("history"));
    let account = server.google_service_account();
    let private_key = serde_json::from_str::<serde_json::Value>(&account).unwrap()["private_key"].as_str().unwrap().to_string();
    let key_line = private_key.lines().nth(5).unwrap().to_string();
    let audio: Vec<i16> = (0..16_000).map(|i| ((i as f64 * 0.05).sin() * 7000.0) as i16).collect();
    let mut all_events = String::new();
    for (credential, service_account) in [(sori_testkit::GOOGLE_TEST_API_KEY.to_string(), false), (account.clone(), true)] {
        let keys = Keys::new(Ok(Arc::new(MemoryStore::default())), None);
        keys.set(&server.base_url(), ApiKey::new(sori_testkit::TEST_API_KEY).unwrap(), false).unwrap();
        google::set(&keys, ApiKey::new(credential).unwrap(), false).unwrap();
        let speech = Where::Google { root: Some(server.google_root()), languages: vec!["ko-KR".into()] };
        let plan = ProviderPlan { stt: speech.clone(), chat: Where::OpenAiCompatible { base_url: server.base_url() }, tts: speech };
        let providers = build_providers(&plan, &keys).unwrap().providers;
        assert_no_google_secret("a client's Debug", &format!("{:?}", google::credential(&keys).unwrap()), &key_line);
        let (handle, mut events) =
            engine::spawn(Conversation::default(), providers, settings(), Arc::new(MemoryOutput::default()), Some(history.clone()));
        if service_account {
            // Before any token is cached, so the sign-in itself is refused once.
            server.push_fault(Endpoint::GoogleToken, Fault::Unauthorized);
            handle.ask_and_wait(TurnInput::Audio { samples: audio.clone(), sample_rate: 16_000 }).await.unwrap();
        }
        for endpoint in [Endpoint::GoogleRecognize, Endpoint::GoogleSynthesize] {
            for fault in [
                Fault::Unauthorized,
                Fault::RateLimited { retry_after_secs: 0 },
                Fault::QuotaExceeded,
                Fault::ServerError,
                Fault::Overloaded,
                Fault::DropMidBody { after_bytes: 100 },
                Fault::TruncatedAudio,
            ] {
                if !fault.applies_to(endpoint) {
                    continue;
                }
                server.push_fault(endpoint, fault);
                handle.ask_and_wait(TurnInput::Audio { samples: audio.clone(), sample_rate: 16_000 }).await.unwrap();
            }
        }
        while let Ok(e) = events.try_recv() {
            all_events.push_str(&serde_json::to_string(&e).unwrap());
            all_events.push('\n');
        }
    }
    assert!(all_events.contains(r#""type":"error""#) && all_events.contains(r#""type":"retrying""#), "faults happened");
    let tokens: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")).filter(|t| t.starts_with("ya29.")).map(str::to_string))
        .collect();
    assert!(!tokens.is_empty(), "the service account's tokens were used");
    let mut secrets = vec![sori_testkit::GOOGLE_TEST_API_KEY.to_string(), key_line];
    secrets.extend(tokens);
    for secret in &secrets {
        assert_no_google_secret("the events", &all_events, secret);
        for (path, text) in sori_testkit::leaks::files_under(&dir) {
            assert_no_google_secret(&path, &text, secret);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn assert_no_google_secret(what: &str, text: &str, secret: &str) {
    sori_testkit::leaks::assert_absent(what, text, secret);
}
