//! Whole turns through the real HTTP stack against the testkit: the order of
//! events, Korean and English chunking, every fault, and what history keeps.

mod common;

use common::{providers, settings};
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::event::{Event, Incomplete, Phase, Stage};
use sori_core::provider::ErrorKind;
use sori_core::text::clauses::split_all;
use sori_core::text::SplitterConfig;
use sori_core::turn::phrases::{APOLOGY_EN, APOLOGY_KO};
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
    let outcome = run_turn(input, conversation, &providers(s), settings, output.clone(), Emitter::new(7, tx), CancellationToken::new()).await;
    let mut events = vec![];
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    Run { outcome, events, audio: output.take_audio().samples }
}

fn spoken_chunks(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AssistantSpeaking { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn deltas(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AssistantDelta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn errors(events: &[Event]) -> Vec<(Stage, ErrorKind)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Error { stage, error, .. } => Some((*stage, error.clone())),
            _ => None,
        })
        .collect()
}

/// The message of the first error event.
fn error_message(events: &[Event]) -> String {
    events.iter().find_map(|e| if let Event::Error { message, .. } = e { Some(message.clone()) } else { None }).expect("an error was reported")
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
    let kinds: Vec<&str> = r
        .events
        .iter()
        .map(|e| match e {
            Event::UserTranscript { .. } => "user",
            Event::Status { phase: Phase::Thinking } => "thinking",
            Event::Status { phase: Phase::Speaking } => "speaking",
            Event::Status { phase: Phase::Idle } => "idle",
            Event::TurnEnded { .. } => "end",
            _ => "",
        })
        .filter(|k| !k.is_empty())
        .collect();
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
    assert!(!r.outcome.incomplete);

    // In English when the user speaks English.
    let mut settings = settings();
    settings.language = Some("en".into());
    let r = run(&s, TurnInput::Audio { samples: vec![0; 8_000], sample_rate: 16_000 }, &Conversation::default(), &settings).await;
    assert_eq!(r.outcome.heard, FALLBACK_EN);
}

#[tokio::test]
async fn a_failure_to_transcribe_ends_the_turn_with_its_error_not_with_didnt_catch_that() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    // Lasting failures are tried once, passing ones as often as the retry policy allows.
    for (fault, kind, times) in [
        (Fault::Unauthorized, ErrorKind::Auth, 1),
        (Fault::QuotaExceeded, ErrorKind::Quota, 1),
        (Fault::DropMidBody { after_bytes: 5 }, ErrorKind::Network, 3),
    ] {
        let before = s.requests().len();
        s.push_faults(Endpoint::Transcriptions, fault.clone(), times);
        let r = run(&s, TurnInput::Audio { samples: tone(0.5), sample_rate: 16_000 }, &Conversation::default(), &settings()).await;
        assert_eq!(errors(&r.events), [(Stage::Transcription, kind.clone())], "{fault:?}");
        let asked: Vec<Endpoint> = s.requests()[before..].iter().map(|q| q.endpoint).collect();
        assert!(asked.iter().all(|e| *e == Endpoint::Transcriptions), "{fault:?}: nothing is said or asked after it: {asked:?}");
        assert!(r.audio.is_empty() && deltas(&r.events).is_empty(), "{fault:?}");
        assert_eq!((r.outcome.user_text.clone(), r.outcome.heard.as_str()), (None, ""));
        assert!(r.outcome.incomplete && !r.outcome.interrupted);
        assert_eq!(r.outcome.reason, Some(Incomplete::Failed));
        let message = error_message(&r.events);
        if kind == ErrorKind::Auth {
            assert!(message.contains("Check the key"), "the next step is said: {message}");
        }
    }
    // The fallback was never spoken.
    assert!(s.requests().iter().all(|q| q.endpoint != Endpoint::Speech));
}

#[tokio::test]
async fn a_reply_cut_at_its_length_limit_says_so_and_its_partial_sentence_is_not_spoken() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let mut settings = settings();
    settings.max_tokens = Some(14);
    let question = "When will my order arrive?";
    let r = run(&s, TurnInput::Text(question.into()), &Conversation::default(), &settings).await;
    let sent = s.requests().into_iter().find(|q| q.endpoint == Endpoint::Chat).unwrap();
    assert_eq!(sent.body["max_tokens"], 14, "a server other than OpenAI's own takes max_tokens");
    assert!(r.outcome.incomplete && !r.outcome.interrupted);
    assert_eq!(r.outcome.reason, Some(Incomplete::MaxLength));
    assert!(default_reply(question).starts_with(&r.outcome.reply) && r.outcome.reply.len() < default_reply(question).len());
    assert_eq!(spoken_chunks(&r.events), ["Sure, thanks for reaching out."], "only whole sentences are spoken");
    let ended = r.events.iter().find_map(|e| match e {
        Event::TurnEnded { reason, incomplete, .. } => Some((*reason, *incomplete)),
        _ => None,
    });
    assert_eq!(ended, Some((Some(Incomplete::MaxLength), true)));
}

#[tokio::test]
async fn a_reply_stopped_by_the_content_filter_says_so() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.push_fault(Endpoint::Chat, Fault::ContentFilter { after_tokens: 9 });
    let r = run(&s, TurnInput::Text("Tell me something".into()), &Conversation::default(), &settings()).await;
    assert_eq!(r.outcome.reason, Some(Incomplete::ContentFilter));
    assert!(r.outcome.incomplete && errors(&r.events).is_empty());
}

#[tokio::test]
async fn a_runaway_reply_is_cut_even_by_a_server_that_ignores_the_limit() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    s.set_ignores_max_tokens(true);
    let looping = "I can help with that. ".repeat(400);
    s.add_reply("loop", &looping);
    let mut settings = settings();
    settings.max_tokens = Some(60);
    let r = run(&s, TurnInput::Text("loop please".into()), &Conversation::default(), &settings).await;
    assert_eq!(r.outcome.reason, Some(Incomplete::MaxLength));
    let spoken = s.requests().iter().filter(|q| q.endpoint == Endpoint::Speech).count();
    assert!(spoken <= 16, "{spoken} speech requests for a 60-token limit");
    assert!(r.outcome.reply.len() < looping.len() / 10);
}

#[tokio::test]
async fn when_the_chat_model_fails_outright_sori_says_sorry_in_the_users_language() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    for (question, apology) in [("배송 언제 와요?", APOLOGY_KO), ("Where is my order?", APOLOGY_EN)] {
        s.push_faults(Endpoint::Chat, Fault::ServerError, 3);
        let r = run(&s, TurnInput::Text(question.into()), &Conversation::default(), &settings()).await;
        assert_eq!(errors(&r.events), [(Stage::Chat, ErrorKind::Server)]);
        assert_eq!(spoken_chunks(&r.events), [apology]);
        assert_eq!(r.audio, synthesize(apology, "coral", 1.0), "the apology is heard");
        assert_eq!(r.outcome.heard, "", "the apology is not the model's reply");
        assert_eq!(r.outcome.reason, Some(Incomplete::Failed));
    }
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
    let retries: Vec<(Stage, u64)> = r
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Retrying { stage, wait_ms, .. } => Some((*stage, *wait_ms)),
            _ => None,
        })
        .collect();
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
    let message = error_message(&r.events);
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
