//! Cancelling a turn while it speaks on the real output device (the rig's
//! virtual speaker): the chat stream, pending speech and playback stop within
//! 150 ms, and the outcome keeps only what was played.

use sori_core::audio::output::{AudioOutput, DeviceOutput};
use sori_core::conversation::Conversation;
use sori_core::event::Event;
use sori_core::provider::openai::OpenAi;
use sori_core::provider::retry::RetryPolicy;
use sori_core::provider::AudioFormat;
use sori_core::secrets::ApiKey;
use sori_core::text::SplitterConfig;
use sori_core::turn::speaker::Voice;
use sori_core::turn::*;
use sori_testkit::script::default_reply;
use sori_testkit::{Endpoint, LatencyModel, ServerConfig, TestServer, TEST_API_KEY};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_mid_reply_stops_everything_fast_and_keeps_what_was_heard() {
    let latency = LatencyModel { chat_first_token_ms: 50.0, chat_tokens_per_second: 30.0, tts_first_byte_ms: 100.0, tts_realtime_factor: 3.0, ..Default::default() };
    let s = TestServer::start_in_background(ServerConfig { latency, ..Default::default() }).unwrap();
    let c = Arc::new(OpenAi::new(&s.base_url(), ApiKey::new(TEST_API_KEY)).unwrap());
    let providers = Providers { stt: c.clone(), chat: c.clone(), tts: c, bytes: None };
    let settings = TurnSettings {
        stt_model: "gpt-4o-transcribe".into(),
        language: None,
        stt_prompt: None,
        chat_model: "gpt-4o-mini".into(),
        temperature: None,
        voice: Voice { model: "gpt-4o-mini-tts".into(), voice: "coral".into(), style: None, speed: 1.0, format: AudioFormat::Pcm },
        speak: true,
        tts_concurrency: 2,
        retry: RetryPolicy::default(),
        splitter: SplitterConfig::default(),
    };
    let output: Arc<dyn AudioOutput> = Arc::new(DeviceOutput::open_default().expect("the rig's speaker (run through tests/rig/with-rig.sh)"));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let question = "When will my order arrive?";
    let turn = {
        let (output, cancel) = (output.clone(), cancel.clone());
        tokio::spawn(async move {
            let conversation = Conversation::default();
            run_turn(TurnInput::Text(question.into()), &conversation, &providers, &settings, output, Emitter { turn: 1, tx }, cancel).await
        })
    };

    // Let it speak about 2.5 s of its ~9 s reply, into its second chunk.
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
    let played_then = output.played_samples();
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert!(stop_time < Duration::from_millis(150), "the turn took {stop_time:?} to stop");
    assert_eq!(output.played_samples(), played_then, "nothing plays after the stop");
    assert_eq!(output.played_samples(), output.queued_samples(), "the queue was flushed");
    assert_eq!(s.requests().iter().filter(|r| r.endpoint == Endpoint::Speech).count(), speech_requests, "no speech was asked for after the stop");
    assert!(outcome.interrupted && !outcome.incomplete);
    let reply = default_reply(question);
    assert!(!outcome.heard.is_empty() && outcome.heard.len() < reply.len(), "heard: {:?}", outcome.heard);
    assert!(outcome.heard.starts_with("Sure, thanks for reaching out."), "{}", outcome.heard);
    let mut ended = None;
    while let Ok(e) = rx.try_recv() {
        if let Event::TurnEnded { heard, interrupted, .. } = e {
            ended = Some((heard, interrupted));
        }
    }
    assert_eq!(ended, Some((outcome.heard.clone(), true)));
    eprintln!("stopped in {stop_time:?}; heard {:?}", outcome.heard);
}
