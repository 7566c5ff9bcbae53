//! The agent's spoken turns on the rig: "주문한 상품이 언제 도착하나요?" (and
//! "When will my order arrive?") played into the virtual microphone is
//! looked up in the sample shop and the spoken answer has the order's real date; while a tool runs, the preamble
//! or the filler is heard on the virtual speaker within 1 s of the call;
//! speaking while a slow tool runs cancels it.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use common::{listen_to_speaker, loud, providers, settings};
use sori_core::audio::listener::Mode;
use sori_core::audio::output::DeviceOutput;
use sori_core::conversation::Conversation;
use sori_core::engine;
use sori_core::event::Event;
use sori_core::tools::builtin::sample_shop_tools;
use sori_core::tools::Tools;
use sori_core::turn::filler::FILLER_KO;
use sori_core::voice::{VoiceInput, VoiceSettings};
use sori_testkit::audio::test_audio::espeak_wav;
use sori_testkit::{ServerConfig, TestServer};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

static DEVICES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The sample shop's tools (C-001 is speaking), and the slow warehouse.
fn agent_tools(name: &str, warehouse: Duration) -> Tools {
    let dir = std::env::temp_dir().join(format!("sori-rig-agent-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut tools = sample_shop_tools(&dir, Some("C-001")).unwrap();
    tools.push(Arc::new(common::Warehouse::taking(warehouse)));
    Tools::new(tools)
}

/// The microphone, hands-free with barge-in; its events must be kept (the voice stops when nobody listens).
fn listen(engine: &engine::EngineHandle) -> (VoiceInput, tokio::sync::mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let settings = VoiceSettings { mode: Mode::HandsFree, voice_barge_in: true, ..VoiceSettings::default() };
    (VoiceInput::start(settings, engine.clone(), tx).expect("the rig's microphone"), rx)
}

fn play_into_microphone(text: &str, dir: &std::path::Path) -> std::process::Child {
    let wav = dir.join(format!("{}.wav", text.len()));
    let voice = if text.is_ascii() { "en" } else { "ko" };
    std::fs::write(&wav, espeak_wav(text, voice, 0.2, 0.3).unwrap()).unwrap();
    Command::new("paplay").args(["-d", "micsink"]).arg(&wav).spawn().unwrap()
}

/// Events until the turn ends, each with when the test saw it.
async fn until_ended(events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>, within: Duration) -> Vec<(Event, Instant)> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let Ok(Some(e)) = tokio::time::timeout_at(deadline.into(), events.recv()).await else {
            panic!("the turn did not end in time: {:?}", seen.iter().map(|(e, _)| e).collect::<Vec<_>>());
        };
        let end = matches!(e, Event::TurnEnded { .. });
        seen.push((e, Instant::now()));
        if end {
            return seen;
        }
    }
}

/// Milliseconds from `since` to the first loud frame the speaker played after it.
fn first_sound_after(frames: &[(Vec<i16>, std::time::Instant)], since: Instant) -> f64 {
    let at = frames.iter().find(|(f, at)| *at > since && loud(f)).map(|(_, at)| *at).expect("the speaker played after the call");
    at.duration_since(since).as_secs_f64() * 1000.0
}

/// A question spoken into the microphone (the server hears any speech as
/// it), answered from the sample shop; returns what was heard.
async fn spoken_order_question(language: &str, question: &str, preamble: &str, template: &str) -> String {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.add_tool_reply(question, preamble, &[("lookup_order", "{}")]);
    s.add_tool_answer(question, template);
    let mut turn_settings = settings();
    turn_settings.language = Some(language.into()); // the server transcribes any speech as this language's question
    let output = Arc::new(DeviceOutput::open_default().unwrap());
    let p = providers(&s).with_tools(agent_tools(&format!("spoken-{language}"), Duration::from_secs(2)));
    let (engine, mut events) = engine::spawn(Conversation::default(), p, turn_settings, output, None);
    let (voice, _voice_events) = listen(&engine);
    let (speaker, heard) = listen_to_speaker();
    let dir = std::env::temp_dir().join(format!("sori-rig-agent-{language}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;

    let _ = play_into_microphone(question, &dir).wait();
    let seen = until_ended(&mut events, Duration::from_secs(30)).await;
    assert!(seen.iter().any(|(e, _)| matches!(e, Event::UserTranscript { text, .. } if text == question)), "{seen:?}");
    let called =
        seen.iter().find(|(e, _)| matches!(e, Event::ToolStarted { name, .. } if name == "lookup_order")).expect("lookup_order was called").1;
    let heard_text = seen.iter().find_map(|(e, _)| if let Event::TurnEnded { heard, .. } = e { Some(heard.clone()) } else { None }).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(speaker);
    drop(voice);
    let ms = first_sound_after(&common::frames(&heard), called);
    eprintln!("{language}: the preamble was heard {ms:.0} ms after the tool call started");
    assert!(ms <= 1000.0, "{language}: silence for {ms:.0} ms after the tool call");
    let _ = std::fs::remove_dir_all(&dir);
    heard_text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_question_about_an_order_is_answered_with_its_real_date_in_korean_and_english() {
    common::require_rig();
    let _one = DEVICES.lock().await;
    // The answer as heard, with the date read from the shop's database.
    let korean = spoken_order_question(
        "ko",
        "주문한 상품이 언제 도착하나요?",
        "잠시만요, 주문을 확인해 볼게요.",
        "주문하신 {number} 상품은 {expected_on}에 도착할 예정이에요.",
    )
    .await;
    assert_eq!(korean, "잠시만요, 주문을 확인해 볼게요. 주문하신 A-1001 상품은 2026-12-08에 도착할 예정이에요.");
    let english =
        spoken_order_question("en", "When will my order arrive?", "Let me check your order.", "Your order {number} should arrive on {expected_on}.")
            .await;
    assert_eq!(english, "Let me check your order. Your order A-1001 should arrive on 2026-12-08.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_silent_tool_gets_the_filler_and_speaking_cancels_it() {
    common::require_rig();
    let _one = DEVICES.lock().await;
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.add_tool_reply("재고", "", &[("check_warehouse", "{}")]);
    let mut turn_settings = settings();
    turn_settings.language = Some("ko".into());
    let output = Arc::new(DeviceOutput::open_default().unwrap());
    let p = providers(&s).with_tools(agent_tools("filler", Duration::from_secs(30)));
    let (engine, mut events) = engine::spawn(Conversation::default(), p, turn_settings, output, None);
    let (voice, _voice_events) = listen(&engine);
    let (speaker, heard) = listen_to_speaker();
    let dir = std::env::temp_dir().join(format!("sori-rig-filler-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;

    engine.ask(sori_core::turn::TurnInput::Text("창고 재고 확인해 주세요.".into()));
    let mut called = None;
    let mut filler = None;
    while filler.is_none() {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv()).await.expect("the filler came").unwrap();
        match e {
            Event::ToolStarted { .. } => called = Some(Instant::now()),
            Event::AssistantSpeaking { text, .. } if text == FILLER_KO => filler = Some(Instant::now()),
            _ => {}
        }
    }
    let called = called.expect("the tool started first");
    // The filler has played; the tool still runs. The user speaks.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let spoke = Instant::now();
    let _ = play_into_microphone("아니요, 잠깐만요.", &dir).wait();
    let seen = until_ended(&mut events, Duration::from_secs(10)).await;
    let (error, ms) = seen
        .iter()
        .find_map(|(e, _)| if let Event::ToolFinished { error, ms, .. } = e { Some((error.clone(), *ms)) } else { None })
        .expect("the tool reported its end");
    assert_eq!(error.as_deref(), Some("Cancelled: the customer spoke."));
    assert!(ms < 10_000.0 && spoke.elapsed() < Duration::from_secs(10), "cancelled, not waited for: {ms:.0} ms");
    assert!(seen.iter().any(|(e, _)| matches!(e, Event::TurnEnded { interrupted: true, .. })), "{seen:?}");
    drop(speaker);
    drop(voice);
    let ms = first_sound_after(&common::frames(&heard), called);
    eprintln!("the filler was heard {ms:.0} ms after the tool call started");
    assert!((450.0..=1000.0).contains(&ms), "the filler came {ms:.0} ms after the call (it waits 500 ms, then must be heard within 1 s)");
    let _ = std::fs::remove_dir_all(&dir);
}
