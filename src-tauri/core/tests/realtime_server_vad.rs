//! Realtime mode with the server's voice detection ending the turns: the
//! microphone streams through the engine (16 kHz on into 24 kHz) to the
//! testkit's fake Realtime server, whose energy detector hears the user
//! start and stop, commits and answers on its own. The engine runs those
//! turns with the usual events; speaking over a reply cuts it where the
//! speaker was, truncates the item to that, and the new words are the next turn.

mod common;

use common::{until, ClockOutput};
use sori_core::audio::output::AudioOutput;
use sori_core::conversation::Conversation;
use sori_core::engine::{self, EngineHandle};
use sori_core::event::{Event, LinkState, Phase};
use sori_core::realtime::link::LinkSetup;
use sori_core::settings::{ConversationMode, InputMode, RealtimeTurns, Settings};
use sori_testkit::{ServerConfig, TestServer, TEST_API_KEY};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

fn server_vad(kit: &TestServer) -> LinkSetup {
    let settings = Settings {
        language: "en".into(),
        conversation_mode: ConversationMode::Realtime,
        input_mode: InputMode::HandsFree,
        realtime_turns: RealtimeTurns::ServerVad,
        ..Default::default()
    };
    LinkSetup { session: sori_core::app::realtime::session(&settings), ..common::realtime_setup(kit, TEST_API_KEY) }
}

fn start(kit: &TestServer, output: Arc<dyn AudioOutput>) -> (EngineHandle, UnboundedReceiver<Event>) {
    let conversation = Conversation::with_persona("You are Sori, a customer-service agent.");
    engine::spawn(conversation, common::providers(kit), common::settings(), output, None)
}

/// Words as the microphone hears them (16 kHz), then `quiet_ms` of silence.
fn utterance(text: &str, quiet_ms: usize) -> Vec<i16> {
    let speech = sori_testkit::audio::synthesize(text, "alloy", 1.0);
    let mut samples = sori_core::audio::resample::resample(&speech, 24_000, 16_000).unwrap();
    samples.resize(samples.len() + quiet_ms * 16, 0);
    samples
}

/// Streams `samples` in 20 ms frames, as the microphone delivers them, at `pace` times real time.
async fn stream(engine: &EngineHandle, samples: &[i16], pace: f64) {
    for frame in samples.chunks(320) {
        engine.stream(frame.to_vec());
        tokio::time::sleep(Duration::from_secs_f64(0.02 / pace)).await;
    }
}

async fn connected(events: &mut UnboundedReceiver<Event>) {
    until(events, 15, |e| matches!(e, Event::Realtime { state: LinkState::Connected, .. }).then_some(())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_hears_a_streamed_question_and_the_engine_runs_its_turn() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let (engine, mut events) = start(&kit, Arc::new(ClockOutput::default()));
    engine.set_realtime(Some(server_vad(&kit)));
    connected(&mut events).await;
    let detection = &common::realtime_sent(&kit, "session.update")[0]["session"]["audio"]["input"]["turn_detection"];
    assert_eq!((detection["type"].as_str(), detection["create_response"].as_bool()), (Some("server_vad"), Some(true)));

    stream(&engine, &utterance("When will my order arrive?", 700), 4.0).await;
    let mut phases = Vec::new();
    let (turn, metrics) = until(&mut events, 15, |e| match e {
        Event::UserSpeechStarted => {
            phases.push("speech".to_string());
            None
        }
        Event::Status { phase, .. } => {
            phases.push(format!("{phase:?}"));
            None
        }
        Event::TurnEnded { turn, metrics, interrupted: false, incomplete: false, .. } => Some((*turn, *metrics)),
        _ => None,
    })
    .await;
    assert_eq!(turn, 1, "the server's turn takes the next number");
    let from = phases.iter().position(|p| p == "speech").expect("the start of speech was shown");
    let order: Vec<&str> = phases[from..].iter().map(String::as_str).filter(|p| *p != "Idle").collect();
    assert_eq!(order.get(..4), Some(&["speech", &format!("{:?}", Phase::Listening), "Thinking", "Speaking"][..]), "{phases:?}");
    assert!(metrics.realtime && metrics.ttfa_ms.is_some_and(|t| t < 2000.0), "{metrics:?}");
    // Nothing was committed or asked for by Sori: the server did both.
    assert!(common::realtime_sent(&kit, "input_audio_buffer.commit").is_empty() && common::realtime_sent(&kit, "response.create").is_empty());
    let kept = kept(&engine, 1).await;
    assert_eq!(kept.turns()[0][0].content, "When will my order arrive?", "the server's transcript is the turn's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaking_over_a_reply_cuts_it_where_the_speaker_was_and_starts_the_next_turn() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let output = Arc::new(ClockOutput::default());
    let (engine, mut events) = start(&kit, output.clone());
    engine.set_realtime(Some(server_vad(&kit)));
    connected(&mut events).await;

    stream(&engine, &utterance("Tell me everything about the delivery of my order please", 700), 4.0).await;
    until(&mut events, 15, |e| matches!(e, Event::AssistantSpeaking { turn: 1, .. }).then_some(())).await;
    // The reply plays for a while; then the user speaks over it, in real time.
    stream(&engine, &vec![0; 16 * 600], 1.0).await;
    let interrupting = utterance("Stop, I have another question", 700);
    let started = {
        let engine = engine.clone();
        tokio::spawn(async move { stream(&engine, &interrupting, 1.0).await })
    };
    let (heard, reply_cut) = until(&mut events, 15, |e| match e {
        Event::TurnEnded { turn: 1, heard, interrupted, .. } => Some((heard.clone(), *interrupted)),
        _ => None,
    })
    .await;
    let played_ms = output.played_samples() / 24;
    assert!(reply_cut, "the first reply was cut");
    let truncate = common::realtime_sent_at_least(&kit, "conversation.item.truncate", 1).await.pop().expect("a truncate was sent");
    let end = truncate["audio_end_ms"].as_u64().unwrap();
    assert!(end.abs_diff(played_ms) <= 50, "truncated at {end} ms, {played_ms} ms played");
    assert!(common::realtime_sent(&kit, "response.cancel").is_empty(), "the server cancelled its own response");
    assert!(!heard.is_empty());
    started.await.unwrap();
    let second = until(&mut events, 15, |e| match e {
        Event::TurnEnded { turn: 2, incomplete, .. } => Some(*incomplete),
        _ => None,
    })
    .await;
    assert!(!second, "the words spoken over the reply are the next turn");
    kept(&engine, 2).await;
}

/// The conversation once it holds `n` turns (a turn is kept just after its end is told).
async fn kept(engine: &EngineHandle, n: usize) -> Conversation {
    let start = std::time::Instant::now();
    loop {
        let c = engine.conversation().await.unwrap();
        if c.turns().len() >= n || start.elapsed() > Duration::from_secs(3) {
            assert_eq!(c.turns().len(), n, "{:?}", c.turns());
            return c;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
