//! Answers that start sooner, on the rig: hands-free, the utterance goes to
//! speech-to-text at a 250 ms pause. A sentence that ends there is answered
//! from that early request (one transcription, not two); a sentence with a
//! pause inside it (longer than 250 ms, shorter than the 600 ms end silence)
//! is still one turn with the whole sentence, and the early request for its
//! first half is dropped unheard: the server sees its client go, and nothing
//! of it reaches the window or the history.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use common::{providers, settings};
use sori_core::audio::listener::Mode;
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::engine::{self, EngineHandle};
use sori_core::event::Event;
use sori_core::voice::{VoiceInput, VoiceSettings};
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use sori_testkit::{Endpoint, LatencyModel, ServerConfig, TestServer};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// One test at a time on the devices (held across awaits: an async lock).
static DEVICES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A hands-free engine whose speech-to-text takes a while (so an early
/// request is still running when the user goes on).
fn hands_free() -> (TestServer, EngineHandle, UnboundedReceiver<Event>, (VoiceInput, UnboundedReceiver<Event>)) {
    let latency = LatencyModel { stt_base_ms: 600.0, ..LatencyModel::default() };
    let server = TestServer::start_in_background(ServerConfig { latency, ..ServerConfig::default() }).unwrap();
    let (engine, events) = engine::spawn(Conversation::default(), providers(&server), settings(), Arc::new(MemoryOutput::default()), None);
    let voice_settings = sori_core::settings::Settings { end_silence_ms: 600, early_transcription: true, ..Default::default() };
    // The microphone stops when nobody takes its events: they are kept.
    let (voice_tx, voice_events) = tokio::sync::mpsc::unbounded_channel();
    let voice = VoiceInput::start(
        VoiceSettings { mode: Mode::HandsFree, segmenter: voice_settings.segmenter(), ..VoiceSettings::default() },
        engine.clone(),
        voice_tx,
    )
    .expect("the rig's microphone");
    (server, engine, events, (voice, voice_events))
}

/// Says the parts into the microphone with `gap` of silence between them, then waits for it to finish.
fn say(parts: &[&str], gap: f64) -> Vec<i16> {
    let mut all = vec![];
    for (i, p) in parts.iter().enumerate() {
        // espeak-ng leaves silence around its speech: trimmed, so the gap is exactly `gap`.
        let speech = read_wav(&espeak_wav(p, "en", 0.0, 0.0).unwrap()).unwrap().0;
        let from = speech.iter().position(|s| s.unsigned_abs() > 300).unwrap_or(0);
        let to = speech.iter().rposition(|s| s.unsigned_abs() > 300).map_or(speech.len(), |i| i + 1);
        all.extend_from_slice(&speech[from..to]);
        if i + 1 < parts.len() {
            all.extend(std::iter::repeat_n(0i16, (gap * 16_000.0) as usize));
        }
    }
    all.extend(std::iter::repeat_n(0i16, 16_000));
    let wav = std::env::temp_dir().join(format!("sori-rig-early-{}.wav", std::process::id()));
    let mut w = hound::WavWriter::create(
        &wav,
        hound::WavSpec { channels: 1, sample_rate: 16_000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int },
    )
    .unwrap();
    for s in &all {
        w.write_sample(*s).unwrap();
    }
    w.finalize().unwrap();
    assert!(Command::new("paplay").args(["-d", "micsink"]).arg(&wav).status().unwrap().success());
    let _ = std::fs::remove_file(&wav);
    all
}

fn transcriptions(server: &TestServer) -> Vec<sori_testkit::state::RecordedRequest> {
    server.requests().into_iter().filter(|r| r.endpoint == Endpoint::Transcriptions).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentence_that_ends_at_the_pause_is_answered_from_the_early_transcript() {
    common::require_rig();
    let _one = DEVICES.lock().await;
    let (server, engine, mut events, _voice) = hands_free();
    tokio::time::sleep(Duration::from_millis(800)).await;
    tokio::task::spawn_blocking(|| say(&["When will my order arrive?"], 0.0)).await.unwrap();
    let turn = common::until(&mut events, 10, |e| match e {
        Event::UserTranscript { turn, .. } => Some(*turn),
        _ => None,
    })
    .await;
    let metrics = common::until(&mut events, 20, |e| match e {
        Event::TurnEnded { turn: t, metrics, .. } if *t == turn => Some(*metrics),
        _ => None,
    })
    .await;
    let sent = transcriptions(&server);
    assert_eq!(sent.len(), 1, "one request: the early one, used by the turn");
    assert!(!sent[0].cancelled);
    // The turn found its transcript already (partly) done: well under the 600 ms the server takes.
    let waited = metrics.transcript_ms.expect("a spoken turn");
    eprintln!("transcript ready {waited:.0} ms into the turn (the server takes 600 ms and more)");
    assert!(waited < 550.0, "{waited} ms");
    assert_eq!(kept(&engine).await, 2, "the question and its answer");
}

/// The messages the conversation keeps, once the engine has filed the turn
/// (its end is announced first).
async fn kept(engine: &EngineHandle) -> usize {
    for _ in 0..50 {
        let n = engine.conversation().await.unwrap().history().len();
        if n > 0 {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_inside_a_sentence_gives_one_turn_and_drops_the_early_request() {
    common::require_rig();
    let _one = DEVICES.lock().await;
    let (server, engine, mut events, _voice) = hands_free();
    tokio::time::sleep(Duration::from_millis(800)).await;
    // 400 ms of silence: past the 250 ms pause, short of the 600 ms end.
    tokio::task::spawn_blocking(|| say(&["When will my order", "arrive at my house?"], 0.4)).await.unwrap();
    let transcript = common::until(&mut events, 10, |e| match e {
        Event::UserTranscript { turn, .. } => Some(*turn),
        _ => None,
    })
    .await;
    common::until(&mut events, 20, |e| matches!(e, Event::TurnEnded { turn, .. } if *turn == transcript).then_some(())).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = transcriptions(&server);
    let uploads = server.uploaded_audio();
    eprintln!(
        "requests {:?} uploads {:?}",
        sent.iter().map(|r| r.cancelled).collect::<Vec<_>>(),
        uploads.iter().map(|u| u.0.len()).collect::<Vec<_>>()
    );
    assert_eq!(sent.len(), 2, "the early request for the first half, then the whole sentence");
    assert!(sent[0].cancelled, "the early request was given up while the server worked on it");
    assert!(!sent[1].cancelled);
    let uploads = server.uploaded_audio();
    let (first, whole) = (uploads[0].0.len() as f64 / 16_000.0, uploads[1].0.len() as f64 / 16_000.0);
    assert!(whole > first + 1.0, "the turn has the whole sentence: {whole:.2} s, the early request {first:.2} s");
    // One turn in the window and the history, none for the early request.
    let more = std::iter::from_fn(|| events.try_recv().ok()).filter(|e| matches!(e, Event::UserTranscript { .. })).count();
    assert_eq!(more, 0, "no second turn");
    assert_eq!(kept(&engine).await, 2, "one question and its answer");
    let chats = server.requests().iter().filter(|r| r.endpoint == Endpoint::Chat).count();
    assert_eq!(chats, 1);
}
