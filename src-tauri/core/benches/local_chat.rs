//! The local chat benchmark, on this machine's CPU, with the test models:
//! SmolLM2 135M (GGUF Q4_1) in llama.cpp, Whisper base and the local voices.
//! Reports the model's load time; the time to the first token with the
//! persona not yet in the cache and with it cached (what the warm-up buys);
//! sampling speed with one and two threads; then whole spoken turns, all
//! three stages on this computer, Korean and English, with the history
//! growing: end of speech to first audio against the 1.5 s target, and the
//! peak memory.
//!
//! `cargo bench -p sori-core --bench local_chat` runs it in full (needs the
//! fixture models: `bash tests/fixtures/models.sh`); under `cargo test` (no
//! `--bench` argument) it runs a short form.

mod common;

use common::{median, peak_rss_mb};
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::provider::local::{LocalChat, LocalStt, LocalTts};
use sori_core::provider::{ChatMessage, ChatModel, Providers, Role, SpeechToText, TextToSpeech, TransferStats};
use sori_core::settings::Settings;
use sori_core::turn::{run_turn, Emitter, TurnInput};
use sori_llama::{Event, LocalLlm, Message, Options, Request};
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use sori_testkit::fixtures;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The spoken-turn target with the test models (issue: end of speech to first audio).
const TARGET_MS: f64 = 1500.0;

const TURNS: [(&str, &str, &str); 10] = [
    ("Hello, I have a question about my order.", "en-us", "en"),
    ("When will it arrive?", "en-us", "en"),
    ("Can I change the delivery address?", "en-us", "en"),
    ("How do I return it?", "en-us", "en"),
    ("Thank you for your help.", "en-us", "en"),
    ("안녕하세요, 주문 문의가 있어요.", "ko", "ko"),
    ("언제 도착하나요?", "ko", "ko"),
    ("배송지를 바꿀 수 있나요?", "ko", "ko"),
    ("반품은 어떻게 하나요?", "ko", "ko"),
    ("도와주셔서 감사합니다.", "ko", "ko"),
];

/// Tokens per second sampling a long reply with `threads` threads.
fn sampling_speed(gguf: &std::path::Path, threads: usize, tokens: u32) -> f64 {
    let llm = LocalLlm::load(gguf, Options { threads, window: 2048 }).expect("the model loads");
    let (tx, rx) = std::sync::mpsc::channel();
    let messages = vec![Message::new(sori_llama::Role::User, "Write a long story about a dragon who runs a bakery.")];
    llm.reply(Request { messages, max_tokens: tokens, temperature: 0.0, seed: 1 }, Arc::new(AtomicBool::new(false)), move |e| tx.send(e).is_ok());
    loop {
        match rx.recv_timeout(Duration::from_secs(300)).expect("an answer") {
            Event::Done(_, stats) => return stats.tokens_per_second,
            Event::Error(e) => panic!("{e}"),
            Event::Text(_) => {}
        }
    }
}

/// Milliseconds to the first piece of a short reply to `messages`.
async fn first_token(chat: &LocalChat, messages: Vec<ChatMessage>) -> f64 {
    use futures_util::StreamExt;
    let request = sori_core::provider::ChatRequest { max_tokens: Some(8), ..sori_core::provider::ChatRequest::new("", &messages) };
    let t = Instant::now();
    let mut stream = chat.stream_chat(request).await.unwrap();
    stream.next().await.unwrap().unwrap();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    while stream.next().await.is_some() {}
    ms
}

/// Milliseconds from a cancel (set as the tenth piece arrives, as barge-in
/// does mid-reply) to the model thread's end of the reply, over `runs` replies.
fn cancel_latency(gguf: &std::path::Path, runs: usize) -> Vec<f64> {
    let llm = LocalLlm::load(gguf, Options { threads: 2, window: 2048 }).expect("the model loads");
    (0..runs)
        .map(|run| {
            let (tx, rx) = std::sync::mpsc::channel();
            let cancel = Arc::new(AtomicBool::new(false));
            let (flag, mut pieces, mut at) = (cancel.clone(), 0, None);
            let messages = vec![Message::new(sori_llama::Role::User, format!("Tell me story number {run} about a dragon, a long one."))];
            llm.reply(Request { messages, max_tokens: 400, temperature: 0.0, seed: 1 }, cancel, move |e| {
                if matches!(e, Event::Text(_)) {
                    pieces += 1;
                    if pieces == 10 {
                        at = Some(Instant::now());
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                let done = matches!(e, Event::Done(..)).then(|| at.map(|t: Instant| t.elapsed()));
                tx.send(done).is_ok()
            });
            loop {
                if let Some(waited) = rx.recv_timeout(Duration::from_secs(300)).expect("an answer") {
                    break waited.expect("cancelled mid-reply").as_secs_f64() * 1000.0;
                }
            }
        })
        .collect()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    if std::env::var_os("SORI_ONNXRUNTIME").is_none() {
        std::env::set_var("SORI_ONNXRUNTIME", fixtures::onnx_runtime());
    }
    let dir = fixtures::model("smollm2-135m-instruct");
    let gguf = sori_core::provider::local::chat_model_file(&dir).expect("a GGUF file");
    let speeds: Vec<(usize, f64)> = [1, 2].iter().map(|&t| (t, sampling_speed(&gguf, t, if full { 128 } else { 16 }))).collect();
    let stops = cancel_latency(&gguf, if full { 10 } else { 2 });

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let persona = Settings::default().persona;
        let start = Instant::now();
        let chat = LocalChat::new(&dir);
        chat.model().await.expect("the chat model loads");
        let load_ms = start.elapsed().as_secs_f64() * 1000.0;

        // The first token of the first question, persona not yet read, then
        // of a second question with it in the cache (what the warm-up does).
        let ask = |question: &str| vec![ChatMessage::new(Role::System, persona.clone()), ChatMessage::new(Role::User, question)];
        let cold = first_token(&chat, ask("Where is my order?")).await;
        let cached = first_token(&chat, ask("How do I return it?")).await;
        let prompt_tokens = chat.last_stats().map_or(0, |s| s.prompt_tokens);

        let stt: Arc<dyn SpeechToText> = Arc::new(LocalStt::new(fixtures::model("whisper-base")));
        let tts: Arc<dyn TextToSpeech> = Arc::new(LocalTts::new(Some(fixtures::model("piper-en-us-joe"))).expect("espeak-ng"));
        stt.warm_up().await.unwrap();
        tts.warm_up().await.unwrap();
        let chat: Arc<dyn ChatModel> = Arc::new(chat);
        chat.warm_up(&[ChatMessage::new(Role::System, persona.clone())], &[]).await.unwrap();
        let providers = Providers::new(stt, chat, tts, Arc::new(TransferStats::default()));

        let mut settings = Settings::default();
        settings.max_reply_tokens = 60;
        settings.tts_provider = sori_core::settings::StageProvider::Local;
        settings.local_voice = "auto".into();
        let mut turn_settings = settings.turn_settings();
        let mut conversation = Conversation::with_persona(&persona);
        let turns = if full { &TURNS[..] } else { &TURNS[..2] };
        let (mut ttfa, mut ttft, mut transcript) = (Vec::new(), Vec::new(), Vec::new());
        for (text, voice, language) in turns {
            let (samples, sample_rate) = read_wav(&espeak_wav(text, voice, 0.0, 0.0).expect("espeak-ng and sox")).unwrap();
            turn_settings.language = Some(language.to_string());
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
            let output = Arc::new(MemoryOutput::default());
            let input = TurnInput::Audio { samples, sample_rate };
            let outcome = run_turn(input, &conversation, &providers, &turn_settings, output, Emitter::new(1, tx), CancellationToken::new()).await;
            drain.await.unwrap();
            let m = outcome.metrics;
            if full {
                eprintln!("    {language}: heard {:?}, first audio {:?} ms, said {:?}", outcome.user_text, m.ttfa_ms.map(|t| t.round()), outcome.reply);
            }
            if let (Some(a), Some(f), Some(s)) = (m.ttfa_ms, m.llm_first_token_ms, m.transcript_ms) {
                ttfa.push(a);
                ttft.push(f);
                transcript.push(s);
            }
            if let Some(user) = outcome.user_text.as_deref() {
                conversation.record(user, &outcome.heard);
            }
        }

        println!("local chat on {} CPU threads ({})", std::thread::available_parallelism().map_or(0, |n| n.get()), if full { "full" } else { "short" });
        println!("  SmolLM2 135M Q4_1 load: {load_ms:.0} ms");
        println!("  first token with the persona not yet cached: {cold:.0} ms; with it cached: {cached:.0} ms ({prompt_tokens} prompt tokens)");
        for (threads, tps) in &speeds {
            println!("  sampling with {threads} thread(s): {tps:.1} tokens per second");
        }
        println!(
            "  barge-in: sampling stopped {:.1} ms after the cancel (median; max {:.1}) over {} replies: target <= 50 ms {}",
            median(stops.clone()),
            stops.iter().cloned().fold(0.0, f64::max),
            stops.len(),
            if stops.iter().all(|&ms| ms <= 50.0) { "met" } else { "NOT met" }
        );
        if !ttfa.is_empty() {
            let max = ttfa.iter().cloned().fold(0.0, f64::max);
            println!(
                "  spoken turns, all local ({} in Korean and English): end of speech to transcript median {:.0} ms, to first token median {:.0} ms, to first audio median {:.0} ms (max {max:.0})",
                ttfa.len(),
                median(transcript),
                median(ttft),
                median(ttfa.clone())
            );
            let ratio = median(ttfa) / TARGET_MS;
            println!("  target: first audio <= {TARGET_MS:.0} ms median: ratio {ratio:.2} ({})", if ratio <= 1.0 { "met" } else { "NOT met" });
        }
        println!("  peak memory with all three models loaded: {:.0} MB", peak_rss_mb());
    });
}
