//! The Realtime benchmark: spoken turns (push-to-talk: the recording goes
//! up at 24 kHz and is committed) and typed ones, Korean and English, over a
//! real WebSocket to the testkit's fake Realtime server under the stated
//! latency model, next to the same spoken questions in chained mode.
//!
//! Realtime TTFA runs from the question leaving Sori (the key released, or
//! Enter) to the first audio handed to the speaker. The fake's first audio
//! comes the model's first four tokens plus the speech's first byte after
//! `response.create` (its clock starts when the request arrives), so that is
//! the bound; Sori's own overhead is TTFA minus it (resampling, the upload,
//! the socket, parsing, decoding). Chained
//! figures are the pipeline benchmark's: TTFA over the bound of the chunk
//! Sori spoke first (STT, the tokens of that chunk, the speech's first byte).
//!
//! `cargo bench -p sori-core --bench realtime [-- --turns N]` runs it in full;
//! under `cargo test` (no `--bench` argument) it runs a short form so it cannot rot.

mod args;

use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::provider::openai::OpenAi;
use sori_core::provider::Providers;
use sori_core::realtime::link::{Context, Link, LinkSetup};
use sori_core::secrets::ApiKey;
use sori_core::settings::Settings;
use sori_core::text::clauses::split_all;
use sori_core::text::SplitterConfig;
use sori_core::turn::{Emitter, TurnInput, TurnOutcome};
use sori_testkit::script::{tokenize, tokens_through};
use sori_testkit::{LatencyModel, ServerConfig, TestServer, TEST_API_KEY};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const QUESTIONS: &[(&str, &str)] = &[
    ("ko", "주문한 상품이 언제 도착하나요?"),
    ("en", "When will my order arrive?"),
    ("ko", "환불은 어떻게 신청하나요?"),
    ("en", "Can I change my delivery address?"),
];

fn pct(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = p * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (rank - lo as f64)
}

/// The fake server's first audio after `response.create` for `reply`.
fn realtime_bound(latency: &LatencyModel, reply: &str) -> f64 {
    (latency.chat_token_at(tokenize(reply).len().min(4)) + latency.tts_audio_at(0.0)).as_secs_f64() * 1000.0
}

#[derive(Default)]
struct Column {
    ttfa: Vec<f64>,
    ratio: Vec<f64>,
    overhead: Vec<f64>,
}

impl Column {
    fn add(&mut self, ttfa: f64, bound: f64) {
        self.ttfa.push(ttfa);
        self.ratio.push(ttfa / bound);
        self.overhead.push(ttfa - bound);
    }
}

fn main() {
    let (full, turns) = args::run_length(24, 4);
    let latency = LatencyModel::typical();
    let server = TestServer::start_in_background(ServerConfig { latency, ..Default::default() }).expect("start the testkit");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = Arc::new(OpenAi::new(&server.base_url(), ApiKey::new(TEST_API_KEY)).unwrap());
    let providers = Providers::new(client.clone(), client.clone(), client.clone(), client.transfer().clone());

    println!(
        "Sori Realtime benchmark: {turns} turns of each kind, Korean and English, against sori-testkit ({})",
        if full { "full" } else { "short form" }
    );
    println!(
        "latency model: first token {} ms; {} tokens/s; speech first byte {} ms, then {}x real time; STT {} ms + {} ms per audio second (chained)",
        latency.chat_first_token_ms,
        latency.chat_tokens_per_second,
        latency.tts_first_byte_ms,
        latency.tts_realtime_factor,
        latency.stt_base_ms,
        latency.stt_ms_per_audio_second
    );
    let (mut spoken, mut typed, mut chained) = (Column::default(), Column::default(), Column::default());
    runtime.block_on(async {
        for i in 0..turns + 1 {
            let (language, question) = QUESTIONS[i % QUESTIONS.len()];
            let settings = Settings { language: language.into(), ..Default::default() };
            let turn_settings = settings.turn_settings();
            let key = Some(ApiKey::new(TEST_API_KEY).unwrap());
            let setup = LinkSetup::new(server.base_url(), key, "gpt-realtime", sori_core::app::realtime::session(&settings));
            let (events, _rx) = tokio::sync::mpsc::unbounded_channel();
            let link = Arc::new(Link::start(setup, Context::default(), events));
            // Connected before the clock starts, as in a running app.
            drop(link.begin().await.expect("the fake server connects"));
            let speech24 = sori_testkit::audio::synthesize(question, "alloy", 1.0);
            let audio = sori_core::audio::resample::resample(&speech24, 24_000, 16_000).unwrap();
            server.set_transcript_for_samples(&audio, question);
            let realtime_turn = |input: TurnInput| {
                let (link, providers, turn_settings) = (link.clone(), providers.clone(), turn_settings.clone());
                async move {
                    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
                    let out = Arc::new(MemoryOutput::default());
                    sori_core::realtime::turn::run_turn(
                        input.into(),
                        link,
                        &providers,
                        &turn_settings,
                        out,
                        Emitter::new(1, tx),
                        CancellationToken::new(),
                    )
                    .await
                }
            };
            let by_voice: TurnOutcome = realtime_turn(TurnInput::Audio { samples: audio.clone(), sample_rate: 16_000 }).await;
            let by_text: TurnOutcome = realtime_turn(TurnInput::Text(question.into())).await;
            let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
            let chain = sori_core::turn::run_turn(
                TurnInput::Audio { samples: audio.clone(), sample_rate: 16_000 },
                &Conversation::default(),
                &providers,
                &turn_settings,
                Arc::new(MemoryOutput::default()),
                Emitter::new(1, tx),
                CancellationToken::new(),
            )
            .await;
            for o in [&by_voice, &by_text, &chain] {
                assert!(!o.incomplete && !o.reply.is_empty(), "the turn completed: {o:?}");
            }
            if i == 0 {
                continue; // warm-up: connections, the server's schema validators
            }
            spoken.add(by_voice.metrics.ttfa_ms.expect("audio played"), realtime_bound(&latency, &by_voice.reply));
            typed.add(by_text.metrics.ttfa_ms.expect("audio played"), realtime_bound(&latency, &by_text.reply));
            let first_chunk = split_all(&chain.reply, SplitterConfig::default()).remove(0);
            let seconds = audio.len() as f64 / 16_000.0;
            let chained_bound = latency.ttfa_lower_bound(seconds, tokens_through(&chain.reply, &first_chunk)).as_secs_f64() * 1000.0;
            chained.add(chain.metrics.ttfa_ms.expect("audio played"), chained_bound);
        }
    });
    println!("{:<34}{:>10}{:>10}", "", "median", "p90");
    let row = |name: &str, v: &[f64], unit: &str| println!("{name:<34}{:>10.2}{:>10.2}  {unit}", pct(v, 0.5), pct(v, 0.9));
    for (name, c) in [("Realtime, spoken (push-to-talk)", &spoken), ("Realtime, typed", &typed), ("chained, spoken", &chained)] {
        println!("{name}:");
        row("  time to first audio", &c.ttfa, "ms");
        row("  TTFA / bound", &c.ratio, "x");
        row("  Sori's own overhead", &c.overhead, "ms (TTFA minus the modelled server time)");
    }
    let gain = pct(&chained.ttfa, 0.5) - pct(&spoken.ttfa, 0.5);
    println!("Realtime answers a spoken question {gain:.0} ms sooner at the median under this model (no separate transcription).");
}
