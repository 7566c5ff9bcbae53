//! A call that changes something, in Realtime mode: held until the customer
//! agrees, as in chained mode. Typed words answer it before the model is
//! asked (the call and its result go to the session as items); a spoken yes
//! is heard by the model, whose repeat of the same call runs it.

mod common;

use common::until;
use serde_json::Value;
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::engine::{self, EngineHandle};
use sori_core::event::{Event, LinkState};
use sori_core::turn::TurnInput;
use sori_testkit::{ServerConfig, TestServer, TEST_API_KEY};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;

fn start(kit: &TestServer, name: &str) -> (EngineHandle, UnboundedReceiver<Event>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("sori-realtime-confirm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tools = sori_core::tools::builtin::sample_tools(&dir, Some("C-001")).unwrap();
    let providers = common::providers(kit).with_tools(tools);
    let (engine, events) = engine::spawn(Conversation::default(), providers, common::settings(), Arc::new(MemoryOutput::default()), None);
    engine.set_realtime(Some(common::realtime_setup(kit, TEST_API_KEY)));
    (engine, events, dir)
}

fn tickets(dir: &std::path::Path) -> Vec<sori_core::tools::shop::Ticket> {
    sori_core::tools::shop::Shop::open(&dir.join("shop.sqlite")).unwrap().tickets().unwrap()
}

/// The complaint asked for and held; its call.
async fn held_complaint(engine: &EngineHandle, events: &mut UnboundedReceiver<Event>, dir: &std::path::Path) -> (String, String) {
    until(events, 15, |e| matches!(e, Event::Realtime { state: LinkState::Connected, .. }).then_some(())).await;
    engine.ask(TurnInput::Text("I want to file complaint: my earphones arrived broken.".into()));
    let held = until(events, 15, |e| match e {
        Event::ConfirmationAsked { id, name, arguments, .. } if name == "file_complaint" => Some((id.clone(), arguments.clone())),
        _ => None,
    })
    .await;
    until(events, 15, |e| matches!(e, Event::TurnEnded { .. }).then_some(())).await;
    assert!(tickets(dir).is_empty(), "nothing is filed before the customer agrees");
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_yes_runs_the_held_call_and_the_session_is_told_before_the_model_answers() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let (engine, mut events, dir) = start(&kit, "typed");
    let (id, _) = held_complaint(&engine, &mut events, &dir).await;

    let outcome = engine.ask_and_wait(TurnInput::Text("네, 접수해 주세요.".into())).await.unwrap();
    let filed = tickets(&dir);
    assert_eq!((filed.len(), filed[0].kind.as_str()), (1, "complaint"), "{outcome:?}");
    assert!(outcome.reply.contains(&format!("\"ticket\":{}", filed[0].number)), "the model was given the result: {}", outcome.reply);
    // The words, the settled call and its result, then the response: in that order.
    let log = kit.realtime_events();
    let last: Vec<&Value> = log.iter().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    let kinds: Vec<&str> = last.iter().map(|e| e["item"]["type"].as_str().unwrap_or(e["type"].as_str().unwrap())).collect();
    assert_eq!(kinds, ["message", "function_call", "function_call_output", "response.create"]);
    assert_eq!(last[1]["item"]["call_id"], format!("{id}_yes"));
    let settled = std::iter::from_fn(|| events.try_recv().ok()).find_map(|e| match e {
        Event::ConfirmationSettled { id, approved, .. } => Some((id, approved)),
        _ => None,
    });
    assert_eq!(settled, Some((id, Some(true))));
    let kept = engine.conversation().await.unwrap();
    assert!(kept.awaiting_confirmation().is_none(), "settled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_yes_is_the_model_asking_again_and_that_runs_once() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let (engine, mut events, dir) = start(&kit, "spoken");
    let (id, arguments) = held_complaint(&engine, &mut events, &dir).await;
    // The fake transcribes any recording as its one English question; the
    // model's answer to it is scripted as the same call again, as a real
    // model asks again once it hears "yes".
    kit.add_tool_reply("When will my order arrive?", "", &[("file_complaint", &arguments)]);
    let speech24 = sori_testkit::audio::synthesize("Yes, please file it.", "alloy", 1.0);
    let speech16 = sori_core::audio::resample::resample(&speech24, 24_000, 16_000).unwrap();
    let outcome = engine.ask_and_wait(TurnInput::Audio { samples: speech16, sample_rate: 16_000 }).await.unwrap();
    assert_eq!(tickets(&dir).len(), 1, "filed once: {outcome:?}");
    let seen: Vec<Event> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert!(seen.iter().any(|e| matches!(e, Event::ConfirmationSettled { id: i, approved: Some(true), .. } if *i == id)), "{seen:?}");
    assert!(!seen.iter().any(|e| matches!(e, Event::ConfirmationAsked { .. })), "not held a second time");
}
