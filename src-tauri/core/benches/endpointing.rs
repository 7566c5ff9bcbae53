//! The endpointing benchmark: from the end of the user's speech to the
//! reply's first audio, through the engine against the testkit under its
//! typical latency model, with and without early transcription. Without, the
//! turn starts when the 600 ms end silence has run out; with, the utterance
//! is sent to speech-to-text at the 250 ms pause and the turn that starts at
//! 600 ms takes that transcript. Both are reported as a ratio to their
//! latency-model bound (the silence waited, then the transcription still
//! outstanding, the tokens of the chunk spoken first and the speech's first
//! byte), and the median saving is the number the README quotes.
//!
//! `cargo bench -p sori-core --bench endpointing [-- --turns N]` runs it in
//! full; under `cargo test` (no `--bench` argument) it runs a short form.

mod args;

use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::engine::{self, EngineHandle};
use sori_core::event::{Event, Phase};
use sori_core::provider::openai::OpenAi;
use sori_core::secrets::ApiKey;
use sori_core::settings::{Settings, EARLY_PAUSE_MS};
use sori_core::text::clauses::split_all;
use sori_core::text::SplitterConfig;
use sori_core::turn::TurnInput;
use sori_testkit::script::{default_reply, tokens_through};
use sori_testkit::{LatencyModel, ServerConfig, TestServer, TEST_API_KEY};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

const QUESTIONS: &[&str] =
    &["주문한 상품이 언제 도착하나요?", "When will my order arrive?", "환불은 어떻게 신청하나요?", "Can I change my delivery address?"];

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

/// Time from `t0` to the reply's first sound.
async fn first_audio(events: &mut UnboundedReceiver<Event>, t0: Instant) -> f64 {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await.expect("the turn spoke").expect("the engine runs") {
            Event::Status { phase: Phase::Speaking } => return t0.elapsed().as_secs_f64() * 1000.0,
            _ => continue,
        }
    }
}

/// Waits for the turn to end, so the next starts from quiet.
async fn ended(events: &mut UnboundedReceiver<Event>) {
    while !matches!(tokio::time::timeout(Duration::from_secs(20), events.recv()).await, Ok(Some(Event::TurnEnded { .. })) | Ok(None)) {}
}

/// One utterance whose speech ends now: the end silence is waited out as the
/// microphone would, the early request sent at the pause when `early`.
async fn utterance(engine: &EngineHandle, events: &mut UnboundedReceiver<Event>, speech: &[i16], end_silence_ms: u32, early: bool) -> f64 {
    let t0 = Instant::now();
    let with_silence = |ms: u32| [speech, &vec![0i16; ms as usize * 16]].concat();
    if early {
        tokio::time::sleep_until((t0 + Duration::from_millis(EARLY_PAUSE_MS as u64)).into()).await;
        engine.transcribe_early(with_silence(EARLY_PAUSE_MS), 16_000);
    }
    tokio::time::sleep_until((t0 + Duration::from_millis(end_silence_ms as u64)).into()).await;
    engine.ask(TurnInput::Audio { samples: with_silence(end_silence_ms), sample_rate: 16_000 });
    let ms = first_audio(events, t0).await;
    ended(events).await;
    ms
}

fn main() {
    let (full, turns) = args::run_length(16, 2);
    let latency = LatencyModel::typical();
    let server = TestServer::start_in_background(ServerConfig { latency, ..Default::default() }).expect("start the testkit");
    let settings = Settings::default();
    let end_silence = settings.end_silence_ms;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!(
        "Sori endpointing benchmark: {turns} utterances each way, end of speech to first audio, against sori-testkit ({})",
        if full { "full" } else { "short form" }
    );
    println!("end silence {end_silence} ms, early transcription at a {EARLY_PAUSE_MS} ms pause; latency model as the pipeline benchmark's");
    let (mut plain, mut early, mut plain_ratio, mut early_ratio) = (vec![], vec![], vec![], vec![]);
    runtime.block_on(async {
        let providers = OpenAi::new(&server.base_url(), ApiKey::new(TEST_API_KEY)).unwrap().providers();
        let (engine, mut events) =
            engine::spawn(Conversation::default(), providers, settings.turn_settings(), Arc::new(MemoryOutput::default()), None);
        for i in 0..turns + 1 {
            let question = QUESTIONS[i % QUESTIONS.len()];
            let seconds = 1.5 + (i % 3) as f64 * 0.5;
            let speech: Vec<i16> =
                (0..(16_000.0 * seconds) as usize).map(|k| ((k as f64 * (0.05 + i as f64 * 1e-4)).sin() * 7000.0) as i16).collect();
            // Both requests (early and whole) get the question's transcript.
            for ms in [EARLY_PAUSE_MS, end_silence] {
                server.set_transcript_for_samples(&[&speech[..], &vec![0i16; ms as usize * 16]].concat(), question);
            }
            // The same utterance both ways, so each pair differs only in that.
            for with_early in [false, true] {
                let ms = utterance(&engine, &mut events, &speech, end_silence, with_early).await;
                if i == 0 {
                    continue; // warm-up: connections, caches
                }
                let stt = |secs: f64| latency.stt(secs).as_secs_f64() * 1000.0;
                let rest = latency
                    .chat_token_at(
                        {
                            let reply = default_reply(question);
                            tokens_through(&reply, &split_all(&reply, SplitterConfig::default())[0])
                        } - 1,
                    )
                    .as_secs_f64()
                    * 1000.0
                    + latency.tts_first_byte_ms;
                let (bound, list, ratios) = if with_early {
                    let sent_at = EARLY_PAUSE_MS as f64;
                    let done = sent_at + stt(seconds + sent_at / 1000.0);
                    (done.max(end_silence as f64) + rest, &mut early, &mut early_ratio)
                } else {
                    (end_silence as f64 + stt(seconds + end_silence as f64 / 1000.0) + rest, &mut plain, &mut plain_ratio)
                };
                list.push(ms);
                ratios.push(ms / bound);
                let way = if with_early { "early" } else { "plain" };
                println!("{i:>2} {way:<6} {question:<34} end of speech → first audio {ms:6.0} ms  bound {bound:6.0} ms  {:.2}x", ms / bound);
            }
        }
    });
    let mut saved: Vec<f64> = plain.iter().zip(&early).map(|(p, e)| p - e).collect();
    let (p, e, saved) = (median(&mut plain), median(&mut early), median(&mut saved));
    println!(
        "median end of speech → first audio: without early transcription {p:.0} ms ({:.2}x its bound), with {e:.0} ms ({:.2}x its bound); median saving per utterance {saved:.0} ms",
        median(&mut plain_ratio),
        median(&mut early_ratio),
    );
    assert!(saved > 0.0, "early transcription must make answers start sooner");
}
