//! The pipeline benchmark: N turns, Korean and English, against the testkit
//! server under a stated latency model. It reports time-to-first-audio and
//! total time (median, p90), TTFA as a ratio to the model's lower bound
//! (STT + first token + tokens of the first sentence + TTS first byte), and
//! Sori's own overhead (TTFA minus the modelled server time of the chunk Sori
//! actually spoke first). For scale, the same turns run the classic sequential
//! design too (transcribe, wait for the whole reply, wait for all its audio).
//! A case asks for a reply with a stray `"` (an inch mark, `6.1"`) and
//! the same reply without it: one mark must not hold back the voice, so
//! their TTFA should match (within 1.1x).
//! Tool turns last (typed, against the sample shop): the first audio (the
//! model's preamble, or the filler when it said nothing and the tool is slow)
//! and the answer's first audio, each over its bound under the same model:
//! the preamble's first chunk; the first round's whole stream plus the
//! filler's 500 ms; the round trip (first round, the tools' measured time,
//! the answer's first chunk, its speech's first byte).
//!
//! `cargo bench -p sori-core --bench pipeline [-- --turns N]` runs it in full;
//! under `cargo test` (no `--bench` argument) it runs a short form so it cannot rot.

mod args;

use futures_util::StreamExt;
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::provider::openai::OpenAi;
use sori_core::provider::*;
use sori_core::secrets::ApiKey;
use sori_core::settings::Settings;
use sori_core::text::clauses::split_all;
use sori_core::text::SplitterConfig;
use sori_core::turn::{run_turn, Emitter, TurnInput, TurnOutcome, TurnSettings};
use sori_testkit::script::{default_reply, tokenize, tokens_through};
use sori_testkit::{LatencyModel, ServerConfig, TestServer, TEST_API_KEY};
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

const QUESTIONS: &[&str] = &[
    "주문한 상품이 언제 도착하나요?",
    "When will my order arrive?",
    "환불은 어떻게 신청하나요?",
    "Can I change my delivery address?",
    "배송지를 바꾸고 싶어요.",
    "How do I return a damaged item?",
];

struct Sample {
    ttfa: f64,
    total: f64,
    bound: f64,
    overhead: f64,
}

/// The first sentence of a reply, by its first sentence mark.
fn first_sentence(reply: &str) -> &str {
    let end = reply.char_indices().find(|&(i, c)| matches!(c, '.' | '?' | '!') && reply[i + 1..].starts_with(' ')).map(|(i, _)| i + 1);
    &reply[..end.unwrap_or(reply.len())]
}

fn pct(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = p * (values.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    values[lo] + (values[hi] - values[lo]) * (rank - lo as f64)
}

/// The classic sequential design: each step waits for the whole previous one.
async fn sequential(c: &OpenAi, samples: &[i16], settings: &Settings) -> f64 {
    let start = Instant::now();
    let text = c.transcribe(SttRequest { samples, sample_rate: 16_000, model: &settings.stt_model, language: None, prompt: None }).await.unwrap();
    let messages = Conversation::default().messages_for(&text);
    let mut stream = c.stream_chat(ChatRequest::new(&settings.chat_model, &messages)).await.unwrap();
    let mut reply = String::new();
    while let Some(Ok(ChatEvent::Text(t))) = stream.next().await {
        reply.push_str(&t);
    }
    let voice = SpeechRequest {
        text: &reply,
        model: &settings.tts_model,
        voice: &settings.voice,
        instructions: None,
        speed: 1.0,
        pitch: 0.0,
        format: AudioFormat::Mp3,
    };
    let mut audio = c.synthesize(voice).await.unwrap();
    while audio.next().await.is_some() {}
    start.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let (full, turns) = args::run_length(24, 4);
    let latency = LatencyModel::typical();
    let server = TestServer::start_in_background(ServerConfig { latency, ..Default::default() }).expect("start the testkit");
    let client = Arc::new(OpenAi::new(&server.base_url(), ApiKey::new(TEST_API_KEY)).unwrap());
    let settings = Settings::default();
    let turn_settings = settings.turn_settings();
    let providers = Providers::new(client.clone(), client.clone(), client.clone(), client.transfer().clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    println!("Sori pipeline benchmark: {turns} turns, Korean and English, against sori-testkit ({})", if full { "full" } else { "short form" });
    println!(
        "latency model: STT {} ms + {} ms per audio second; first token {} ms; {} tokens/s; TTS first byte {} ms, then {}x real time",
        latency.stt_base_ms,
        latency.stt_ms_per_audio_second,
        latency.chat_first_token_ms,
        latency.chat_tokens_per_second,
        latency.tts_first_byte_ms,
        latency.tts_realtime_factor
    );
    let mut samples = Vec::new();
    let mut sequential_ttfa = Vec::new();
    runtime.block_on(async {
        for i in 0..turns + 1 {
            let question = QUESTIONS[i % QUESTIONS.len()];
            let seconds = 1.5 + (i % 3) as f64 * 0.5;
            let audio: Vec<i16> = (0..(16_000.0 * seconds) as usize).map(|k| ((k as f64 * (0.05 + i as f64 * 1e-4)).sin() * 7000.0) as i16).collect();
            server.set_transcript_for_samples(&audio, question);
            let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
            let input = TurnInput::Audio { samples: audio.clone(), sample_rate: 16_000 };
            let outcome: TurnOutcome = run_turn(
                input,
                &Conversation::default(),
                &providers,
                &turn_settings,
                Arc::new(MemoryOutput::default()),
                Emitter::new(i as u64, tx),
                CancellationToken::new(),
            )
            .await;
            let reply = default_reply(question);
            assert_eq!(outcome.reply, reply, "the turn completed");
            if i == 0 {
                continue; // warm-up: connections, the server's schema validators
            }
            let first_chunk = split_all(&reply, SplitterConfig::default()).remove(0);
            let bound = latency.ttfa_lower_bound(seconds, tokens_through(&reply, first_sentence(&reply))).as_secs_f64() * 1000.0;
            let modelled = latency.ttfa_lower_bound(seconds, tokens_through(&reply, &first_chunk)).as_secs_f64() * 1000.0;
            let ttfa = outcome.metrics.ttfa_ms.expect("audio was played");
            samples.push(Sample { ttfa, total: outcome.metrics.total_ms, bound, overhead: ttfa - modelled });
            if sequential_ttfa.len() < turns.min(6) {
                sequential_ttfa.push(sequential(&client, &audio, &settings).await / bound);
            }
        }
    });
    let col = |f: &dyn Fn(&Sample) -> f64| -> (f64, f64) {
        let mut v: Vec<f64> = samples.iter().map(f).collect();
        (pct(&mut v, 0.5), pct(&mut v, 0.9))
    };
    let row = |name: &str, (median, p90): (f64, f64), unit: &str| println!("{name:<28}{median:>10.2}{p90:>10.2}  {unit}");
    println!("{:<28}{:>10}{:>10}", "", "median", "p90");
    row("time to first audio", col(&|s| s.ttfa), "ms");
    row("total (all audio received)", col(&|s| s.total), "ms");
    row("lower bound (1st sentence)", col(&|s| s.bound), "ms");
    row("TTFA / lower bound", col(&|s| s.ttfa / s.bound), "x");
    row("Sori's own overhead", col(&|s| s.overhead), "ms (TTFA minus modelled time of the first chunk)");
    println!(
        "{:<28}{:>10.2}{:>10}  ms of it: the splitter waits for the token after a boundary (\"3.5\", \"3,000\")",
        "  one-token lookahead",
        1000.0 / latency.chat_tokens_per_second,
        ""
    );
    let mut seq = sequential_ttfa.clone();
    row("sequential design / bound", (pct(&mut seq, 0.5), pct(&mut seq, 0.9)), "x (STT, whole reply, whole audio)");

    let (mut with_mark, mut without) = runtime.block_on(stray_quote(&server, &providers, &turn_settings, turns.clamp(3, 12)));
    let (q, p) = (pct(&mut with_mark, 0.5), pct(&mut without, 0.5));
    println!("{:<28}{q:>10.2}{:>10}  ms (the same reply without the mark: {p:.2} ms)", "TTFA, reply with 6.1\"", "");
    row("  with / without the mark", (q / p, pct(&mut with_mark, 0.9) / pct(&mut without, 0.9)), "x (one stray \" must not hold back the voice)");

    let tools = runtime.block_on(tool_turns(&server, &providers, &turn_settings, &latency, turns.clamp(3, 12)));
    println!("tool turns (typed; first round, the tool, the answer):");
    let tool_col = |f: &dyn Fn(&ToolSample) -> f64| -> (f64, f64) {
        let mut v: Vec<f64> = tools.iter().map(f).collect();
        (pct(&mut v, 0.5), pct(&mut v, 0.9))
    };
    row("  first audio (preamble)", tool_col(&|t| t.preamble), "ms");
    row("  first audio / bound", tool_col(&|t| t.preamble / t.preamble_bound), "x (the preamble's first chunk)");
    row("  answer's first audio", tool_col(&|t| t.answer), "ms");
    row("  answer / bound", tool_col(&|t| t.answer / t.answer_bound), "x (round 1, the tool, the answer's first chunk)");
    row("  tool time", tool_col(&|t| t.tool), "ms (lookup_order in SQLite)");
    row("  first audio (filler)", tool_col(&|t| t.filler), "ms (no preamble, an 800 ms tool)");
    row("  filler / bound", tool_col(&|t| t.filler / t.filler_bound), "x (round 1's stream + the 500 ms wait)");
}

struct ToolSample {
    preamble: f64,
    preamble_bound: f64,
    answer: f64,
    answer_bound: f64,
    tool: f64,
    filler: f64,
    filler_bound: f64,
}

/// A tool that takes a fixed time, so the filler is due.
struct SlowTool;

#[async_trait::async_trait]
impl sori_core::tools::Tool for SlowTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec { name: "check_warehouse".into(), description: "Asks the warehouse.".into(), parameters: serde_json::json!({"type": "object"}) }
    }

    async fn call(&self, _: serde_json::Value, _: CancellationToken) -> Result<String, sori_core::tools::ToolError> {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        Ok(r#"{"in_stock":3}"#.into())
    }
}

/// The deltas of a scripted first round as the testkit streams them: the
/// preamble's tokens, then one opening delta and 8-character pieces per call.
fn round_deltas(preamble: &str, arguments: &str) -> usize {
    tokenize(preamble).len() + 1 + arguments.chars().count().div_ceil(8)
}

async fn tool_turns(server: &TestServer, providers: &Providers, settings: &TurnSettings, latency: &LatencyModel, n: usize) -> Vec<ToolSample> {
    const PREAMBLE: &str = "잠시만요, 주문을 확인해 볼게요.";
    const ARGS: &str = r#"{"order_number":"A-1001"}"#;
    const ANSWER: &str = "주문하신 {number} 상품은 {expected_on}에 도착할 예정이에요. 배송은 {carrier}에서 맡고 있어요.";
    server.add_tool_reply("배송 조회", PREAMBLE, &[("lookup_order", ARGS)]);
    server.add_tool_answer("배송 조회", ANSWER);
    server.add_tool_reply("창고 확인", "", &[("check_warehouse", "{}")]);
    server.add_tool_answer("창고 확인", "재고가 {in_stock}개 있어요.");
    let dir = std::env::temp_dir().join(format!("sori-bench-tools-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut tools = sori_core::tools::builtin::sample_shop_tools(&dir, Some("C-001")).unwrap();
    tools.push(Arc::new(SlowTool));
    let providers = Providers { tools: sori_core::tools::Tools::new(tools), ..providers.clone() };
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let turn = |question: &'static str| {
        let providers = providers.clone();
        async move {
            let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
            let output = Arc::new(MemoryOutput::default());
            run_turn(
                TurnInput::Text(question.into()),
                &Conversation::default(),
                &providers,
                settings,
                output,
                Emitter::new(0, tx),
                CancellationToken::new(),
            )
            .await
        }
    };
    turn("A-1001 배송 조회 부탁해요").await; // warm-up: the filler's clip, connections
    turn("창고 확인 부탁해요").await;
    let preamble_chunk = split_all(PREAMBLE, SplitterConfig::default()).remove(0);
    let preamble_bound = ms(latency.chat_token_at(tokens_through(PREAMBLE, &preamble_chunk) - 1) + latency.tts_audio_at(0.0));
    let round_one = ms(latency.chat_token_at(round_deltas(PREAMBLE, ARGS) - 1));
    let filler_bound = ms(latency.chat_token_at(round_deltas("", "{}") - 1)) + 500.0;
    let mut out = Vec::new();
    for _ in 0..n {
        let looked_up = turn("A-1001 배송 조회 부탁해요").await;
        let answer_text: String = looked_up.reply.chars().skip(looked_up.answer_from).collect();
        let answer_text = answer_text.trim();
        assert!(answer_text.contains("2026-12-08"), "the answer came from the shop: {answer_text}");
        let answer_chunk = split_all(answer_text, SplitterConfig::default()).remove(0);
        let m = looked_up.metrics;
        let tool = m.tool_ms.expect("the tool ran");
        let answer_bound = round_one + tool + ms(latency.chat_token_at(tokens_through(answer_text, &answer_chunk) - 1) + latency.tts_audio_at(0.0));
        let silent = turn("창고 확인 부탁해요").await;
        out.push(ToolSample {
            preamble: m.ttfa_ms.expect("the preamble was heard"),
            preamble_bound,
            answer: m.answer_audio_ms.expect("the answer was heard"),
            answer_bound,
            tool,
            filler: silent.metrics.ttfa_ms.expect("the filler was heard"),
            filler_bound,
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// The TTFA of typed turns whose reply has a stray `"`, and of the same
/// reply without it, `n` of each (after a warm-up).
async fn stray_quote(server: &TestServer, providers: &Providers, settings: &TurnSettings, n: usize) -> (Vec<f64>, Vec<f64>) {
    const WITH: &str = "The screen is 6.1\" wide and very bright. It ships today from our Seoul warehouse by express courier. \
        It should reach you tomorrow afternoon, and the driver will text you before arriving. Is there anything else I can help you with?";
    server.add_reply("screen size", WITH);
    server.add_reply("display size", &WITH.replace('"', ""));
    let ttfa = |question: &'static str| async move {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let output = Arc::new(MemoryOutput::default());
        let input = TurnInput::Text(question.into());
        let outcome = run_turn(input, &Conversation::default(), providers, settings, output, Emitter::new(0, tx), CancellationToken::new()).await;
        outcome.metrics.ttfa_ms.expect("audio was played")
    };
    let (mut with_mark, mut without) = (Vec::new(), Vec::new());
    ttfa("What is the screen size?").await;
    for _ in 0..n {
        with_mark.push(ttfa("What is the screen size?").await);
        without.push(ttfa("What is the display size?").await);
    }
    (with_mark, without)
}
