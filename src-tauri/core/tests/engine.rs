//! The engine over real HTTP: turns one after another build the history, a
//! new question interrupts the reply in flight, and history keeps what was heard.

mod common;

use common::{providers, settings};
use sori_core::audio::output::{AudioOutput, MemoryOutput};
use sori_core::conversation::Conversation;
use sori_core::engine;
use sori_core::event::Event;
use sori_core::provider::Role;
use sori_core::turn::TurnInput;
use sori_testkit::script::default_reply;
use sori_testkit::{Endpoint, LatencyModel, ServerConfig, TestServer};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn turns_build_the_history_typed_and_spoken_alike() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let (handle, _events) = engine::spawn(Conversation::default(), providers(&s), settings(), Arc::new(MemoryOutput::default()), None);
    let first = handle.ask_and_wait(TurnInput::Text("안녕하세요".into())).await.unwrap();
    assert_eq!(first.heard, default_reply("안녕하세요"));
    let audio: Vec<i16> = (0..16_000).map(|i| ((i as f64 * 0.05).sin() * 7000.0) as i16).collect();
    s.set_transcript_for_samples(&audio, "Where is my order?");
    handle.ask_and_wait(TurnInput::Audio { samples: audio, sample_rate: 16_000 }).await.unwrap();
    let history = handle.conversation().await.unwrap();
    let messages = history.history();
    let texts: Vec<(Role, &str)> = messages.iter().map(|m| (m.role, m.content.as_str())).collect();
    assert_eq!(texts.len(), 4);
    assert_eq!(texts[0], (Role::User, "안녕하세요"));
    assert_eq!(texts[2], (Role::User, "Where is my order?"));
    let requests = s.requests();
    let second = requests.iter().filter(|r| r.endpoint == Endpoint::Chat).nth(1).unwrap();
    assert_eq!(second.body["messages"][1]["content"], "안녕하세요", "the first turn went along as context");
    // A silent utterance gets the fallback, which is not history.
    handle.ask_and_wait(TurnInput::Audio { samples: vec![0; 8000], sample_rate: 16_000 }).await.unwrap();
    assert_eq!(handle.conversation().await.unwrap().history().len(), 4);
    handle.clear_history();
    assert!(handle.conversation().await.unwrap().history().is_empty());
}

#[tokio::test]
async fn a_new_question_interrupts_the_reply_in_flight() {
    let latency = LatencyModel { chat_first_token_ms: 20.0, chat_tokens_per_second: 40.0, ..Default::default() };
    let s = TestServer::start_in_background(ServerConfig { latency, ..Default::default() }).unwrap();
    let (handle, mut events) = engine::spawn(Conversation::default(), providers(&s), settings(), Arc::new(MemoryOutput::default()), None);
    handle.ask(TurnInput::Text("When will my order arrive?".into()));
    // Wait until the first chunk is spoken, then barge in.
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await.unwrap().unwrap() {
            Event::AssistantSpeaking { turn: 1, .. } => break,
            _ => continue,
        }
    }
    let second = handle.ask_and_wait(TurnInput::Text("Thanks!".into())).await.unwrap();
    assert!(!second.interrupted);
    let mut first_end = None;
    while let Ok(e) = events.try_recv() {
        if let Event::TurnEnded { turn: 1, heard, interrupted, .. } = e {
            first_end = Some((heard, interrupted));
        }
    }
    let (heard, interrupted) = first_end.expect("the first turn ended");
    assert!(interrupted);
    let full = default_reply("When will my order arrive?");
    assert!(heard.starts_with("Sure, thanks for reaching out.") && heard.len() < full.len(), "{heard}");
    let history = handle.conversation().await.unwrap();
    assert_eq!(history.history()[1].content, heard, "history keeps what was heard");
    assert_eq!(history.history()[3].content, default_reply("Thanks!"));
    handle.cancel(); // nothing in flight: harmless
}

#[tokio::test]
async fn finished_turns_are_kept_on_disk_and_conversations_reopen() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("sori-engine-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let history = sori_core::history::History::at(&dir);
    let (handle, _events) =
        engine::spawn(Conversation::default(), providers(&s), settings(), Arc::new(MemoryOutput::default()), Some(history.clone()));
    handle.ask_and_wait(TurnInput::Text("안녕하세요".into())).await.unwrap();
    handle.ask_and_wait(TurnInput::Text("배송 언제 와요?".into())).await.unwrap();
    let first = history.list().unwrap();
    assert_eq!(first.len(), 1);
    let records = history.open(&first[0].id).unwrap();
    assert_eq!(records.iter().map(|r| (r.turn, r.user.as_str())).collect::<Vec<_>>(), [(1, "안녕하세요"), (2, "배송 언제 와요?")]);
    assert_eq!(records[1].assistant, default_reply("배송 언제 와요?"));
    assert!(records[1].metrics.total_ms > 0.0);

    // A new conversation gets its own file; reopening the first continues it.
    handle.clear_history();
    handle.ask_and_wait(TurnInput::Text("New topic".into())).await.unwrap();
    assert_eq!(history.list().unwrap().len(), 2);
    handle.open_conversation(&first[0].id).await.unwrap();
    assert_eq!(handle.conversation().await.unwrap().history().len(), 4);
    handle.ask_and_wait(TurnInput::Text("Thanks!".into())).await.unwrap();
    let records = history.open(&first[0].id).unwrap();
    assert_eq!(records.last().map(|r| (r.turn, r.user.as_str())), Some((3, "Thanks!")));
    assert!(handle.open_conversation("../../etc").await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_typed_turn_can_be_shown_without_speaking_and_spoken_turns_keep_their_audio() {
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let output = Arc::new(MemoryOutput::default());
    let (handle, mut events) = engine::spawn(Conversation::default(), providers(&s), settings(), output.clone(), None);
    let quiet = handle.ask_with(TurnInput::Text("안녕하세요".into()), false);
    let mut replied = String::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await.unwrap().unwrap() {
            Event::AssistantDelta { turn, text } if turn == quiet => replied.push_str(&text),
            Event::TurnEnded { turn, heard, .. } if turn == quiet => break assert_eq!(heard, replied),
            _ => continue,
        }
    }
    assert_eq!(replied, default_reply("안녕하세요"));
    assert_eq!(output.queued_samples(), 0, "nothing was spoken");
    assert!(s.requests().iter().all(|r| r.endpoint != Endpoint::Speech));

    let audio: Vec<i16> = (0..16_000).map(|i| ((i as f64 * 0.05).sin() * 7000.0) as i16).collect();
    s.set_transcript_for_samples(&audio, "Where is my order?");
    let spoken = handle.ask(TurnInput::Audio { samples: audio.clone(), sample_rate: 16_000 });
    assert_eq!(spoken, quiet + 1, "ids are handed out in order");
    let kept = handle.turn_audio(spoken).await.expect("the captured audio is kept");
    assert_eq!((kept.samples.as_slice(), kept.sample_rate), (audio.as_slice(), 16_000));
    assert!(handle.turn_audio(quiet).await.is_none(), "a typed turn has no audio");
    loop {
        if let Event::TurnEnded { turn, .. } = tokio::time::timeout(Duration::from_secs(10), events.recv()).await.unwrap().unwrap() {
            if turn == spoken {
                break;
            }
        }
    }
    assert!(output.queued_samples() > 0, "the spoken turn was spoken");
}

/// The real chat client, until a bug strikes: after a few pieces of the reply
/// (and a pause, so speech has begun) the stream panics.
struct BuggyChat(sori_core::provider::openai::OpenAi);

#[async_trait::async_trait]
impl sori_core::provider::ChatModel for BuggyChat {
    async fn stream_chat(
        &self,
        request: sori_core::provider::ChatRequest<'_>,
    ) -> Result<sori_core::provider::ProviderStream<sori_core::provider::ChatEvent>, sori_core::provider::ProviderError> {
        use futures_util::StreamExt;
        let real = self.0.stream_chat(request).await?;
        let bug = futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            panic!("a bug in the middle of a reply")
        });
        Ok(Box::pin(real.take(12).chain(bug)))
    }
}

#[tokio::test]
async fn a_turn_that_panics_still_ends_and_sori_goes_back_to_idle() {
    use sori_core::event::{Incomplete, Phase};
    let s = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let client = sori_core::provider::openai::OpenAi::new(&s.base_url(), sori_core::secrets::ApiKey::new(sori_testkit::TEST_API_KEY)).unwrap();
    let mut providers = providers(&s);
    providers.chat = Arc::new(BuggyChat(client));
    let (handle, mut events) = engine::spawn(Conversation::default(), providers, settings(), Arc::new(MemoryOutput::default()), None);
    let phase = handle.phase();
    let turn = handle.ask(TurnInput::Text("When will my order arrive?".into()));
    let (mut spoke, mut ended) = (false, None);
    while ended.is_none() {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await.expect("the turn ends, panic or not").unwrap() {
            Event::Status { phase: Phase::Speaking } => spoke = true,
            Event::TurnEnded { turn: t, incomplete, reason, .. } if t == turn => ended = Some((incomplete, reason)),
            _ => {}
        }
    }
    assert!(spoke, "the panic came while Sori was speaking");
    assert_eq!(ended, Some((true, Some(Incomplete::Internal))));
    match tokio::time::timeout(Duration::from_secs(5), events.recv()).await.unwrap().unwrap() {
        Event::Status { phase } => assert_eq!(phase, Phase::Idle),
        other => panic!("expected idle, got {other:?}"),
    }
    assert_eq!(*phase.borrow(), Phase::Idle, "the microphone is not left gated");
    // The engine goes on.
    handle.set_providers(common::providers(&s));
    let next = handle.ask_and_wait(TurnInput::Text("Thanks!".into())).await.unwrap();
    assert_eq!(next.heard, default_reply("Thanks!"));
}
