//! Google Cloud speech through the real HTTP stack against the testkit's fake
//! Google: Korean turns with Google's speech stages and the chat stage on the
//! OpenAI-compatible routes, with an API key and with a service account
//! whose tokens expire mid-conversation; Google's failures as Sori's kinds.

mod common;

use common::settings;
use sori_core::app::{build_providers, google, Endpoint, ProviderPlan};
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::event::Event;
use sori_core::provider::google::{GoogleCloud, GoogleCredential};
use sori_core::provider::{ErrorKind, Providers, SpeechToText, SttRequest};
use sori_core::secrets::{ApiKey, Keys, MemoryStore};
use sori_core::turn::*;
use sori_testkit::audio::synthesize;
use sori_testkit::{Endpoint as Route, Fault, ServerConfig, TestServer, GOOGLE_TEST_API_KEY, TEST_API_KEY};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const QUESTION: &str = "주문한 물건이 언제 도착하나요?";

/// Keys with the testkit's OpenAI key for its base URL and `google` as the Google key.
fn keys(kit: &TestServer, google: &str) -> Keys {
    let keys = Keys::new(Ok(Arc::new(MemoryStore::default())), None);
    keys.set(&format!("{}/v1", kit.base_url().trim_end_matches("/v1")), ApiKey::new(TEST_API_KEY).unwrap(), false).unwrap();
    google::set(&keys, ApiKey::new(google).unwrap(), false).unwrap();
    keys
}

/// Google for speech, the testkit's OpenAI routes for chat.
fn google_providers(kit: &TestServer, keys: &Keys) -> Providers {
    let google = Endpoint::Google { root: Some(kit.google_root()), languages: vec!["ko-KR".into(), "en-US".into()] };
    let plan = ProviderPlan { stt: google.clone(), chat: Endpoint::OpenAiCompatible { base_url: kit.base_url() }, tts: google };
    let built = build_providers(&plan, keys).unwrap();
    assert!(built.key_problem.is_none());
    built.providers
}

fn google_settings() -> TurnSettings {
    let mut s = settings();
    s.stt_model = "latest_short".into();
    s.stt_prompt = Some("소리샵, 주문번호".into());
    s.voice.voice = "ko-KR-Standard-A".into();
    s.voice.pitch = -2.0;
    s
}

struct Run {
    outcome: TurnOutcome,
    events: Vec<Event>,
    audio: Vec<i16>,
}

async fn spoken_turn(kit: &TestServer, providers: &Providers, conversation: &Conversation) -> Run {
    let question = synthesize("질문", "ko", 1.0);
    kit.set_transcript_for_samples(&question, QUESTION);
    let output = Arc::new(MemoryOutput::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let input = TurnInput::Audio { samples: question, sample_rate: 16_000 };
    let outcome = run_turn(input, conversation, providers, &google_settings(), output.clone(), Emitter::new(1, tx), CancellationToken::new()).await;
    let mut events = vec![];
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    Run { outcome, events, audio: output.take_audio().samples }
}

fn errors(events: &[Event]) -> Vec<ErrorKind> {
    events.iter().filter_map(|e| if let Event::Error { error, .. } = e { Some(error.clone()) } else { None }).collect()
}

#[tokio::test]
async fn a_korean_spoken_turn_runs_on_google_speech_with_an_api_key() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let keys = keys(&kit, GOOGLE_TEST_API_KEY);
    let providers = google_providers(&kit, &keys);
    let conversation = Conversation::with_persona("You are a helpful agent.");
    let run = spoken_turn(&kit, &providers, &conversation).await;
    assert_eq!(errors(&run.events), vec![]);
    assert_eq!(run.outcome.user_text.as_deref(), Some(QUESTION));
    assert!(!run.outcome.reply.is_empty() && run.audio.len() > 24_000 / 4, "the reply was spoken ({} samples)", run.audio.len());
    let log = kit.requests();
    let recognize = log.iter().find(|r| r.endpoint == Route::GoogleRecognize).expect("Google heard the question");
    assert_eq!(recognize.body["config"]["languageCode"], "ko-KR");
    assert_eq!(recognize.body["config"]["alternativeLanguageCodes"], serde_json::json!(["en-US"]));
    assert_eq!(recognize.body["config"]["model"], "latest_short");
    assert_eq!(recognize.body["config"]["speechContexts"][0]["phrases"], serde_json::json!(["소리샵", "주문번호"]));
    let synth: Vec<_> = log.iter().filter(|r| r.endpoint == Route::GoogleSynthesize).collect();
    assert!(!synth.is_empty(), "Google spoke the reply");
    assert!(synth.iter().all(|r| r.body["voice"]["name"] == "ko-KR-Standard-A" && r.body["audioConfig"]["pitch"] == -2.0));
    assert!(log.iter().any(|r| r.endpoint == Route::Chat), "the chat stage stayed on the OpenAI-compatible server");
}

#[tokio::test]
async fn service_account_tokens_are_cached_and_renewed_before_they_expire_mid_conversation() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    // Long enough that a slow first turn stays well inside the token's life.
    kit.set_google_token_ttl(Duration::from_secs(8));
    let keys = keys(&kit, &kit.google_service_account());
    let providers = google_providers(&kit, &keys);
    let mut conversation = Conversation::with_persona("You are a helpful agent.");
    let first = spoken_turn(&kit, &providers, &conversation).await;
    assert_eq!(errors(&first.events), vec![]);
    assert_eq!(kit.google_tokens_issued(), 1, "one token serves both stages of a turn");
    conversation.record(QUESTION, &first.outcome.heard);
    // The token dies at 8 s; Sori replaces it after three quarters of its life (6 s).
    tokio::time::sleep(Duration::from_millis(6500)).await;
    let second = spoken_turn(&kit, &providers, &conversation).await;
    assert_eq!(errors(&second.events), vec![], "no turn fails on an expired token");
    assert_eq!(second.outcome.user_text.as_deref(), Some(QUESTION));
    assert_eq!(kit.google_tokens_issued(), 2);
    // A refused token would show as a second try of the same recognition.
    let recognitions = kit.requests().iter().filter(|r| r.endpoint == Route::GoogleRecognize).count();
    assert_eq!(recognitions, 2, "the old token was never sent after it expired");
}

#[tokio::test]
async fn a_token_refused_before_it_expired_is_replaced_once_and_the_request_goes_through() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let keys = keys(&kit, &kit.google_service_account());
    let providers = google_providers(&kit, &keys);
    let conversation = Conversation::with_persona("You are a helpful agent.");
    assert_eq!(errors(&spoken_turn(&kit, &providers, &conversation).await.events), vec![]);
    kit.revoke_google_tokens();
    let before = kit.requests().iter().filter(|r| r.endpoint == Route::GoogleRecognize).count();
    let run = spoken_turn(&kit, &providers, &conversation).await;
    assert_eq!(errors(&run.events), vec![], "the turn never saw the refused token");
    assert_eq!(kit.google_tokens_issued(), 2, "one new token");
    let after = kit.requests().iter().filter(|r| r.endpoint == Route::GoogleRecognize).count();
    assert_eq!(after - before, 2, "the refused recognition, then the same again with the new token");
}

#[tokio::test]
async fn googles_failures_become_sori_kinds_and_retryable_ones_are_retried() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let keys = keys(&kit, GOOGLE_TEST_API_KEY);
    let providers = google_providers(&kit, &keys);
    let conversation = Conversation::with_persona("You are a helpful agent.");
    // A quota hiccup on recognition is waited out.
    kit.push_fault(Route::GoogleRecognize, Fault::RateLimited { retry_after_secs: 0 });
    let run = spoken_turn(&kit, &providers, &conversation).await;
    assert_eq!(errors(&run.events), vec![]);
    assert_eq!(run.outcome.user_text.as_deref(), Some(QUESTION));

    let google = |key: &str| {
        GoogleCloud::new(Some(&kit.google_root()), Some(GoogleCredential::parse(&ApiKey::new(key).unwrap()).unwrap()), vec!["ko-KR".into()]).unwrap()
    };
    let stt = google(GOOGLE_TEST_API_KEY);
    let request =
        SttRequest { samples: &synthesize("질문", "ko", 1.0), sample_rate: 16_000, model: "latest_short", language: Some("ko"), prompt: None };
    let kind = |r: Result<String, sori_core::provider::ProviderError>| r.unwrap_err().kind;
    for (fault, expected) in [
        (Fault::Unauthorized, ErrorKind::Auth),
        (Fault::ServerError, ErrorKind::Server),
        (Fault::Overloaded, ErrorKind::Server),
        (Fault::RateLimited { retry_after_secs: 3 }, ErrorKind::RateLimited { retry_after_ms: Some(3000) }),
        (Fault::QuotaExceeded, ErrorKind::Quota),
    ] {
        kit.push_fault(Route::GoogleRecognize, fault.clone());
        assert_eq!(kind(stt.transcribe(request).await), expected, "{fault:?}");
    }
    let wrong = google("not-the-test-key-0000").transcribe(request).await.unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::Auth, "Google's 400 API_KEY_INVALID is a key problem: {}", wrong.message);
    assert!(!wrong.message.contains("not-the-test-key"));
    let none = GoogleCloud::new(Some(&kit.google_root()), None, vec![]).unwrap().transcribe(request).await.unwrap_err();
    assert_eq!(none.kind, ErrorKind::Auth);
    assert!(none.message.contains("No Google Cloud key"), "{}", none.message);
}

#[tokio::test]
async fn a_cut_audio_reply_is_a_clear_error_and_the_voice_list_comes_from_google() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let keys = keys(&kit, GOOGLE_TEST_API_KEY);
    let mut settings = sori_core::settings::Settings { google_endpoint: Some(kit.google_root()), ..Default::default() };
    let voices = google::voices(&settings, &keys, Some("ko-KR")).await.unwrap();
    assert!(voices.iter().any(|v| v.name == "ko-KR-Standard-A" && v.gender == "FEMALE"), "{voices:?}");
    assert!(voices.iter().all(|v| v.language_codes.iter().any(|l| l == "ko-KR")));
    assert!(matches!(google::check(&settings, &keys).await, sori_core::app::KeyCheck::Works { models } if models > voices.len()));
    settings.google_endpoint = Some("http://127.0.0.1:9".into());
    assert!(matches!(google::check(&settings, &keys).await, sori_core::app::KeyCheck::Unreachable { .. }));

    let providers = google_providers(&kit, &keys);
    kit.push_faults(Route::GoogleSynthesize, Fault::TruncatedAudio, 10);
    let run = spoken_turn(&kit, &providers, &Conversation::with_persona("You are a helpful agent.")).await;
    assert!(errors(&run.events).contains(&ErrorKind::BadResponse), "{:?}", errors(&run.events));
    assert_eq!(run.outcome.user_text.as_deref(), Some(QUESTION), "the question is kept");
}
