//! Every sound Sori makes goes through the engine, on the rig's virtual
//! devices: a replay of what the microphone heard, or a voice preview, stops
//! the reply first (which then keeps only what was heard), plays whole, and
//! is never taken for the user, even in hands-free mode with the speaker
//! looped back into the microphone as on laptop speakers.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use common::{listen_to_speaker, loud, providers, settings, LONG_SPACED_REPLY};
use sori_core::audio::listener::Mode;
use sori_core::audio::output::{AudioOutput, DeviceOutput};
use sori_core::conversation::Conversation;
use sori_core::engine::{self, EngineHandle};
use sori_core::event::{Event, Phase, Sound};
use sori_core::turn::speaker::Voice;
use sori_core::turn::TurnInput;
use sori_core::voice::{VoiceInput, VoiceSettings};
use sori_testkit::audio::synthesize;
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use sori_testkit::{ServerConfig, TestServer};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// One test at a time on the devices (held across awaits: an async lock).
static DEVICES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The speaker looped into the microphone while it lives, as on laptop speakers.
struct Loopback(String);

impl Loopback {
    fn new() -> Loopback {
        let out = Command::new("pactl")
            .args(["load-module", "module-loopback", "source=speaker.monitor", "sink=micsink", "latency_msec=20"])
            .output()
            .expect("pactl");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Loopback(String::from_utf8(out.stdout).unwrap().trim().to_string())
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        let _ = Command::new("pactl").args(["unload-module", &self.0]).status();
    }
}

/// A Korean question as the microphone would have captured it.
fn question() -> Vec<i16> {
    read_wav(&espeak_wav("주문한 상품이 언제 도착하나요?", "ko", 0.2, 0.6).unwrap()).unwrap().0
}

/// A turn whose question was spoken (its recording is kept), answered in text only.
async fn recorded_turn(engine: &EngineHandle, events: &mut UnboundedReceiver<Event>) -> u64 {
    let turn = engine.ask_with(TurnInput::Audio { samples: question(), sample_rate: 16_000 }, false);
    common::until(events, 20, |e| matches!(e, Event::TurnEnded { turn: t, .. } if *t == turn).then_some(())).await;
    turn
}

/// An engine on the rig's speaker whose reply to "…order arrive?" is long.
fn replying_engine() -> (TestServer, EngineHandle, UnboundedReceiver<Event>, Arc<DeviceOutput>) {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.add_reply("order arrive", LONG_SPACED_REPLY);
    let output = Arc::new(DeviceOutput::open_default().unwrap());
    let (engine, events) = engine::spawn(Conversation::default(), providers(&s), settings(), output.clone(), None);
    (s, engine, events, output)
}

/// Whether `got` is within 15% of `expected`.
fn about(got: usize, expected: usize) -> bool {
    (got as f64 - expected as f64).abs() < expected as f64 * 0.15
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_on_speakers_is_not_taken_for_the_user_in_hands_free_mode() {
    common::require_rig();
    let _one = DEVICES.lock().await;
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let mut turn_settings = settings();
    turn_settings.language = Some("ko".into());
    let output = Arc::new(DeviceOutput::open_default().unwrap());
    let (engine, mut events) = engine::spawn(Conversation::default(), providers(&s), turn_settings, output, None);
    let turn = recorded_turn(&engine, &mut events).await;
    let _speakers = Loopback::new();
    let (voice_tx, mut voice_events) = tokio::sync::mpsc::unbounded_channel();
    let settings = VoiceSettings { mode: Mode::HandsFree, voice_barge_in: false, ..VoiceSettings::default() };
    let voice = VoiceInput::start(settings, engine.clone(), voice_tx).expect("the rig's microphone");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let phase = engine.phase();
    let length = engine.replay(turn).await.expect("the recording is kept");
    assert!(length > Duration::from_secs(1));
    common::until(&mut events, 5, |e| matches!(e, Event::Playing { sound: Sound::Replay, playing: true }).then_some(())).await;
    common::until(&mut events, 5, |e| matches!(e, Event::Status { phase: Phase::Speaking }).then_some(())).await;
    assert_eq!(*phase.borrow(), Phase::Speaking, "a replay is Sori speaking: the microphone is gated");
    common::until(&mut events, 10, |e| matches!(e, Event::Playing { sound: Sound::Replay, playing: false }).then_some(())).await;
    // Sori heard its own replay through the speakers; it must not answer it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(voice);
    let answered: Vec<Event> = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|e| matches!(e, Event::UserTranscript { .. } | Event::Status { phase: Phase::Transcribing }))
        .collect();
    assert!(answered.is_empty(), "Sori answered its own replay: {answered:?}");
    let started = std::iter::from_fn(|| voice_events.try_recv().ok()).filter(|e| matches!(e, Event::UserSpeechStarted)).count();
    assert_eq!(started, 0, "the replay was taken for the user speaking");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_during_a_reply_stops_the_reply_which_keeps_only_what_was_heard() {
    common::require_rig();
    let _one = DEVICES.lock().await;
    let (_server, engine, mut events, output) = replying_engine();
    let recording = recorded_turn(&engine, &mut events).await;
    let (speaker, heard_frames) = listen_to_speaker();
    let reply = engine.ask(TurnInput::Text("When will my order arrive?".into()));
    let from = output.played_samples();
    common::wait_played(&output, from + 36_000).await;
    let replay_at = Instant::now();
    engine.replay(recording).await.expect("the recording is kept");
    let (heard, interrupted) = common::until(&mut events, 5, |e| match e {
        Event::TurnEnded { turn, heard, interrupted, .. } if *turn == reply => Some((heard.clone(), *interrupted)),
        _ => None,
    })
    .await;
    common::until(&mut events, 10, |e| matches!(e, Event::Playing { sound: Sound::Replay, playing: false }).then_some(())).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(speaker);

    assert!(interrupted, "the replay stopped the reply");
    assert!(!heard.is_empty() && heard.chars().count() < LONG_SPACED_REPLY.chars().count() * 2 / 3, "only what played counts as heard: {heard:?}");
    let history = engine.conversation().await.unwrap().history();
    assert_eq!(history.last().map(|m| m.content.as_str()), Some(heard.as_str()));
    // On the speaker: the reply, then the recording, whole (its speech at its own length).
    let frames = common::frames(&heard_frames);
    let after: usize = frames.iter().filter(|(f, at)| *at > replay_at + Duration::from_millis(150) && loud(f)).count();
    let expected = question().chunks(320).filter(|f| loud(f)).count();
    assert!(about(after, expected), "{after} loud frames after the replay began, {expected} in the recording");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_preview_over_a_reply_plays_whole() {
    common::require_rig();
    let _one = DEVICES.lock().await;
    let (_server, engine, mut events, output) = replying_engine();
    let (speaker, heard_frames) = listen_to_speaker();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reply = engine.ask(TurnInput::Text("When will my order arrive?".into()));
    common::wait_played(&output, 30_000).await;
    let sample = "안녕하세요, 소리입니다. 무엇을 도와드릴까요?";
    let voice = Voice { model: "gpt-4o-mini-tts".into(), voice: "onyx".into(), style: None, speed: 1.0, pitch: 0.0, format: Default::default() };
    let asked = Instant::now();
    engine.preview(sample, voice).await.expect("the preview played");
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(speaker);

    let interrupted = common::until(&mut events, 1, |e| match e {
        Event::TurnEnded { turn, interrupted, .. } if *turn == reply => Some(*interrupted),
        _ => None,
    })
    .await;
    assert!(interrupted, "the preview stopped the reply first");
    // Everything loud after the preview was asked for is the preview (the
    // reply's last ~100 ms aside, within the margin).
    let frames = common::frames(&heard_frames);
    let preview: usize = frames.iter().filter(|(f, at)| *at > asked && loud(f)).count();
    let expected = synthesize(sample, "onyx", 1.0).chunks(480).filter(|f| loud(f)).count();
    assert!(about(preview, expected), "{preview} loud frames of the preview, {expected} in it");
}
