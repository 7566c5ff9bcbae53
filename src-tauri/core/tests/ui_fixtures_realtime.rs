//! Records a Realtime session's real event stream for the UI's browser
//! tests (`tests/ui/fixtures/recorded/realtime-session.json`, made by
//! `tests/run`): connecting, a spoken turn whose transcript comes after the
//! reply began, the provider's rate limits, a typed turn whose socket drops,
//! reconnecting, and the new session with the conversation restored.

mod common;

use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::engine;
use sori_core::event::{Event, LinkState};
use sori_core::turn::TurnInput;
use sori_testkit::{Endpoint, Fault, LatencyModel, ServerConfig, TestServer, TEST_API_KEY};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_a_realtime_session() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    kit.set_latency(LatencyModel::typical());
    let (engine, mut events) =
        engine::spawn(Conversation::default(), common::providers(&kit), common::settings(), Arc::new(MemoryOutput::default()), None);
    engine.set_realtime(Some(common::realtime_setup(&kit, TEST_API_KEY)));
    let speech = sori_testkit::audio::synthesize("When will my order arrive?", "alloy", 1.0);
    engine.ask_and_wait(TurnInput::Audio { samples: speech, sample_rate: 24_000 }).await.unwrap();
    kit.push_fault(Endpoint::Realtime, Fault::CloseMidResponse);
    engine.ask_and_wait(TurnInput::Text("Are you still there?".into())).await.unwrap();
    let mut out = Vec::new();
    let mut connected = 0;
    while connected < 2 {
        let e = tokio::time::timeout(Duration::from_secs(15), events.recv()).await.expect("the session reconnects").unwrap();
        connected += usize::from(matches!(e, Event::Realtime { state: LinkState::Connected, .. }));
        out.push(e);
    }
    // What the views are tested on is what they must show.
    let user = out.iter().position(|e| matches!(e, Event::UserTranscript { turn: 1, .. })).unwrap();
    let reply = out.iter().position(|e| matches!(e, Event::AssistantDelta { turn: 1, .. })).unwrap();
    assert!(reply < user, "the spoken turn's transcript came after its reply began");
    assert!(out.iter().any(|e| matches!(e, Event::RateLimits { .. })));
    assert!(out.iter().any(|e| matches!(e, Event::Realtime { state: LinkState::Reconnecting, .. })));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui/fixtures/recorded");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("realtime-session.json"), serde_json::to_string_pretty(&out).unwrap()).unwrap();
}
