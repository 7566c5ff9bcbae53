//! Whole spoken turns on the rig: speech played into the virtual microphone
//! is heard (hands-free, or push-to-talk), answered by the test server, and the
//! reply comes out of the virtual speaker (recorded from its monitor). Two
//! turns in each mode.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use common::{listen_to_speaker, providers, settings, went_silent, LONG_REPLY};
use sori_core::audio::listener::Mode;
use sori_core::audio::output::DeviceOutput;
use sori_core::conversation::Conversation;
use sori_core::engine;
use sori_core::event::Event;
use sori_core::voice::{VoiceInput, VoiceSettings};
use sori_testkit::audio::synthesize;
use sori_testkit::audio::test_audio::espeak_wav;
use sori_testkit::{ServerConfig, TestServer};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One test at a time on the devices (held across awaits: an async lock).
static DEVICES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const REPLY: &str = "네, 내일 도착해요.";

fn voiced_blocks(samples: &[i16], block: usize) -> usize {
    samples.chunks(block).filter(|b| b.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / b.len() as f64 > 1e6).count()
}

fn record(path: &std::path::Path) -> Child {
    Command::new("parecord")
        .args(["-d", "speaker.monitor", "--raw", "--format=s16le", "--rate=48000", "--channels=2", "--latency-msec=20"])
        .arg(path)
        .spawn()
        .expect("parecord (run through tests/rig/with-rig.sh)")
}

type Events = tokio::sync::mpsc::UnboundedReceiver<Event>;

/// The microphone listening for an engine. Nothing has to carry the engine's
/// phase to it: it follows the engine by itself.
fn listen(mode: Mode, voice_barge_in: bool, engine: &engine::EngineHandle) -> (VoiceInput, Events) {
    let (voice_tx, voice_events) = tokio::sync::mpsc::unbounded_channel();
    let settings = VoiceSettings { mode, voice_barge_in, ..VoiceSettings::default() };
    (VoiceInput::start(settings, engine.clone(), voice_tx).expect("the rig's microphone"), voice_events)
}

async fn two_turns(mode: Mode) {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.add_reply("도착", REPLY);
    let mut turn_settings = settings();
    turn_settings.language = Some("ko".into()); // the server transcribes any speech as a Korean question
    let output = Arc::new(DeviceOutput::open_default().unwrap());
    let (engine, mut events) = engine::spawn(Conversation::default(), providers(&s), turn_settings, output, None);
    let (voice, mut voice_events) = listen(mode, false, &engine);

    let dir = std::env::temp_dir().join(format!("sori-voice-{mode:?}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let question = dir.join("question.wav");
    std::fs::write(&question, espeak_wav("주문한 상품이 언제 도착하나요?", "ko", 0.2, 0.3).unwrap()).unwrap();
    let recording = dir.join("speaker.raw");
    let mut recorder = record(&recording);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut heard = Vec::new();
    for turn in 1..=2 {
        if mode == Mode::PushToTalk {
            voice.press();
        }
        assert!(Command::new("paplay").args(["-d", "micsink"]).arg(&question).status().unwrap().success());
        if mode == Mode::PushToTalk {
            tokio::time::sleep(Duration::from_millis(100)).await;
            voice.release();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let event = tokio::time::timeout_at(deadline.into(), events.recv())
                .await
                .unwrap_or_else(|_| panic!("{mode:?}: turn {turn} never ended"))
                .unwrap();
            if let Event::UserTranscript { text, .. } = &event {
                assert_eq!(text, "주문한 상품이 언제 도착하나요?");
            }
            if let Event::TurnEnded { heard: h, .. } = event {
                heard.push(h);
                break;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let _ = Command::new("kill").args(["-INT", &recorder.id().to_string()]).status();
    let _ = recorder.wait();
    drop(voice);
    assert_eq!(heard, [REPLY, REPLY], "{mode:?}");
    let levels = std::iter::from_fn(|| voice_events.try_recv().ok()).filter(|e| matches!(e, Event::Level { .. })).count();
    assert!(levels > 50, "{mode:?}: the level meter ran ({levels} reports)");

    let bytes = std::fs::read(&recording).unwrap();
    let left: Vec<i16> = bytes.chunks_exact(4).map(|f| i16::from_le_bytes([f[0], f[1]])).collect();
    let expected = 2 * voiced_blocks(&synthesize(REPLY, "coral", 1.0), 240);
    let got = voiced_blocks(&left, 480);
    assert!(
        (got as f64) > expected as f64 * 0.85 && (got as f64) < expected as f64 * 1.15,
        "{mode:?}: {got} voiced blocks recorded, {expected} in two replies"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hands_free_drives_two_turns_from_microphone_to_speaker() {
    common::require_rig();
    let _one = DEVICES.lock().await;
    two_turns(Mode::HandsFree).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_to_talk_drives_two_turns_from_microphone_to_speaker() {
    common::require_rig();
    let _one = DEVICES.lock().await;
    two_turns(Mode::PushToTalk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaking_over_sori_stops_it_within_150_ms() {
    common::require_rig();
    use sori_core::audio::output::AudioOutput;
    let _one = DEVICES.lock().await;
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.add_reply("order arrive", LONG_REPLY);
    let output = Arc::new(DeviceOutput::open_default().unwrap());
    let (engine, _events) = engine::spawn(Conversation::default(), providers(&s), settings(), output.clone(), None);
    let (voice, mut voice_events) = listen(Mode::HandsFree, true, &engine);
    let (speaker, heard_frames) = listen_to_speaker();
    let dir = std::env::temp_dir().join(format!("sori-barge-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;

    // A long reply (about 8 s of speech) …
    engine.ask(sori_core::turn::TurnInput::Text("When will my order arrive?".into()));
    let started = Instant::now();
    while output.played_samples() < 24_000 * 2 {
        assert!(started.elapsed() < Duration::from_secs(15), "the reply never played");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // … interrupted by the user's voice.
    let speech = dir.join("interrupt.wav");
    std::fs::write(&speech, espeak_wav("잠깐만요, 질문이 있어요.", "ko", 0.0, 0.2).unwrap()).unwrap();
    let player = Command::new("paplay").args(["-d", "micsink"]).arg(&speech).spawn().unwrap();
    let decided = loop {
        match tokio::time::timeout(Duration::from_secs(5), voice_events.recv()).await.expect("a barge-in was decided").unwrap() {
            Event::UserSpeechStarted => break Instant::now(),
            _ => continue,
        }
    };
    let _ = player.wait_with_output();
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(speaker);
    drop(voice);

    // The speaker's recording: when did the reply's sound stop? The reply has
    // no pauses, so the first 100 ms of silence after the decision is the cut
    // (the user's own question gets a reply later on).
    let frames = common::frames(&heard_frames);
    let (last, sounding) = went_silent(&frames, decided);
    let stop_ms = last.saturating_duration_since(decided).as_secs_f64() * 1000.0;
    eprintln!("the speaker went silent {stop_ms:.0} ms after the barge-in decision (from its monitor)");
    assert!(stop_ms <= 150.0, "the speaker went silent {stop_ms:.0} ms after the decision");
    assert!(sounding >= 90, "the reply played for {} ms before the barge-in", sounding * 20);
    // Only the start of it reached the speaker.
    let full = synthesize(LONG_REPLY, "coral", 1.0).len() as f64 / 24.0;
    let heard_ms = sounding as f64 * 20.0;
    assert!(heard_ms < full * 0.6, "{heard_ms:.0} of {full:.0} ms of the reply reached the speaker");
    let _ = std::fs::remove_dir_all(&dir);
}
