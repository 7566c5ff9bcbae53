//! The chat model on this computer (SmolLM2 135M from the fixture script, in
//! llama.cpp) through the turn a window or `sori-cli` runs: the reply
//! streams through the clause splitter into the local voice, the persona is
//! read into the model's cache at warm-up, barge-in stops sampling at once,
//! and a folder with no model says how to install one.

use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::event::Event;
use sori_core::provider::local::{LocalChat, LocalTts};
use sori_core::provider::{ChatMessage, ChatModel, ChatRequest, Providers, Role, TransferStats};
use sori_core::settings::{Settings, StageProvider};
use sori_core::turn::{run_turn, Emitter, TurnInput, TurnSettings};
use sori_testkit::fixtures;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

fn providers(chat: Arc<LocalChat>) -> Providers {
    // Speech-to-text is not used by typed turns; espeak-ng speaks.
    let tts = Arc::new(LocalTts::new(None).expect("espeak-ng is installed"));
    let stt = Arc::new(sori_core::provider::local::LocalStt::new(fixtures::model("whisper-base")));
    Providers::new(stt, chat, tts, Arc::new(TransferStats::default()))
}

fn settings(max_tokens: u32) -> TurnSettings {
    let mut s = Settings { tts_provider: StageProvider::Local, local_voice: "en-us".into(), max_reply_tokens: max_tokens, ..Settings::default() };
    s.language = "en".into();
    // Greedy sampling: the same reply every run.
    TurnSettings { temperature: Some(0.0), ..s.turn_settings() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_turn_streams_the_models_reply_into_speech_clause_by_clause() {
    let chat = Arc::new(LocalChat::new(fixtures::model("smollm2-135m-instruct")));
    let conversation = Conversation::default();
    // The warm-up reads the persona into the cache: the turn then reuses it.
    chat.warm_up(&[ChatMessage::new(Role::System, conversation.persona.clone())], &[]).await.expect("the model loads");
    let output = Arc::new(MemoryOutput::default());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let input = TurnInput::Text("Hi! Can you tell me about your return policy?".into());
    let outcome =
        run_turn(input, &conversation, &providers(chat.clone()), &settings(80), output.clone(), Emitter::new(1, tx), CancellationToken::new()).await;

    let mut deltas = 0;
    let mut chunks = Vec::new();
    while let Ok(event) = rx.try_recv() {
        match event {
            Event::AssistantDelta { .. } => deltas += 1,
            Event::AssistantSpeaking { text, .. } => chunks.push(text),
            Event::Error { message, .. } => panic!("the turn failed: {message}"),
            _ => {}
        }
    }
    assert!(!outcome.incomplete || outcome.reason == Some(sori_core::event::Incomplete::MaxLength), "{outcome:?}");
    assert!(outcome.reply.split_whitespace().count() >= 3, "the model said {:?}", outcome.reply);
    assert!(deltas >= 3, "the reply streamed in {deltas} pieces");
    assert!(!chunks.is_empty() && chunks.concat().split_whitespace().count() >= 3, "spoken chunks: {chunks:?}");
    assert!(outcome.metrics.llm_first_token_ms.is_some() && outcome.metrics.ttfa_ms.is_some(), "{:?}", outcome.metrics);
    let seconds = output.take_audio().duration().as_secs_f64();
    assert!(seconds > 0.5, "{seconds} s of speech");
    let stats = chat.last_stats().expect("the reply's cost");
    assert!(stats.reused_tokens >= 100, "the persona came from the cache: {stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_reply_stops_sampling_at_the_next_token() {
    use futures_util::StreamExt;
    // A model of its own (one per folder), so only this reply is counted.
    let fixture = fixtures::model("smollm2-135m-instruct");
    let dir = std::env::temp_dir().join(format!("sori-chat-stop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = sori_core::provider::local::chat_model_file(&fixture).unwrap();
    let own = dir.join(file.file_name().unwrap());
    if !own.exists() {
        std::fs::hard_link(&file, &own).or_else(|_| std::fs::copy(&file, &own).map(|_| ())).unwrap();
    }
    let chat = LocalChat::new(&dir);
    let messages = [ChatMessage::new(Role::User, "Tell me a very long story about a dragon and a baker.")];
    let request = ChatRequest { max_tokens: Some(400), temperature: Some(0.0), ..ChatRequest::new("", &messages) };
    let mut stream = chat.stream_chat(request).await.expect("the model loads");
    let mut pieces = 0;
    while pieces < 8 {
        stream.next().await.expect("more reply").expect("no error");
        pieces += 1;
    }
    // Barge-in: the engine drops the stream.
    drop(stream);
    let model = chat.model().await.unwrap();
    let stats = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Some(s) = model.last_stats() {
                return s;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the reply stopped");
    // Eight pieces read; at most a few more were in the channel when it closed.
    assert!(stats.generated_tokens <= 12, "{} tokens sampled", stats.generated_tokens);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_folder_with_no_model_says_how_to_install_one() {
    let missing = std::env::temp_dir().join(format!("sori-no-chat-{}", std::process::id())).join("qwen2.5-1.5b-instruct");
    let chat = LocalChat::new(&missing);
    let e = chat.warm_up(&[], &[]).await.expect_err("no model there");
    assert!(
        e.message.contains("qwen2.5-1.5b-instruct is not installed") && e.message.contains("sori-cli models install qwen2.5-1.5b-instruct"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_cannot_call_tools_answers_from_what_the_agent_looked_up_first() {
    // SmolLM2 135M was not taught tool calls: offered tools, it makes answers up.
    let chat = Arc::new(LocalChat::new(fixtures::model("smollm2-135m-instruct")));
    assert!(!chat.calls_tools());
    let dir = std::env::temp_dir().join(format!("sori-local-prefetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let providers = providers(chat.clone()).with_tools(sori_core::tools::builtin::sample_tools(&dir, Some("C-002")).unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let input = TurnInput::Text("When will my order B-2001 arrive?".into());
    let outcome = run_turn(
        input,
        &Conversation::default(),
        &providers,
        &settings(40),
        Arc::new(MemoryOutput::default()),
        Emitter::new(1, tx),
        CancellationToken::new(),
    )
    .await;
    let mut called = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let Event::ToolStarted { name, arguments, .. } = event {
            called.push((name, arguments));
        }
    }
    assert_eq!(called, [("lookup_order".to_string(), r#"{"order_number":"B-2001"}"#.to_string())]);
    // The lookup went to the model as the turn's call and result, before its answer.
    let kept = outcome.messages();
    assert_eq!(kept.len(), 4, "{kept:?}");
    assert!(kept[2].content.contains("\"expected_on\":\"2026-12-10\""), "{}", kept[2].content);
    assert!(!outcome.reply.trim().is_empty() && !outcome.reply.contains("<tool_call>"), "{}", outcome.reply);
    let _ = std::fs::remove_dir_all(&dir);
}
