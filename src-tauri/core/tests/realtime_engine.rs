//! Realtime mode behind the engine's seam, against the testkit's fake
//! Realtime server over a real WebSocket: typed and spoken turns with the
//! same events and outcome as chained ones; a tool call round trip; a
//! barge-in that truncates to what played; a dropped socket reconnected
//! with the conversation replayed; a session limit met by a new session;
//! rotation before the limit; a refused key not retried.

mod common;

use common::{until, ClockOutput};
use serde_json::Value;
use sori_core::audio::output::{AudioOutput, MemoryOutput};
use sori_core::conversation::Conversation;
use sori_core::engine::{self, EngineHandle};
use sori_core::event::{Event, LinkState};
use sori_core::provider::ErrorKind;
use sori_core::realtime::link::LinkSetup;
use sori_core::turn::TurnInput;
use sori_testkit::{Endpoint, Fault, ServerConfig, TestServer, TEST_API_KEY};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

fn setup(kit: &TestServer, key: &str) -> LinkSetup {
    common::realtime_setup(kit, key)
}

fn start(kit: &TestServer, output: Arc<dyn AudioOutput>, tools: sori_core::tools::Tools) -> (EngineHandle, UnboundedReceiver<Event>) {
    let providers = common::providers(kit).with_tools(tools);
    let conversation = Conversation::with_persona("You are Sori, a customer-service agent.");
    engine::spawn(conversation, providers, common::settings(), output, None)
}

async fn connected(events: &mut UnboundedReceiver<Event>) -> Option<usize> {
    until(events, 15, |e| match e {
        Event::Realtime { state: LinkState::Connected, context_turns, .. } => Some(*context_turns),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_and_spoken_turns_run_speech_to_speech_with_the_usual_events() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let (engine, mut events) = start(&kit, Arc::new(MemoryOutput::default()), Default::default());
    engine.set_realtime(Some(setup(&kit, TEST_API_KEY)));
    assert_eq!(connected(&mut events).await, Some(0));
    let update = &common::realtime_sent(&kit, "session.update")[0]["session"];
    assert_eq!(update["instructions"], "You are Sori, a customer-service agent.");
    assert_eq!(update["audio"]["input"]["transcription"]["language"], "en");

    let typed = engine.ask_and_wait(TurnInput::Text("Where is my parcel?".into())).await.unwrap();
    assert!(!typed.incomplete && !typed.interrupted, "{typed:?}");
    assert!(typed.reply.contains("Where is my parcel?") && typed.heard == typed.reply.trim_end(), "{typed:?}");
    assert!(typed.metrics.realtime && typed.metrics.ttfa_ms.is_some());
    assert_eq!(typed.metrics.usage.map(|u| u.output_audio_tokens), Some(60), "usage from response.done");

    // A question spoken at the microphone's 16 kHz goes up at 24 kHz and is committed.
    let speech24 = sori_testkit::audio::synthesize("When will my order arrive?", "alloy", 1.0);
    let speech16 = sori_core::audio::resample::resample(&speech24, 24_000, 16_000).unwrap();
    let spoken = engine.ask_and_wait(TurnInput::Audio { samples: speech16, sample_rate: 16_000 }).await.unwrap();
    assert_eq!(spoken.user_text.as_deref(), Some("When will my order arrive?"), "the server's transcript is the turn's");
    assert!(spoken.metrics.transcript_ms.is_some() && !spoken.reply.is_empty(), "{spoken:?}");
    let appended: usize = common::realtime_sent(&kit, "input_audio_buffer.append")
        .iter()
        .map(|e| sori_core::realtime::events::pcm_from_base64(e["audio"].as_str().unwrap()).unwrap().len())
        .sum();
    assert!(appended.abs_diff(speech24.len()) <= 240, "{appended} samples at 24 kHz for {} spoken", speech24.len());
    assert_eq!(common::realtime_sent(&kit, "input_audio_buffer.commit").len(), 1);
    let order: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            Event::UserTranscript { turn, .. } => Some(format!("user {turn}")),
            Event::TurnEnded { turn, .. } => Some(format!("ended {turn}")),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["user 1", "ended 1", "user 2", "ended 2"]);
    let kept = engine.conversation().await.unwrap();
    assert_eq!(kept.turns().len(), 2, "both turns are the conversation's, for either mode");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_call_runs_and_its_result_goes_back_before_the_next_response() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("sori-realtime-tools-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tools = sori_core::tools::builtin::sample_tools(&dir, Some("C-001")).unwrap();
    let (engine, mut events) = start(&kit, Arc::new(MemoryOutput::default()), tools);
    engine.set_realtime(Some(setup(&kit, TEST_API_KEY)));
    connected(&mut events).await;
    let names: Vec<Value> =
        common::realtime_sent(&kit, "session.update")[0]["session"]["tools"].as_array().unwrap().iter().map(|t| t["name"].clone()).collect();
    assert_eq!(names, ["lookup_order", "search_faq", "file_complaint", "request_callback"]);

    let outcome = engine.ask_and_wait(TurnInput::Text("Can you lookup order status for me?".into())).await.unwrap();
    assert!(outcome.reply.contains("A-1001") && outcome.reply.contains("2026-12-08"), "answered from the database: {}", outcome.reply);
    assert_eq!(outcome.tool_messages.len(), 2, "the call and its result are kept");
    // The result went back, and only then a second response was asked for.
    let log = kit.realtime_events();
    let kinds: Vec<&str> = log.iter().filter_map(|e| e["type"].as_str()).filter(|k| *k != "session.update").collect();
    assert_eq!(kinds, ["conversation.item.create", "response.create", "conversation.item.create", "response.create"]);
    assert_eq!(log.iter().filter(|e| e["type"] == "conversation.item.create").nth(1).unwrap()["item"]["type"], "function_call_output");
    let tool_events: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            Event::ToolStarted { name, .. } => Some(format!("started {name}")),
            Event::ToolFinished { name, error, .. } => Some(format!("finished {name} {error:?}")),
            _ => None,
        })
        .collect();
    assert_eq!(tool_events, ["started lookup_order", "finished lookup_order None"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_barge_in_cancels_and_truncates_to_what_played() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let output = Arc::new(ClockOutput::default());
    let (engine, mut events) = start(&kit, output.clone(), Default::default());
    engine.set_realtime(Some(setup(&kit, TEST_API_KEY)));
    connected(&mut events).await;
    let asking = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.ask_and_wait(TurnInput::Text("Tell me everything about the delivery of my order please".into())).await })
    };
    until(&mut events, 10, |e| matches!(e, Event::AssistantSpeaking { .. }).then_some(())).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    engine.cancel();
    let outcome = asking.await.unwrap().unwrap();
    let played_ms = output.played_samples() / 24;
    assert!(outcome.interrupted && outcome.heard.chars().count() < outcome.reply.chars().count(), "{outcome:?}");
    let truncates = common::realtime_sent_at_least(&kit, "conversation.item.truncate", 1).await;
    let end = truncates[0]["audio_end_ms"].as_u64().unwrap();
    assert!(end.abs_diff(played_ms) <= 50, "truncated at {end} ms, {played_ms} ms played");
    // The server agreed: the next turn runs on the same session.
    let next = engine.ask_and_wait(TurnInput::Text("Thanks".into())).await.unwrap();
    assert!(!next.incomplete, "{next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_socket_is_reconnected_with_the_conversation_replayed() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let (engine, mut events) = start(&kit, Arc::new(MemoryOutput::default()), Default::default());
    engine.set_realtime(Some(setup(&kit, TEST_API_KEY)));
    connected(&mut events).await;
    engine.ask_and_wait(TurnInput::Text("My name is Minji.".into())).await.unwrap();
    kit.push_fault(Endpoint::Realtime, Fault::CloseMidResponse);
    let cut = engine.ask_and_wait(TurnInput::Text("Where is my order?".into())).await.unwrap();
    assert_eq!(cut.reason, Some(sori_core::event::Incomplete::Failed), "{cut:?}");
    // The turn's error, the link's reconnecting and its new session, in whatever order they come.
    let (mut network, mut reconnecting) = (false, false);
    let context = until(&mut events, 10, |e| match e {
        Event::Error { error: ErrorKind::Network, .. } => {
            network = true;
            None
        }
        Event::Realtime { state: LinkState::Reconnecting, attempt: Some(1), .. } => {
            reconnecting = true;
            None
        }
        Event::Realtime { state: LinkState::Connected, context_turns, .. } => Some(*context_turns),
        _ => None,
    })
    .await;
    assert!(network && reconnecting);
    assert_eq!(context, Some(2), "both turns given to the new session");
    // The new session was told the conversation: the words as heard.
    let items: Vec<Value> =
        common::realtime_sent_at_least(&kit, "conversation.item.create", 5).await.into_iter().map(|e| e["item"].clone()).collect();
    let replayed: Vec<&str> = items[2..].iter().filter_map(|i| i["content"][0]["text"].as_str()).collect();
    assert_eq!(replayed[0], "My name is Minji.");
    assert_eq!(items[3]["role"], "assistant");
    let after = engine.ask_and_wait(TurnInput::Text("Are you there?".into())).await.unwrap();
    assert!(!after.incomplete && !after.reply.is_empty(), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_limit_is_met_by_a_new_session_and_rotation_comes_first() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let (engine, mut events) = start(&kit, Arc::new(MemoryOutput::default()), Default::default());
    // The server ends the first session after 2 s: a new one at once, no attempt counted.
    kit.push_fault(Endpoint::Realtime, Fault::SessionLimit { after_ms: 2000 });
    engine.set_realtime(Some(setup(&kit, TEST_API_KEY)));
    connected(&mut events).await;
    until(&mut events, 10, |e| matches!(e, Event::Realtime { state: LinkState::Reconnecting, attempt: Some(0), .. }).then_some(())).await;
    connected(&mut events).await;
    assert!(!engine.ask_and_wait(TurnInput::Text("Hello".into())).await.unwrap().incomplete);

    // Sessions of 5 s, rotated 3 s before their end: a new session replaces the old in time.
    kit.set_realtime_session_length(Duration::from_secs(5));
    let rotating = LinkSetup { rotate_before: Duration::from_secs(3), ..setup(&kit, TEST_API_KEY) };
    engine.set_realtime(Some(rotating));
    connected(&mut events).await;
    let began = std::time::Instant::now();
    assert_eq!(connected(&mut events).await, Some(1), "a fresh session with the conversation");
    assert!(began.elapsed() < Duration::from_millis(4500), "rotated before the limit");
    while let Ok(e) = events.try_recv() {
        assert!(!matches!(e, Event::Realtime { state: LinkState::Reconnecting, .. }), "no gap: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_fails_once_and_is_not_retried() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let (engine, mut events) = start(&kit, Arc::new(MemoryOutput::default()), Default::default());
    engine.set_realtime(Some(setup(&kit, "sk-wrong-0000")));
    let message = until(&mut events, 10, |e| match e {
        Event::Realtime { state: LinkState::Failed, message, .. } => message.clone(),
        Event::Realtime { state: LinkState::Reconnecting, .. } => panic!("a refused key is not retried"),
        _ => None,
    })
    .await;
    assert!(message.contains("API key") && !message.contains("sk-wrong"), "{message}");
    let outcome = engine.ask_and_wait(TurnInput::Text("Hello?".into())).await.unwrap();
    assert_eq!(outcome.reason, Some(sori_core::event::Incomplete::Failed));
    let kind = until(&mut events, 10, |e| match e {
        Event::Error { error, .. } => Some(error.clone()),
        _ => None,
    })
    .await;
    assert_eq!(kind, ErrorKind::Auth);
}
