//! Records the engine's real event streams for the UI's browser tests: the
//! stand-in `ipc.js` replays these, so the views are tested against what the
//! engine actually sends (a Korean turn, an English turn cut by the user, a
//! rate limit that is retried, a rejected key). Written to
//! `tests/ui/fixtures/recorded/` (not kept in git: `tests/run` makes them
//! before the browser tests).

mod common;

use common::{providers, settings};
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::engine;
use sori_core::event::{Event, Incomplete};
use sori_core::turn::TurnInput;
use sori_testkit::{Endpoint, Fault, LatencyModel, ServerConfig, TestServer};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui/fixtures/recorded");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The events of one turn, up to and including its end.
async fn record(s: &TestServer, question: &str, cancel_after_speaking: bool) -> Vec<Event> {
    let (engine, mut events) = engine::spawn(Conversation::default(), providers(s), settings(), Arc::new(MemoryOutput::default()), None);
    engine.ask(TurnInput::Text(question.into()));
    let mut out = Vec::new();
    // Cut a few words after the second line began, so more was shown than heard.
    let mut lines_spoken = 0;
    let mut words_after_speaking: Option<usize> = None;
    loop {
        let e = tokio::time::timeout(Duration::from_secs(20), events.recv()).await.expect("the turn ends").expect("the engine runs");
        match (&e, words_after_speaking.as_mut()) {
            (Event::AssistantSpeaking { .. }, None) => {
                lines_spoken += 1;
                if lines_spoken == 2 {
                    words_after_speaking = Some(0);
                }
            }
            (Event::AssistantDelta { .. }, Some(n)) => {
                *n += 1;
                if cancel_after_speaking && *n == 4 {
                    engine.cancel();
                }
            }
            _ => {}
        }
        let end = matches!(e, Event::TurnEnded { .. });
        out.push(e);
        if end {
            return out;
        }
    }
}

fn write(name: &str, events: &[Event]) {
    let path = out_dir().join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(events).unwrap()).unwrap();
}

#[tokio::test]
async fn record_the_event_streams_the_ui_is_tested_with() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let korean = record(&s, "주문한 상품이 언제 도착하나요?", false).await;
    assert!(korean.iter().any(|e| matches!(e, Event::AssistantDelta { .. })));
    write("korean-turn", &korean);

    let slow = LatencyModel { chat_first_token_ms: 20.0, chat_tokens_per_second: 30.0, ..LatencyModel::instant() };
    let s = TestServer::start_in_background(ServerConfig { latency: slow, ..Default::default() }).unwrap();
    // Paragraphs apart, as models often write: the cut mark must still land exactly.
    s.add_reply(
        "Please tell me everything",
        "Sure, thanks for reaching out.\n\nYour order left our warehouse this morning.\n\nIt should arrive tomorrow afternoon, and the driver will text you first.",
    );
    let cut = record(&s, "When will my order arrive? Please tell me everything.", true).await;
    let shown: String = cut.iter().filter_map(|e| if let Event::AssistantDelta { text, .. } = e { Some(text.as_str()) } else { None }).collect();
    assert!(cut.iter().any(|e| matches!(e, Event::TurnEnded { interrupted: true, heard, .. } if heard.len() < shown.len())), "{cut:?}");
    assert!(cut.iter().any(|e| matches!(e, Event::TurnEnded { heard, .. } if heard.contains("\n\n"))), "the heard part spans a paragraph: {cut:?}");
    write("interrupted-turn", &cut);

    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.push_fault(Endpoint::Chat, Fault::RateLimited { retry_after_secs: 1 });
    let retried = record(&s, "Is my refund done?", false).await;
    assert!(retried.iter().any(|e| matches!(e, Event::Retrying { wait_ms: 1000, .. })), "{retried:?}");
    write("retried-turn", &retried);

    s.push_fault(Endpoint::Chat, Fault::Unauthorized);
    let rejected = record(&s, "Hello?", false).await;
    assert!(rejected.iter().any(|e| matches!(e, Event::Error { .. })), "{rejected:?}");
    write("rejected-key", &rejected);

    s.push_fault(Endpoint::Chat, Fault::ContentFilter { after_tokens: 12 });
    let filtered = record(&s, "Tell me about my order.", false).await;
    assert!(filtered.iter().any(|e| matches!(e, Event::TurnEnded { reason: Some(Incomplete::ContentFilter), .. })), "{filtered:?}");
    write("filtered-turn", &filtered);
}

/// The next turn's events on a running engine, up to and including its end.
async fn next_turn(engine: &engine::EngineHandle, events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>, input: TurnInput) -> Vec<Event> {
    engine.ask(input);
    let mut out = Vec::new();
    loop {
        let e = tokio::time::timeout(Duration::from_secs(20), events.recv()).await.expect("the turn ends").expect("the engine runs");
        let end = matches!(e, Event::TurnEnded { .. });
        out.push(e);
        if end {
            return out;
        }
    }
}

/// The agent's turns: an order looked up (a preamble, the tool, the
/// request type), and a complaint held for confirmation, then confirmed.
#[tokio::test]
async fn record_the_agents_turns() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.add_tool_reply("언제 도착", "잠시만요, 주문을 확인해 볼게요.", &[("lookup_order", "{}")]);
    s.add_structured_reply("file complaint", serde_json::json!({ "request_type": "complaint" }));
    let dir = std::env::temp_dir().join(format!("sori-ui-agent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tools = sori_core::tools::builtin::sample_tools(&dir, Some("C-001")).unwrap();
    let providers = providers(&s).with_tools(tools).with_model_classification();
    let (engine, mut events) = engine::spawn(Conversation::default(), providers, settings(), Arc::new(MemoryOutput::default()), None);

    let looked_up = next_turn(&engine, &mut events, TurnInput::Text("주문한 상품이 언제 도착하나요?".into())).await;
    assert!(looked_up.iter().any(|e| matches!(e, Event::ToolFinished { name, error: None, .. } if name == "lookup_order")), "{looked_up:?}");
    assert!(looked_up.iter().any(|e| matches!(e, Event::RequestClassified { .. })));
    write("tool-turn", &looked_up);

    let held = next_turn(&engine, &mut events, TurnInput::Text("I want to file complaint: my earphones arrived broken.".into())).await;
    assert!(held.iter().any(|e| matches!(e, Event::ConfirmationAsked { name, .. } if name == "file_complaint")), "{held:?}");
    write("confirm-ask", &held);
    let answered = next_turn(&engine, &mut events, TurnInput::Answer { approve: true, text: "Yes, go ahead.".into() }).await;
    assert!(answered.iter().any(|e| matches!(e, Event::ConfirmationSettled { approved: Some(true), .. })), "{answered:?}");
    assert!(answered.iter().any(|e| matches!(e, Event::ToolFinished { name, error: None, .. } if name == "file_complaint")));
    write("confirm-answer", &answered);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every field error the engine's settings rules can give, so the browser
/// tests can check that the window words each one in both languages.
#[test]
fn record_every_field_error() {
    use sori_core::settings::{validate, Settings};
    let broken = Settings {
        base_url: "api.openai.com".into(),
        stt_model: " ".into(),
        chat_model: String::new(),
        tts_model: String::new(),
        voice: String::new(),
        hotkey: String::new(),
        speed: 9.0,
        language: "Korean".into(),
        style: "x".repeat(4097),
        persona: "x".repeat(8001),
        vad_aggressiveness: 7,
        end_silence_ms: 50,
        max_reply_tokens: 1,
        ui_language: "fr".into(),
        ..Default::default()
    };
    let errors = validate(&broken);
    assert_eq!(errors.len(), 14, "one per rule broken: {errors:?}");
    std::fs::write(out_dir().join("field-errors.json"), serde_json::to_string_pretty(&errors).unwrap()).unwrap();
}
