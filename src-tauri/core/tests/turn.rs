//! Whole turns through the real HTTP stack against the testkit: the order of
//! events, Korean and English chunking, every fault, and what history keeps.

mod common;

use common::{providers, settings};
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::event::{Event, Phase, Stage};
use sori_core::provider::ErrorKind;
use sori_core::text::clauses::split_all;
use sori_core::text::SplitterConfig;
use sori_core::turn::*;
use sori_testkit::audio::synthesize;
use sori_testkit::script::default_reply;
use sori_testkit::{Endpoint, Fault, ServerConfig, TestServer};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

struct Run {
    outcome: TurnOutcome,
    events: Vec<Event>,
    audio: Vec<i16>,
}

async fn run(s: &TestServer, input: TurnInput, conversation: &Conversation, settings: &TurnSettings) -> Run {
    let output = Arc::new(MemoryOutput::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let outcome = run_turn(input, conversation, &providers(s), settings, output.clone(), Emitter { turn: 7, tx }, CancellationToken::new()).await;
    let mut events = vec![];
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    Run { outcome, events, audio: output.take_audio().samples }
}

fn spoken_chunks(events: &[Event]) -> Vec<String> {
    events.iter().filter_map(|e| match e { Event::AssistantSpeaking { text, .. } => Some(text.clone()), _ => None }).collect()
}

fn deltas(events: &[Event]) -> String {
    events.iter().filter_map(|e| match e { Event::AssistantDelta { text, .. } => Some(text.as_str()), _ => None }).collect()
}

fn errors(events: &[Event]) -> Vec<(Stage, ErrorKind)> {
    events.iter().filter_map(|e| match e { Event::Error { stage, error, .. } => Some((*stage, error.clone())), _ => None }).collect()
}

fn tone(seconds: f64) -> Vec<i16> {
    (0..(16_000.0 * seconds) as usize).map(|i| ((i as f64 * 0.05).sin() * 7000.0) as i16).collect()
}

#[tokio::test]
async fn a_typed_turn_streams_chunks_and_speaks_them_in_order() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let question = "When will my order arrive?";
    let r = run(&s, TurnInput::Text(question.into()), &Conversation::default(), &settings()).await;
    let reply = default_reply(question);
    assert_eq!(r.outcome.reply, reply);
    assert_eq!(deltas(&r.events), reply);
    let chunks = spoken_chunks(&r.events);
    assert_eq!(chunks, split_all(&reply, SplitterConfig::default()));
    assert_eq!(chunks[0], "Sure, thanks for reaching out.");
    // The audio is each chunk's speech, in order, nothing lost or doubled.
    let expected: Vec<i16> = chunks.iter().flat_map(|c| synthesize(c, "coral", 1.0)).collect();
    assert_eq!(r.audio, expected);
    assert_eq!(r.outcome.heard, chunks.join(" "));
    assert!(!r.outcome.interrupted && !r.outcome.incomplete);

    // Event order: transcript, thinking, deltas, speaking, end, idle.
    let kinds: Vec<&str> = r.events.iter().map(|e| match e {
        Event::UserTranscript { .. } => "user",
        Event::Status { phase: Phase::Thinking } => "thinking",
        Event::Status { phase: Phase::Speaking } => "speaking",
        Event::Status { phase: Phase::Idle } => "idle",
        Event::TurnEnded { .. } => "end",
        _ => "",
    }).filter(|k| !k.is_empty()).collect();
    assert_eq!(kinds, ["user", "thinking", "speaking", "end", "idle"]);
    let first_delta = r.events.iter().position(|e| matches!(e, Event::AssistantDelta { .. })).unwrap();
    let first_speaking = r.events.iter().position(|e| matches!(e, Event::AssistantSpeaking { .. })).unwrap();
    assert!(first_delta < first_speaking);

    let m = r.outcome.metrics;
    assert_eq!(m.transcript_ms, None);
    let (tok, chunk, ttfa) = (m.llm_first_token_ms.unwrap(), m.first_chunk_ms.unwrap(), m.ttfa_ms.unwrap());
    assert!(tok <= chunk && chunk <= ttfa && ttfa <= m.total_ms, "{m:?}");
    assert!(m.bytes_up > 100 && m.bytes_down > 100_000, "{m:?}");
}

#[tokio::test]
async fn a_spoken_korean_turn_is_transcribed_and_answered_in_korean() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let audio = tone(1.2);
    s.set_transcript_for_samples(&audio, "주문한 상품이 언제 도착하나요?");
    let mut conversation = Conversation::default();
    conversation.record("안녕하세요", "네, 안녕하세요!");
    let r = run(&s, TurnInput::Audio { samples: audio, sample_rate: 16_000 }, &conversation, &settings()).await;
    assert_eq!(r.outcome.user_text.as_deref(), Some("주문한 상품이 언제 도착하나요?"));
    let chunks = spoken_chunks(&r.events);
    assert_eq!(chunks[0], "네, 고객님,");
    assert_eq!(chunks[1], "문의 주셔서 감사합니다.");
    assert!(r.outcome.metrics.transcript_ms.unwrap() <= r.outcome.metrics.llm_first_token_ms.unwrap());
    // The history went along with the question.
    let requests = s.requests();
    let sent = &requests.iter().find(|q| q.endpoint == Endpoint::Chat).unwrap().body["messages"];
    assert_eq!(sent.as_array().unwrap().len(), 4);
    assert_eq!(sent[1]["content"], "안녕하세요");
}

#[tokio::test]
async fn nothing_heard_gets_a_spoken_fallback_and_no_model_call() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let r = run(&s, TurnInput::Audio { samples: vec![0; 16_000], sample_rate: 16_000 }, &Conversation::default(), &settings()).await;
    assert_eq!(r.outcome.user_text, None);
    assert_eq!(r.outcome.heard, FALLBACK_KO);
    assert_eq!(deltas(&r.events), FALLBACK_KO);
    assert!(!r.audio.is_empty(), "the fallback is spoken");
    assert!(s.requests().iter().all(|q| q.endpoint != Endpoint::Chat));

    // In English when the user speaks English.
    let mut settings = settings();
    settings.language = Some("en".into());
    s.push_fault(Endpoint::Transcriptions, Fault::Unauthorized);
    let r = run(&s, TurnInput::Audio { samples: tone(0.5), sample_rate: 16_000 }, &Conversation::default(), &settings).await;
    assert_eq!(r.outcome.heard, FALLBACK_EN);
    assert_eq!(errors(&r.events), [(Stage::Transcription, ErrorKind::Auth)]);
    assert!(s.requests().iter().all(|q| q.endpoint != Endpoint::Chat));
}

#[tokio::test]
async fn passing_failures_are_retried_with_notice() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.push_fault(Endpoint::Chat, Fault::RateLimited { retry_after_secs: 1 });
    s.push_fault(Endpoint::Chat, Fault::Overloaded);
    s.push_fault(Endpoint::Speech, Fault::ServerError);
    let r = run(&s, TurnInput::Text("Hi there".into()), &Conversation::default(), &settings()).await;
    assert_eq!(r.outcome.reply, default_reply("Hi there"));
    assert!(!r.outcome.incomplete);
    let retries: Vec<(Stage, u64)> = r.events.iter().filter_map(|e| match e { Event::Retrying { stage, wait_ms, .. } => Some((*stage, *wait_ms)), _ => None }).collect();
    assert_eq!(retries[..2], [(Stage::Chat, 1000), (Stage::Chat, 40)]);
    assert_eq!(retries[2].0, Stage::Speech);
    assert!(errors(&r.events).is_empty());
}

#[tokio::test]
async fn a_rejected_key_is_reported_once_and_not_retried() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.push_faults(Endpoint::Chat, Fault::Unauthorized, 3);
    let r = run(&s, TurnInput::Text("Hi".into()), &Conversation::default(), &settings()).await;
    assert_eq!(errors(&r.events), [(Stage::Chat, ErrorKind::Auth)]);
    assert!(r.outcome.incomplete);
    assert_eq!(r.outcome.heard, "");
    assert_eq!(s.requests().iter().filter(|q| q.endpoint == Endpoint::Chat).count(), 1);
    let message = r.events.iter().find_map(|e| match e { Event::Error { message, .. } => Some(message.clone()), _ => None }).unwrap();
    assert!(message.contains("Check the key"), "{message}");
}

#[tokio::test]
async fn when_speech_fails_the_text_is_still_shown() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.push_faults(Endpoint::Speech, Fault::Unauthorized, 10);
    let r = run(&s, TurnInput::Text("Hello".into()), &Conversation::default(), &settings()).await;
    assert_eq!(deltas(&r.events), default_reply("Hello"));
    assert_eq!(errors(&r.events), [(Stage::Speech, ErrorKind::Auth)]);
    assert_eq!(r.outcome.heard, default_reply("Hello"), "the reply was shown in full");
    assert!(r.audio.is_empty());
}

#[tokio::test]
async fn a_reply_that_breaks_keeps_what_was_spoken_and_is_marked_incomplete() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.push_fault(Endpoint::Chat, Fault::DropMidBody { after_bytes: 3000 });
    let r = run(&s, TurnInput::Text("When will my order arrive?".into()), &Conversation::default(), &settings()).await;
    assert!(r.outcome.incomplete);
    assert_eq!(errors(&r.events), [(Stage::Chat, ErrorKind::Network)]);
    let reply = default_reply("When will my order arrive?");
    assert!(!r.outcome.reply.is_empty() && reply.starts_with(&r.outcome.reply) && r.outcome.reply.len() < reply.len());
    assert_eq!(r.outcome.heard, spoken_chunks(&r.events).join(" "));
    assert!(r.outcome.heard.starts_with("Sure, thanks for reaching out."));
    // Only whole chunks were spoken: the partial sentence at the break was not.
    assert!(split_all(&reply, SplitterConfig::default()).starts_with(&spoken_chunks(&r.events)));
}

#[tokio::test]
async fn typed_turns_can_be_shown_without_speaking() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let mut settings = settings();
    settings.speak = false;
    let r = run(&s, TurnInput::Text("안녕하세요".into()), &Conversation::default(), &settings).await;
    assert_eq!(r.outcome.heard, default_reply("안녕하세요"));
    assert!(r.audio.is_empty());
    assert!(s.requests().iter().all(|q| q.endpoint != Endpoint::Speech));
    assert_eq!(r.outcome.metrics.ttfa_ms, None);
}
