//! Realtime mode's connection against the testkit's fake Realtime server:
//! a push-to-talk turn over a real WebSocket (session, audio in, the user's
//! transcript, the spoken reply's audio and words, usage), a truncation
//! the server accepts, and a wrong key refused as `Auth` at the handshake.

mod common;

use common::ClockOutput;
use sori_core::audio::output::AudioOutput;
use sori_core::audio::Pcm;
use sori_core::provider::ErrorKind;
use sori_core::realtime::connection::{Connection, Incoming};
use sori_core::realtime::events::{pcm_from_base64, ClientEvent, ServerEvent, SessionConfig, Transcription};
use sori_core::realtime::heard::{Cut, ItemAudio};
use sori_core::secrets::ApiKey;
use sori_testkit::{ServerConfig, TestServer, TEST_API_KEY};
use std::time::Duration;
use std::time::Instant;

async fn next_event(c: &mut Connection) -> ServerEvent {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), c.next()).await.expect("an event in time").expect("the connection is open") {
            Incoming::Event(ServerEvent::Other { .. }) => continue,
            Incoming::Event(e) => return e,
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_to_talk_turn_over_a_real_websocket() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let key = ApiKey::new(TEST_API_KEY).unwrap();
    let mut c = Connection::open(&kit.base_url(), Some(&key), "gpt-realtime").await.expect("connected");
    assert!(matches!(next_event(&mut c).await, ServerEvent::SessionCreated { .. }));
    let mut session = SessionConfig::spoken("You are Sori.", "marin", None);
    session.audio.input.transcription = Some(Transcription { model: "gpt-4o-mini-transcribe".into(), language: Some("en".into()) });
    assert!(c.send(|event_id| ClientEvent::SessionUpdate { event_id, session: Box::new(session) }));
    match next_event(&mut c).await {
        ServerEvent::SessionUpdated { session } => assert!(session["audio"]["input"]["turn_detection"].is_null(), "push-to-talk: {session}"),
        other => panic!("{other:?}"),
    }
    // A second of speech, committed by hand.
    let speech = sori_testkit::audio::synthesize("When will my order arrive?", "alloy", 1.0);
    for chunk in speech.chunks(480) {
        assert!(c.append_audio(chunk));
    }
    c.send(|event_id| ClientEvent::Commit { event_id });
    let heard = loop {
        if let ServerEvent::UserTranscript { transcript, .. } = next_event(&mut c).await {
            break transcript;
        }
    };
    assert_eq!(heard, "When will my order arrive?");
    c.send(|event_id| ClientEvent::CreateResponse { event_id });
    let (mut audio_ms, mut words, mut item) = (0u64, String::new(), String::new());
    let done = loop {
        match next_event(&mut c).await {
            ServerEvent::AudioDelta { delta, item_id, .. } => {
                audio_ms += pcm_from_base64(&delta).unwrap().len() as u64 / 24;
                item = item_id;
            }
            ServerEvent::TranscriptDelta { delta, .. } => words.push_str(&delta),
            ServerEvent::ResponseDone { response } => break response,
            _ => {}
        }
    };
    assert_eq!(done.status, "completed");
    assert!(done.usage.is_some_and(|u| u["output_token_details"]["audio_tokens"].as_u64().is_some()));
    assert!(words.contains("When will my order arrive?") && audio_ms > 2000, "{audio_ms} ms for {words:?}");
    c.send(|event_id| ClientEvent::Truncate { event_id, item_id: item.clone(), content_index: 0, audio_end_ms: 300 });
    let truncated = loop {
        match next_event(&mut c).await {
            // The account's limits come after a response.
            ServerEvent::RateLimits { .. } => continue,
            other => break other,
        }
    };
    assert_eq!(truncated, ServerEvent::Truncated { item_id: item, audio_end_ms: 300 });
    // Everything Sori sent had an id of its own.
    assert!(kit
        .realtime_events()
        .iter()
        .filter(|e| e["type"] != "input_audio_buffer.append")
        .all(|e| e["event_id"].as_str().is_some_and(|i| i.starts_with("sori_"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_refused_at_the_handshake_as_auth() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let wrong = ApiKey::new("sk-wrong-0000").unwrap();
    let e = Connection::open(&kit.base_url(), Some(&wrong), "gpt-realtime").await.err().expect("refused");
    assert_eq!(e.kind, ErrorKind::Auth, "{e:?}");
    assert!(!e.message.contains("sk-wrong-0000"), "the key is not in the message: {}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_barge_in_truncates_to_what_was_played_not_what_was_sent() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let key = ApiKey::new(TEST_API_KEY).unwrap();
    let mut c = Connection::open(&kit.base_url(), Some(&key), "gpt-realtime").await.unwrap();
    next_event(&mut c).await;
    c.send(|event_id| ClientEvent::CreateItem { event_id, item: sori_core::realtime::events::Item::user_text("Where is my order?") });
    c.send(|event_id| ClientEvent::CreateResponse { event_id });
    let output = ClockOutput::default();
    let mut items = ItemAudio::default();
    let (mut sent_ms, mut first) = (0u64, None);
    // The server sends the reply faster than real time; 700 ms of it play.
    loop {
        let event = tokio::time::timeout(Duration::from_millis(50), next_event(&mut c)).await;
        if let Ok(ServerEvent::AudioDelta { item_id, content_index, delta, .. }) = event {
            let samples = pcm_from_base64(&delta).unwrap();
            sent_ms += samples.len() as u64 / 24;
            items.queue(&output, &item_id, content_index, &Pcm { samples, sample_rate: 24_000 });
            first.get_or_insert_with(Instant::now);
        }
        if first.is_some_and(|t| t.elapsed() >= Duration::from_millis(700)) {
            break;
        }
    }
    let played_ms = first.unwrap().elapsed().as_millis() as u64;
    let Some(Cut::Truncate { item_id, content_index, audio_end_ms }) = items.cut(output.played_samples()) else { panic!("something was heard") };
    c.send(|event_id| ClientEvent::CancelResponse { event_id });
    c.send(|event_id| ClientEvent::Truncate { event_id, item_id: item_id.clone(), content_index, audio_end_ms });
    let truncated = loop {
        if let ServerEvent::Truncated { audio_end_ms, .. } = next_event(&mut c).await {
            break audio_end_ms;
        }
    };
    assert!(truncated.abs_diff(played_ms) <= 50, "truncated at {truncated} ms, {played_ms} ms played");
    assert!(sent_ms > truncated + 1000, "{sent_ms} ms were sent: the cut follows what played, not what came");
    let sent: Vec<_> = kit.realtime_events().into_iter().filter(|e| e["type"] == "conversation.item.truncate").collect();
    assert_eq!(sent[0]["audio_end_ms"], truncated);
}
