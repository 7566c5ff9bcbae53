//! Cancelling a turn while it speaks on the real output device (the rig's
//! virtual speaker, heard through its monitor): the chat stream, pending
//! speech and playback stop within 150 ms, nothing sounds afterwards, and
//! the outcome keeps only what was played.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use common::{listen_to_speaker, loud, providers, settings, went_silent, LONG_SPACED_REPLY};
use sori_core::audio::output::{AudioOutput, DeviceOutput};
use sori_core::conversation::Conversation;
use sori_core::event::Event;
use sori_core::turn::*;
use sori_testkit::{Endpoint, LatencyModel, ServerConfig, TestServer};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_mid_reply_stops_everything_fast_and_keeps_what_was_heard() {
    common::require_rig();
    let latency = LatencyModel {
        chat_first_token_ms: 50.0,
        chat_tokens_per_second: 30.0,
        tts_first_byte_ms: 100.0,
        tts_realtime_factor: 3.0,
        ..Default::default()
    };
    let s = TestServer::start_in_background(ServerConfig { latency, ..Default::default() }).unwrap();
    // Two long sentences: the first plays without a pause, the second is still being made.
    let question = "When will my order arrive?";
    let reply = format!("{LONG_SPACED_REPLY} {LONG_SPACED_REPLY}");
    s.add_reply("order arrive", &reply);
    let mut settings = settings();
    settings.voice.style = None;
    let output: Arc<dyn AudioOutput> = Arc::new(DeviceOutput::open_default().expect("the rig's speaker"));
    let (speaker, heard_frames) = listen_to_speaker();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let turn = {
        let (output, cancel, providers) = (output.clone(), cancel.clone(), providers(&s));
        tokio::spawn(async move {
            let conversation = Conversation::default();
            run_turn(TurnInput::Text(question.into()), &conversation, &providers, &settings, output, Emitter::new(1, tx), cancel).await
        })
    };

    // Let it speak about 2.5 s of its first sentence.
    let deadline = Instant::now() + Duration::from_secs(15);
    while output.played_samples() < 60_000 {
        assert!(Instant::now() < deadline, "playback never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let speech_requests = s.requests().iter().filter(|r| r.endpoint == Endpoint::Speech).count();
    let cancelled_at = Instant::now();
    cancel.cancel();
    let outcome = turn.await.unwrap();
    let stop_time = cancelled_at.elapsed();
    tokio::time::sleep(Duration::from_millis(600)).await;
    drop(speaker);

    // The speaker itself, on the test's clock: silent soon after the cancel, and silent since.
    let frames = common::frames(&heard_frames);
    let (last_sound, sounding) = went_silent(&frames, cancelled_at);
    let silent_ms = last_sound.saturating_duration_since(cancelled_at).as_secs_f64() * 1000.0;
    eprintln!("turn stopped in {stop_time:?}; the speaker went silent {silent_ms:.0} ms after the cancel; heard {:?}", outcome.heard);
    assert!(stop_time < Duration::from_millis(150), "the turn took {stop_time:?} to stop");
    assert!(silent_ms <= 150.0, "the speaker went silent {silent_ms:.0} ms after the cancel");
    assert!(sounding >= 80, "the reply played for {} ms before the cancel", sounding * 20);
    let after: Vec<_> = frames.iter().filter(|(f, at)| *at > last_sound && loud(f)).collect();
    assert!(after.is_empty(), "{} loud frames sounded after the stop", after.len());
    assert_eq!(s.requests().iter().filter(|r| r.endpoint == Endpoint::Speech).count(), speech_requests, "no speech was asked for after the stop");

    assert!(outcome.interrupted && !outcome.incomplete);
    assert!(!outcome.heard.is_empty() && outcome.heard.chars().count() < LONG_SPACED_REPLY.chars().count(), "heard: {:?}", outcome.heard);
    assert!(reply.starts_with(&outcome.heard));
    let mut ended = None;
    while let Ok(e) = rx.try_recv() {
        if let Event::TurnEnded { heard, heard_chars, interrupted, .. } = e {
            ended = Some((heard, heard_chars, interrupted));
        }
    }
    assert_eq!(ended, Some((outcome.heard.clone(), outcome.heard.chars().count(), true)));
}
