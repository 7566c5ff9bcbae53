//! The real SmolLM2 135M model (from the fixture script) in llama.cpp: its
//! own chat template shapes the prompt, replies stream, a cancel stops
//! sampling at once, the next turn reuses what the cache holds, and files
//! that are not whole models are refused with a reason.

use sori_llama::{Event, Finish, LlmError, LocalLlm, Message, Options, Request, Role, Stats};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

fn gguf() -> PathBuf {
    sori_testkit::fixtures::model("smollm2-135m-instruct").join("SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// One model for the whole file, as Sori keeps one per process.
fn model() -> &'static LocalLlm {
    static MODEL: OnceLock<LocalLlm> = OnceLock::new();
    MODEL.get_or_init(|| LocalLlm::load(&gguf(), Options { threads: 2, window: 2048 }).expect("SmolLM2 loads"))
}

const PERSONA: &str = "You are Sori, a friendly customer-service agent. Answer in one or two short sentences.";

fn ask(model: &LocalLlm, messages: Vec<Message>, max_tokens: u32) -> (String, Finish, Stats) {
    let (tx, rx) = mpsc::channel();
    let request = Request { messages, max_tokens, temperature: 0.0, seed: 1 };
    model.reply(request, Arc::new(AtomicBool::new(false)), move |e| tx.send(e).is_ok());
    let mut text = String::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(120)).expect("the model answers") {
            Event::Text(t) => text.push_str(&t),
            Event::Done(finish, stats) => return (text, finish, stats),
            Event::Error(e) => panic!("the model failed: {e}"),
        }
    }
}

#[test]
fn the_prompt_is_written_with_the_models_own_chat_template() {
    let prompt = model().render(&[Message::new(Role::System, PERSONA), Message::new(Role::User, "Where is my order?")]).unwrap();
    // SmolLM2 carries a ChatML template in its GGUF metadata.
    assert_eq!(prompt, format!("<|im_start|>system\n{PERSONA}<|im_end|>\n<|im_start|>user\nWhere is my order?<|im_end|>\n<|im_start|>assistant\n"));
    assert!(model().facts().name.to_lowercase().contains("smollm2"), "{:?}", model().facts());
}

#[test]
fn a_reply_streams_and_the_next_turn_reads_only_what_is_new() {
    // A model of its own: the other tests' replies would change what the cache holds.
    let model = LocalLlm::load(&gguf(), Options { threads: 2, window: 2048 }).unwrap();
    let mut messages = vec![Message::new(Role::System, PERSONA), Message::new(Role::User, "Hello! What is the capital of France?")];
    let (first, finish, stats) = ask(&model, messages.clone(), 40);
    assert!(!first.trim().is_empty(), "an empty reply");
    assert!(matches!(finish, Finish::Stop | Finish::Length), "{finish:?}");
    assert!(stats.generated_tokens > 0 && stats.generated_tokens <= 40, "{stats:?}");
    assert!(stats.tokens_per_second > 0.0, "{stats:?}");

    messages.push(Message::new(Role::Assistant, first.clone()));
    messages.push(Message::new(Role::User, "And of Germany?"));
    let (second, _, again) = ask(&model, messages, 40);
    assert!(!second.trim().is_empty());
    // The persona and the first question were still in the cache.
    assert!(again.reused_tokens >= stats.prompt_tokens, "reused {} of a first prompt of {}", again.reused_tokens, stats.prompt_tokens);
    assert!(again.prompt_tokens > again.reused_tokens);
}

#[test]
fn a_cancel_stops_sampling_at_the_next_token() {
    let (tx, rx) = mpsc::channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let messages = vec![Message::new(Role::System, PERSONA), Message::new(Role::User, "Tell me a very long story about a dragon.")];
    let request = Request { messages, max_tokens: 400, temperature: 0.0, seed: 1 };
    let flag = cancel.clone();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = seen.clone();
    model().reply(request, cancel, move |e| {
        if let Event::Text(_) = e {
            // Cancel as the fifth piece arrives, as barge-in does mid-reply.
            if counted.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
                flag.store(true, Ordering::SeqCst);
            }
        }
        tx.send(e).is_ok()
    });
    let stats = loop {
        match rx.recv_timeout(Duration::from_secs(120)).expect("the model answers") {
            Event::Done(finish, stats) => {
                assert_eq!(finish, Finish::Cancelled);
                break stats;
            }
            Event::Error(e) => panic!("{e}"),
            Event::Text(_) => {}
        }
    };
    // Not one token was sampled after the cancel (five pieces are at most
    // five tokens; a token that ends inside a character adds none).
    assert!(stats.generated_tokens <= 5, "{} tokens sampled", stats.generated_tokens);
    assert_eq!(seen.load(Ordering::SeqCst), 5);
}

#[test]
fn files_that_are_not_whole_models_are_refused_with_a_reason() {
    let dir = std::env::temp_dir().join(format!("sori-llama-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Half a download: the first megabyte of the real file.
    let half = dir.join("half.gguf");
    let bytes = std::fs::read(gguf()).unwrap();
    std::fs::write(&half, &bytes[..1 << 20]).unwrap();
    let not_gguf = dir.join("song.gguf");
    std::fs::write(&not_gguf, b"RIFF\0\0\0\0WAVEfmt not a model at all").unwrap();
    for path in [half, not_gguf, dir.join("missing.gguf")] {
        match LocalLlm::load(&path, Options::default()) {
            Err(LlmError::Load { path: p, reason }) => assert!(p.ends_with(".gguf") && !reason.is_empty()),
            Err(e) => panic!("{}: expected a load error, got {e}", path.display()),
            Ok(_) => panic!("{} loaded", path.display()),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
