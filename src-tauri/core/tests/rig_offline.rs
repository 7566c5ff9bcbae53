//! A whole spoken turn on this computer: English speech played into the rig's
//! virtual microphone is transcribed by Whisper (the real model), answered by
//! the chat model in process (SmolLM2 on llama.cpp, the real model), and
//! spoken by the Piper voice (the real model, on ONNX Runtime) out of the
//! virtual speaker, then kept in history, all inside a network namespace
//! that has no network at all, not even a loopback server.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use sori_core::app::{build_providers, Endpoint, ProviderPlan};
use sori_core::audio::listener::Mode;
use sori_core::audio::output::DeviceOutput;
use sori_core::conversation::Conversation;
use sori_core::engine;
use sori_core::event::Event;
use sori_core::history::History;
use sori_core::secrets::{Keys, MemoryStore};
use sori_core::voice::{VoiceInput, VoiceSettings};
use sori_testkit::audio::test_audio::espeak_wav;
use sori_testkit::fixtures;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const INNER: &str = "SORI_NETLESS";

/// Runs this test again inside a new network namespace (no network, loopback
/// up), and passes when it passes there.
fn rerun_without_network(test: &str) {
    let mut unshare = Command::new("unshare");
    // As root a network namespace is enough; others map themselves to root in a user namespace.
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    unshare.args(if root { &["--net"][..] } else { &["--user", "--map-root-user", "--net"][..] });
    let status = unshare
        .args(["sh", "-c", r#"ip link set lo up && exec "$@""#, "sh"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INNER, "1")
        .status()
        .expect("unshare (util-linux) and ip (iproute2)");
    assert!(status.success(), "the turn without network failed (its output is above)");
}

/// The network interfaces this process sees (`/proc/self/net/dev` follows
/// the network namespace; `/sys/class/net` would show the host's).
fn interfaces() -> Vec<String> {
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap();
    dev.lines().skip(2).filter_map(|l| l.split(':').next()).map(|n| n.trim().to_string()).collect()
}

#[test]
fn a_spoken_turn_runs_on_this_computer_with_no_network() {
    common::require_rig();
    if std::env::var_os(INNER).is_none() {
        return rerun_without_network("a_spoken_turn_runs_on_this_computer_with_no_network");
    }
    assert_eq!(interfaces(), ["lo"], "this runs with no network but loopback");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(turn());
}

async fn turn() {
    let plan = ProviderPlan {
        stt: Endpoint::Local { model: Some(fixtures::model("whisper-base")) },
        chat: Endpoint::Local { model: Some(fixtures::model("smollm2-135m-instruct")) },
        tts: Endpoint::Local { model: Some(fixtures::model("piper-en-us-joe")) },
    };
    assert!(plan.stays_on_this_computer());
    if std::env::var_os("SORI_ONNXRUNTIME").is_none() {
        std::env::set_var("SORI_ONNXRUNTIME", fixtures::onnx_runtime());
    }
    let keys = Keys::new(Ok(Arc::new(MemoryStore::default())), None);
    let providers = build_providers(&plan, &keys).expect("local providers").providers;
    let mut settings = common::settings();
    settings.language = Some("en".into());
    settings.voice.voice = "auto".into();
    settings.max_tokens = Some(60);
    let dir = std::env::temp_dir().join(format!("sori-offline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let history = History::at(dir.join("history"));
    let output = Arc::new(DeviceOutput::open_default().unwrap());
    let (engine, mut events) = engine::spawn(Conversation::default(), providers, settings, output, Some(history.clone()));
    let (voice_tx, _voice_events) = tokio::sync::mpsc::unbounded_channel();
    let voice_settings = VoiceSettings { mode: Mode::HandsFree, voice_barge_in: false, ..VoiceSettings::default() };
    let voice = VoiceInput::start(voice_settings, engine.clone(), voice_tx).expect("the rig's microphone");
    let (speaker, heard_frames) = common::listen_to_speaker();

    let question = dir.join("question.wav");
    std::fs::write(&question, espeak_wav("Where is my order?", "en-us", 0.2, 0.3).unwrap()).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let asked = Instant::now();
    assert!(Command::new("paplay").args(["-d", "micsink"]).arg(&question).status().unwrap().success());

    let (mut transcript, mut heard, mut first_audio) = (None, None, None);
    let deadline = Instant::now() + Duration::from_secs(120);
    while heard.is_none() {
        let event = tokio::time::timeout_at(deadline.into(), events.recv()).await.expect("the turn ended").expect("events");
        match event {
            Event::UserTranscript { text, .. } => transcript = Some(text),
            Event::TurnEnded { heard: h, metrics, .. } => {
                heard = Some(h);
                first_audio = metrics.ttfa_ms;
            }
            Event::Error { message, .. } => panic!("the turn failed: {message}"),
            // A model that cannot load (Whisper, the chat model or the Piper voice) is a warning at warm-up.
            Event::Warning { message, .. } => panic!("a warning: {message}"),
            _ => {}
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(voice);
    drop(speaker);
    let transcript = transcript.expect("a transcript");
    assert!(transcript.to_lowercase().contains("order"), "Whisper heard {transcript:?}");
    // What the model said is not known in advance; that it said something,
    // all of it heard, and that history kept the turn, is.
    let heard = heard.expect("the reply was heard");
    assert!(heard.split_whitespace().count() >= 2, "the model said {heard:?}");
    let frames = common::frames(&heard_frames);
    let spoken = frames.iter().filter(|(f, t)| *t > asked && common::loud(f)).count();
    // Two words or more take half a second at least, most of its 20 ms frames voiced.
    assert!(spoken > 20, "only {spoken} loud 20 ms frames came out of the speaker for {heard:?}");
    let conversations = history.list().unwrap();
    assert_eq!(conversations.len(), 1, "one conversation in history");
    let turns = history.open(&conversations[0].id).unwrap();
    assert_eq!(turns.len(), 1);
    assert_eq!((turns[0].user.as_str(), turns[0].assistant.as_str()), (transcript.as_str(), heard.as_str()));
    eprintln!("offline turn: heard {transcript:?}, answered {heard:?}, first audio {first_audio:?} ms after the end of speech, {spoken} loud frames");
    let _ = std::fs::remove_dir_all(&dir);
}
