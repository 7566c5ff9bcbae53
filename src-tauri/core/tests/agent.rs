//! The agent's tool loop against the testkit, on the wire: the shop's tools
//! go with the request as the Chat Completions spec shapes them; the
//! model's streamed call is run against the sample shop in SQLite; the
//! follow-up request carries the call and its result as the spec says; the
//! reply spoken is the one made from the real order. A barge-in while a
//! slow tool runs stops the tool and the turn.

mod common;

use serde_json::{json, Value};
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::event::Event;
use sori_core::tools::builtin::sample_tools;
use sori_core::tools::Tools;
use sori_core::turn::filler::{FILLER_EN, FILLER_KO};
use sori_core::turn::{run_turn, Emitter, TurnInput, TurnOutcome};
use sori_testkit::{Endpoint, ServerConfig, TestServer};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn shop_dir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("sori-agent-{}-{name}", std::process::id()))
}

fn shop_tools(name: &str) -> Tools {
    let dir = shop_dir(name);
    let _ = std::fs::remove_dir_all(&dir);
    sample_tools(&dir, Some("C-001")).unwrap()
}

#[tokio::test]
async fn a_question_about_an_order_is_answered_from_the_shops_database() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let providers = common::providers(&server).with_tools(shop_tools("order"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let output = Arc::new(MemoryOutput::default());
    // The testkit calls a tool whose name the user says, then answers from its result.
    let input = TurnInput::Text("Can you lookup order status for me?".into());
    let outcome =
        run_turn(input, &Conversation::default(), &providers, &common::settings(), output, Emitter::new(1, tx), CancellationToken::new()).await;

    assert!(!outcome.incomplete, "{outcome:?}");
    assert!(outcome.reply.contains("2026-12-08") && outcome.reply.contains("A-1001"), "the reply came from the database: {}", outcome.reply);
    assert_eq!(outcome.heard, outcome.reply, "all of it was spoken");
    // The conversation keeps the call and its result for the next turn's model.
    let kept = outcome.messages();
    let roles: Vec<_> = kept.iter().map(|m| format!("{:?}{}", m.role, if m.tool_calls.is_empty() { "" } else { "+call" })).collect();
    assert_eq!(roles, ["User", "Assistant+call", "Tool", "Assistant"]);
    assert_eq!(kept[3].content, outcome.reply.trim(), "the answer, once");

    let chats: Vec<Value> = server.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat).map(|r| r.body).collect();
    assert_eq!(chats.len(), 2, "a round with the call, a round with the result");
    let names: Vec<&str> = chats[0]["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["lookup_order", "search_faq", "file_complaint", "request_callback"]);
    assert_eq!(chats[0]["tools"][0]["type"], "function");
    assert_eq!(chats[0]["tools"][1]["function"]["parameters"]["required"], json!(["question"]));
    // The follow-up: the assistant's call, then the tool's result for that call.
    let messages = chats[1]["messages"].as_array().unwrap();
    let (call, result) = (&messages[messages.len() - 2], &messages[messages.len() - 1]);
    assert_eq!(call["role"], "assistant");
    let id = call["tool_calls"][0]["id"].as_str().unwrap();
    assert_eq!(
        (call["tool_calls"][0]["type"].as_str(), call["tool_calls"][0]["function"]["name"].as_str()),
        (Some("function"), Some("lookup_order"))
    );
    assert_eq!((result["role"].as_str(), result["tool_call_id"].as_str()), (Some("tool"), Some(id)));
    let data: Value = serde_json::from_str(result["content"].as_str().unwrap()).unwrap();
    assert_eq!(data["recent_orders"][0]["number"], "A-1001");

    let mut tools = Vec::new();
    while let Ok(e) = rx.try_recv() {
        match e {
            Event::ToolStarted { name, .. } => tools.push(format!("started {name}")),
            Event::ToolFinished { name, error, .. } => tools.push(format!("finished {name} {error:?}")),
            _ => {}
        }
    }
    assert_eq!(tools, ["started lookup_order", "finished lookup_order None"]);
}

#[tokio::test]
async fn a_barge_in_while_a_tool_runs_cancels_it_and_the_turn() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let providers = common::providers(&server).with_tools(Tools::new(vec![Arc::new(common::Warehouse::taking(Duration::from_secs(30)))]));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let barge_in = cancel.clone();
    let turn = tokio::spawn(async move {
        let input = TurnInput::Text("Please check warehouse stock.".into());
        let output = Arc::new(MemoryOutput::default());
        run_turn(input, &Conversation::default(), &providers, &common::settings(), output, Emitter::new(1, tx), cancel).await
    });
    let mut finished = None;
    let started = tokio::time::Instant::now();
    while let Some(e) = rx.recv().await {
        match e {
            Event::ToolStarted { .. } => barge_in.cancel(),
            Event::ToolFinished { error, ms, .. } => finished = Some((error, ms)),
            _ => {}
        }
    }
    let outcome = turn.await.unwrap();
    assert!(outcome.interrupted, "{outcome:?}");
    let (error, ms) = finished.expect("the tool reported its end");
    assert_eq!(error.as_deref(), Some("Cancelled: the customer spoke."));
    assert!(ms < 5_000.0 && started.elapsed() < Duration::from_secs(10), "the tool was stopped, not waited for: {ms} ms");
    let chats = server.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat).count();
    assert_eq!(chats, 1, "no round after the barge-in");
}

#[tokio::test]
async fn a_server_whose_model_cannot_call_tools_still_answers() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    server.set_rejects_tools(true);
    let providers = common::providers(&server).with_tools(shop_tools("refused"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let input = TurnInput::Text("Can you lookup order status for me?".into());
    let output = Arc::new(MemoryOutput::default());
    let outcome =
        run_turn(input, &Conversation::default(), &providers, &common::settings(), output, Emitter::new(1, tx), CancellationToken::new()).await;
    assert!(!outcome.incomplete && !outcome.reply.is_empty(), "{outcome:?}");
    let chats: Vec<Value> = server.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat).map(|r| r.body).collect();
    assert_eq!(chats.len(), 2);
    assert!(chats[0]["tools"].is_array() && chats[1].get("tools").is_none_or(|t| t.as_array().is_none_or(Vec::is_empty)), "{chats:?}");
    while let Ok(e) = rx.try_recv() {
        assert!(!matches!(e, Event::Error { .. }), "the refusal is not shown as an error: {e:?}");
    }
}

/// Runs `text` with the gated tool; the tool answers once a filler is
/// spoken (or after `wait`). Returns the outcome and the lines spoken, in order.
async fn gated_turn(server: &TestServer, text: &str, wait: Duration) -> (sori_core::turn::TurnOutcome, Vec<String>) {
    let open = Arc::new(tokio::sync::Notify::new());
    let tools = Tools::new(vec![Arc::new(common::Warehouse { open: open.clone(), wait })]);
    let providers = common::providers(server).with_tools(tools);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let input = TurnInput::Text(text.into());
    let turn = tokio::spawn(async move {
        let output = Arc::new(MemoryOutput::default());
        run_turn(input, &Conversation::default(), &providers, &common::settings(), output, Emitter::new(1, tx), CancellationToken::new()).await
    });
    let mut spoken = Vec::new();
    while let Some(e) = rx.recv().await {
        match e {
            Event::AssistantSpeaking { text, .. } => {
                if [FILLER_KO, FILLER_EN].contains(&text.as_str()) {
                    open.notify_one();
                }
                spoken.push(text);
            }
            Event::ToolFinished { .. } => spoken.push("(tool finished)".into()),
            _ => {}
        }
    }
    (turn.await.unwrap(), spoken)
}

#[tokio::test]
async fn a_silent_slow_tool_gets_the_filler_in_the_users_language_and_it_is_not_the_reply() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    server.add_tool_reply("재고", "", &[("check_warehouse", "{}")]);
    for (text, filler) in [("Please check warehouse stock.", FILLER_EN), ("창고 재고 좀 확인해 주세요.", FILLER_KO)] {
        // The tool waits for the filler: a turn without one would take 30 s and fail the order below.
        let (outcome, spoken) = gated_turn(&server, text, Duration::from_secs(30)).await;
        assert_eq!(spoken[0], filler, "{spoken:?}");
        assert_eq!(spoken[1], "(tool finished)");
        assert!(!outcome.heard.contains(filler) && !outcome.reply.contains(filler), "{outcome:?}");
        assert!(outcome.messages().iter().all(|m| !m.content.contains(filler)), "the filler is not the model's history");
        let m = outcome.metrics;
        let (ttfa, answer, tools) = (m.ttfa_ms.unwrap(), m.answer_audio_ms.unwrap(), m.tool_ms.unwrap());
        assert!(tools >= 500.0 && ttfa < answer, "filler first, at {ttfa} ms; the answer at {answer} ms; tools {tools} ms");
    }
}

#[tokio::test]
async fn a_preamble_or_a_quick_tool_needs_no_filler() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    server.add_tool_reply("warehouse", "Let me check the warehouse for you.", &[("check_warehouse", "{}")]);
    // The tool takes longer than the filler's wait, but the preamble fills it.
    let (outcome, spoken) = gated_turn(&server, "Please check warehouse stock.", Duration::from_millis(900)).await;
    assert_eq!(spoken[0], "Let me check the warehouse for you.", "{spoken:?}");
    assert!(!spoken.iter().any(|s| s == FILLER_EN), "{spoken:?}");
    assert!(outcome.heard.starts_with("Let me check the warehouse for you.") && outcome.answer_from > 0, "{outcome:?}");
    // No preamble, but the tool is done before the filler would start.
    server.add_tool_reply("warehouse", "", &[("check_warehouse", "{}")]);
    let (_, spoken) = gated_turn(&server, "Please check warehouse stock.", Duration::from_millis(50)).await;
    assert_eq!(spoken[0], "(tool finished)", "{spoken:?}");
    assert!(!spoken.iter().any(|s| s == FILLER_EN), "{spoken:?}");
}

#[tokio::test]
async fn parallel_calls_an_unknown_tool_and_broken_arguments_each_get_a_result_the_model_reads() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let calls = [("lookup_order", r#"{"order_number":"A-1002"}"#), ("no_such_tool", "{}"), ("search_faq", "{not json")];
    server.add_tool_reply("several things", "잠시만요, 확인해 볼게요.", &calls);
    let providers = common::providers(&server).with_tools(shop_tools("parallel"));
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let input = TurnInput::Text("several things at once, 부탁해요".into());
    let output = Arc::new(MemoryOutput::default());
    let outcome =
        run_turn(input, &Conversation::default(), &providers, &common::settings(), output, Emitter::new(1, tx), CancellationToken::new()).await;
    assert!(!outcome.incomplete && outcome.heard.starts_with("잠시만요, 확인해 볼게요."), "{outcome:?}");

    let chats: Vec<Value> = server.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat).map(|r| r.body).collect();
    assert_eq!(chats.len(), 2);
    let messages = chats[1]["messages"].as_array().unwrap();
    let call = &messages[messages.len() - 4];
    assert_eq!(call["content"], "잠시만요, 확인해 볼게요.", "the preamble is the calling message's content");
    let ids: Vec<&str> = call["tool_calls"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    let results: Vec<(&str, Value)> = messages[messages.len() - 3..]
        .iter()
        .map(|m| (m["tool_call_id"].as_str().unwrap(), serde_json::from_str(m["content"].as_str().unwrap()).unwrap()))
        .collect();
    assert_eq!(results.iter().map(|r| r.0).collect::<Vec<_>>(), ids, "one result per call, in order");
    assert_eq!(results[0].1["order"]["number"], "A-1002");
    assert!(results[1].1["error"].as_str().unwrap().contains("no_such_tool"), "{:?}", results[1]);
    assert!(results[2].1["error"].as_str().unwrap().contains("JSON"), "{:?}", results[2]);
}

/// One turn of a conversation, kept as the engine keeps it; returns the outcome and its events.
async fn converse(conversation: &mut Conversation, providers: &sori_core::provider::Providers, input: TurnInput) -> (TurnOutcome, Vec<Event>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let output = Arc::new(MemoryOutput::default());
    let outcome = run_turn(input, conversation, providers, &common::settings(), output, Emitter::new(1, tx), CancellationToken::new()).await;
    conversation.record_turn(outcome.messages());
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (outcome, events)
}

fn tickets(name: &str) -> Vec<sori_core::tools::shop::Ticket> {
    sori_core::tools::shop::Shop::open(&shop_dir(name).join("shop.sqlite")).unwrap().tickets().unwrap()
}

#[tokio::test]
async fn a_complaint_is_filed_only_after_the_customer_says_yes() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let providers = common::providers(&server).with_tools(shop_tools("confirm"));
    let mut conversation = Conversation::default();
    let (_, events) = converse(&mut conversation, &providers, TurnInput::Text("I want to file complaint: my earphones arrived broken.".into())).await;
    let asked: Vec<_> =
        events.iter().filter_map(|e| if let Event::ConfirmationAsked { name, .. } = e { Some(name.as_str()) } else { None }).collect();
    assert_eq!(asked, ["file_complaint"]);
    assert!(tickets("confirm").is_empty(), "nothing is filed before the customer agrees");
    let held = conversation.awaiting_confirmation().expect("the history knows a call waits");
    let chats: Vec<Value> = server.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat).map(|r| r.body).collect();
    let told = chats[1]["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(told.contains("awaiting_confirmation") && told.contains("ask the customer to confirm"), "{told}");

    // "네" on the next turn: the held call runs before the model is asked, and the model gets its result.
    let (outcome, events) = converse(&mut conversation, &providers, TurnInput::Text("네, 접수해 주세요.".into())).await;
    let filed = tickets("confirm");
    assert_eq!((filed.len(), filed[0].kind.as_str()), (1, "complaint"));
    assert!(filed[0].summary.contains("earphones arrived broken"), "{filed:?}");
    assert!(events.iter().any(|e| matches!(e, Event::ConfirmationSettled { id, approved: Some(true), .. } if *id == held.id)));
    let last = server.requests().into_iter().rfind(|r| r.endpoint == Endpoint::Chat).unwrap().body;
    let messages = last["messages"].as_array().unwrap();
    let n = messages.len();
    assert_eq!(
        (messages[n - 3]["role"].as_str(), messages[n - 2]["tool_calls"][0]["function"]["name"].as_str()),
        (Some("user"), Some("file_complaint"))
    );
    let result: Value = serde_json::from_str(messages[n - 1]["content"].as_str().unwrap()).unwrap();
    assert_eq!((result["ticket"].as_i64(), result["recorded"].as_bool()), (Some(filed[0].number), Some(true)));
    assert!(outcome.reply.contains(&format!("\"ticket\":{}", filed[0].number)), "{}", outcome.reply);
    assert!(conversation.awaiting_confirmation().is_none(), "settled");
}

#[tokio::test]
async fn no_or_a_click_on_cancel_files_nothing_and_other_words_drop_the_request() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let providers = common::providers(&server).with_tools(shop_tools("decline"));
    for (answer, approved) in [
        (TurnInput::Text("아니요, 괜찮아요.".into()), Some(false)),
        (TurnInput::Answer { approve: false, text: "Cancel".into() }, Some(false)),
        (TurnInput::Text("When does my order arrive?".into()), None),
    ] {
        let mut conversation = Conversation::default();
        converse(&mut conversation, &providers, TurnInput::Text("Please request callback tomorrow morning.".into())).await;
        assert!(conversation.awaiting_confirmation().is_some());
        let (_, events) = converse(&mut conversation, &providers, answer).await;
        assert!(events.iter().any(|e| matches!(e, Event::ConfirmationSettled { approved: a, .. } if *a == approved)), "{events:?}");
        assert!(conversation.awaiting_confirmation().is_none());
    }
    assert!(tickets("decline").is_empty());
    let last = server.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat).nth(2).unwrap().body;
    let told = last["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(told.contains("cancelled") && told.contains("said no"), "{told}");
    // A click on Confirm runs it, whatever the words.
    let mut conversation = Conversation::default();
    converse(&mut conversation, &providers, TurnInput::Text("Please request callback tomorrow morning.".into())).await;
    converse(&mut conversation, &providers, TurnInput::Answer { approve: true, text: "접수해 주세요".into() }).await;
    assert_eq!(tickets("decline").iter().map(|t| t.kind.as_str()).collect::<Vec<_>>(), ["callback"]);
}
