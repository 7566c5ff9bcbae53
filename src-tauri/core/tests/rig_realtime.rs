//! Realtime mode on the rig's real devices, against the testkit's fake
//! Realtime server: a push-to-talk turn and a hands-free turn ended by the
//! server's voice detection, both spoken into the virtual microphone and
//! answered on the virtual speaker; a tool round trip; and Stop in the
//! middle of a reply, whose `conversation.item.truncate` must say what the
//! speaker really played (measured on its monitor) within 50 ms.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use common::{listen_to_speaker, loud, went_silent};
use sori_core::audio::listener::Mode;
use sori_core::audio::output::{AudioOutput, DeviceOutput};
use sori_core::conversation::Conversation;
use sori_core::engine::{self, EngineHandle};
use sori_core::event::{Event, LinkState};
use sori_core::realtime::link::LinkSetup;
use sori_core::settings::{ConversationMode, InputMode, RealtimeTurns, Settings};
use sori_core::turn::TurnInput;
use sori_core::voice::{VoiceInput, VoiceSettings};
use sori_testkit::audio::test_audio::espeak_wav;
use sori_testkit::{ServerConfig, TestServer, TEST_API_KEY};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// One test at a time on the devices (held across awaits: an async lock).
static DEVICES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One unbroken run of voiced syllables (no spaces, no marks): every 20 ms
/// of it is loud, from its first sample to the cut, so the loud frames on
/// the speaker's monitor count exactly how much played.
const UNBROKEN: &str = "네고객님주문하신상품은내일오후세시에서다섯시사이에도착할예정이고요배송기사님이출발하시면문자로다시안내해드릴게요";

fn setup(kit: &TestServer, server_detects: bool) -> LinkSetup {
    let settings = Settings {
        language: "en".into(),
        conversation_mode: ConversationMode::Realtime,
        input_mode: if server_detects { InputMode::HandsFree } else { InputMode::PushToTalk },
        realtime_turns: RealtimeTurns::ServerVad,
        ..Default::default()
    };
    LinkSetup { session: sori_core::app::realtime::session(&settings), ..common::realtime_setup(kit, TEST_API_KEY) }
}

async fn connected(events: &mut UnboundedReceiver<Event>) {
    common::until(events, 15, |e| matches!(e, Event::Realtime { state: LinkState::Connected, .. }).then_some(())).await;
}

/// The next turn's end: its user's words and what was heard of the reply.
async fn turn_ended(events: &mut UnboundedReceiver<Event>) -> (Option<String>, String) {
    let mut user = None;
    let heard = common::until(events, 20, |e| match e {
        Event::UserTranscript { text, .. } => {
            user = Some(text.clone());
            None
        }
        Event::TurnEnded { heard, .. } => Some(heard.clone()),
        _ => None,
    })
    .await;
    (user, heard)
}

fn speak_into_microphone(dir: &std::path::Path, text: &str) {
    let wav = dir.join("question.wav");
    std::fs::write(&wav, espeak_wav(text, "en", 0.2, 0.3).unwrap()).unwrap();
    assert!(Command::new("paplay").args(["-d", "micsink"]).arg(&wav).status().unwrap().success());
}

/// The microphone listening for `engine`, with its own events (kept while it listens).
fn microphone(engine: &EngineHandle, mode: Mode, server_turns: bool) -> (VoiceInput, UnboundedReceiver<Event>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let settings = VoiceSettings { mode, server_turns, ..VoiceSettings::default() };
    (VoiceInput::start(settings, engine.clone(), tx).expect("the rig's microphone"), rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoken_turns_by_key_and_by_the_server_s_detection_and_a_tool_round_trip() {
    common::require_rig();
    let _devices = DEVICES.lock().await;
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    kit.add_reply("order arrive", "It arrives tomorrow afternoon.");
    kit.add_tool_reply("lookup order", "Let me check.", &[("lookup_order", r#"{"order_number":"A-1001"}"#)]);
    kit.add_tool_answer("lookup order", "Order {number} arrives on {expected_on}.");
    let dir = std::env::temp_dir().join(format!("sori-rig-realtime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tools = sori_core::tools::builtin::sample_tools(&dir, Some("C-001")).unwrap();
    let output = Arc::new(DeviceOutput::open_default().expect("the rig's speaker"));
    let providers = common::providers(&kit).with_tools(tools);
    let (engine, mut events) = engine::spawn(Conversation::default(), providers, common::settings(), output.clone(), None);
    engine.set_realtime(Some(setup(&kit, false)));
    connected(&mut events).await;

    // Push-to-talk: held while the words play into the microphone.
    let (voice, _levels) = microphone(&engine, Mode::PushToTalk, false);
    voice.press();
    speak_into_microphone(&dir, "When will my order arrive?");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let played_before = output.played_samples();
    voice.release();
    let (user, heard) = turn_ended(&mut events).await;
    assert_eq!(user.as_deref(), Some("When will my order arrive?"), "the server's transcript");
    assert!(!heard.is_empty());
    assert!(output.played_samples() - played_before > 24_000, "the reply played on the speaker");
    assert_eq!(common::realtime_sent(&kit, "input_audio_buffer.commit").len(), 1, "the key's release committed the turn");
    drop(voice);

    // Hands-free, the server's detection: the microphone streams, no commit from Sori.
    engine.set_realtime(Some(setup(&kit, true)));
    connected(&mut events).await;
    let (voice, _levels) = microphone(&engine, Mode::HandsFree, true);
    speak_into_microphone(&dir, "When will my order arrive?");
    let (user, heard) = turn_ended(&mut events).await;
    assert_eq!(user.as_deref(), Some("When will my order arrive?"));
    assert!(!heard.is_empty());
    assert!(
        !common::realtime_sent(&kit, "input_audio_buffer.append").is_empty() && common::realtime_sent(&kit, "input_audio_buffer.commit").len() == 1
    );
    drop(voice);

    // A tool: the call runs, its result goes back, the answer is spoken.
    let answered = engine.ask_and_wait(TurnInput::Text("Can you lookup order status for me?".into())).await.unwrap();
    assert!(answered.reply.contains("A-1001"), "{}", answered.reply);
    assert_eq!(common::realtime_sent(&kit, "response.create").len(), 3, "one for the key's turn, two for the tool's");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_truncates_the_reply_to_what_the_speaker_played() {
    common::require_rig();
    let _devices = DEVICES.lock().await;
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    kit.add_reply("order arrive", UNBROKEN);
    let output = Arc::new(DeviceOutput::open_default().expect("the rig's speaker"));
    let (engine, mut events) = engine::spawn(Conversation::default(), common::providers(&kit), common::settings(), output.clone(), None);
    engine.set_realtime(Some(setup(&kit, false)));
    connected(&mut events).await;
    let (speaker, heard_frames) = listen_to_speaker();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked_at = Instant::now();
    engine.ask(TurnInput::Text("When will my order arrive?".into()));
    let deadline = Instant::now() + Duration::from_secs(15);
    while output.played_samples() < 24_000 * 2 {
        assert!(Instant::now() < deadline, "playback never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stopped_at = Instant::now();
    engine.cancel();
    common::until(&mut events, 10, |e| matches!(e, Event::TurnEnded { interrupted: true, .. }).then_some(())).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(speaker);

    let frames = common::frames(&heard_frames);
    assert!(!frames.iter().any(|(f, at)| *at <= asked_at && loud(f)), "the speaker sounded before the question");
    // Counted in the monitor's own 20 ms frames, not by their capture times:
    // those jitter on a loaded machine, and a playback underrun's silence
    // would lengthen the span without anything more being heard.
    let (_, loud_frames) = went_silent(&frames, stopped_at);
    let sounded_ms = loud_frames as f64 * 20.0;
    let truncate = common::realtime_sent(&kit, "conversation.item.truncate").pop().expect("a truncate was sent");
    let end = truncate["audio_end_ms"].as_f64().unwrap();
    eprintln!("the speaker sounded {sounded_ms:.0} ms; the truncate says {end} ms");
    assert!((end - sounded_ms).abs() <= 50.0, "truncated at {end} ms, the speaker played {sounded_ms:.0} ms");
}
