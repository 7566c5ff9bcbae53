//! The local speech benchmark, on this machine's CPU: Whisper base
//! (CTranslate2, int8) speech-to-text, and Piper (en_US joe, ONNX Runtime)
//! and espeak-ng speech, through the same providers a turn uses. Reports
//! the models' load time (first in the process, and again when a session is
//! rebuilt), the real-time factor of speech-to-text and the time from the end
//! of speech to the transcript, a clause's time to first audio and speech's
//! real-time factor per voice, and the peak memory with the models loaded.
//!
//! `cargo bench -p sori-core --bench local_speech` runs it in full (needs
//! the fixture models: `bash tests/fixtures/models.sh`); under `cargo test`
//! (no `--bench` argument) it runs a short form.

mod common;

use common::{median, peak_rss_mb};
use futures_util::StreamExt;
use sori_core::provider::local::{LocalStt, LocalTts};
use sori_core::provider::{AudioFormat, SpeechRequest, SpeechToText, SttRequest, TextToSpeech};
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use sori_testkit::fixtures;
use std::time::Instant;

const QUESTIONS: [(&str, &str, &str); 6] = [
    ("Where is my order?", "en-us", "en"),
    ("Can you check the delivery date for me?", "en-us", "en"),
    ("I would like to return these shoes, they are too small.", "en-us", "en"),
    ("주문한 상품이 언제 도착하나요?", "ko", "ko"),
    ("환불은 어떻게 신청하나요?", "ko", "ko"),
    ("배송지 주소를 바꾸고 싶어요.", "ko", "ko"),
];
const CLAUSES: [&str; 4] =
    ["네, 고객님.", "주문하신 상품은 내일 오후에 도착할 예정이에요.", "Sure.", "Your order left our warehouse this morning and arrives tomorrow."];

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 5 } else { 1 };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = fixtures::model("whisper-base");
        let start = Instant::now();
        let stt = LocalStt::new(&dir);
        stt.warm_up().await.expect("whisper-base loads");
        let load_first = start.elapsed().as_secs_f64() * 1000.0;
        // A new session (settings changed) finds the model already loaded.
        let start = Instant::now();
        let again = LocalStt::new(&dir);
        again.warm_up().await.unwrap();
        let load_again = start.elapsed().as_secs_f64() * 1000.0;

        let audio: Vec<(Vec<i16>, u32, &str)> = QUESTIONS
            .iter()
            .map(|(text, voice, lang)| {
                let (samples, rate) = read_wav(&espeak_wav(text, voice, 0.0, 0.0).expect("espeak-ng and sox")).unwrap();
                (samples, rate, *lang)
            })
            .collect();
        let (mut rtfs, mut latencies) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            for (samples, rate, lang) in &audio {
                let request = SttRequest { samples, sample_rate: *rate, model: "", language: Some(lang), prompt: None };
                let t = Instant::now();
                stt.transcribe(request).await.expect("transcribes");
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                latencies.push(ms);
                rtfs.push(ms / 1000.0 / (samples.len() as f64 / *rate as f64));
            }
        }

        if std::env::var_os("SORI_ONNXRUNTIME").is_none() {
            std::env::set_var("SORI_ONNXRUNTIME", fixtures::onnx_runtime());
        }
        let start = Instant::now();
        let tts = LocalTts::new(Some(fixtures::model("piper-en-us-joe"))).expect("espeak-ng");
        tts.warm_up().await.expect("the Piper voice loads");
        let voice_load = start.elapsed().as_secs_f64() * 1000.0;
        // (voice, clauses): Piper speaks the English ones under `auto`, espeak-ng the Korean ones.
        let voices: [(&str, &[&str]); 3] = [("piper", &CLAUSES[2..]), ("espeak-ng en", &CLAUSES[2..]), ("espeak-ng ko", &CLAUSES[..2])];
        let mut speech = Vec::new();
        for (name, clauses) in voices {
            let voice = if name == "espeak-ng en" { "en-us" } else { "auto" };
            let (mut first_audio, mut rtf) = (Vec::new(), Vec::new());
            for _ in 0..rounds * 3 {
                for clause in clauses {
                    let request = SpeechRequest { text: clause, model: "", voice, instructions: None, speed: 1.0, pitch: 0.0, format: AudioFormat::Pcm };
                    let t = Instant::now();
                    let mut stream = tts.synthesize(request).await.unwrap();
                    let first = stream.next().await.unwrap().unwrap();
                    first_audio.push(t.elapsed().as_secs_f64() * 1000.0);
                    let mut seconds = first.duration().as_secs_f64();
                    while let Some(pcm) = stream.next().await {
                        seconds += pcm.unwrap().duration().as_secs_f64();
                    }
                    rtf.push(t.elapsed().as_secs_f64() / seconds);
                }
            }
            speech.push((name, first_audio, rtf));
        }
        println!("local speech on {} CPU threads ({})", std::thread::available_parallelism().map_or(0, |n| n.get()), if full { "full" } else { "short" });
        println!("  whisper-base load: first {load_first:.0} ms, again in a new session {load_again:.1} ms");
        println!(
            "  speech-to-text: real-time factor median {:.3} (max {:.3}); end of speech to transcript median {:.0} ms (max {:.0}) over {} utterances of 1-4 s",
            median(rtfs.clone()),
            rtfs.iter().cloned().fold(0.0, f64::max),
            median(latencies.clone()),
            latencies.iter().cloned().fold(0.0, f64::max),
            latencies.len()
        );
        println!("  Piper voice load: {voice_load:.0} ms");
        for (name, first_audio, rtf) in &speech {
            println!(
                "  speech ({name}): a clause's first audio median {:.0} ms (max {:.0}); real-time factor median {:.3}",
                median(first_audio.clone()),
                first_audio.iter().cloned().fold(0.0, f64::max),
                median(rtf.clone())
            );
        }
        println!("  peak memory with the model loaded: {:.0} MB", peak_rss_mb());
        println!(
            "  targets: speech-to-text <= 0.3x real time: {}; a clause's first audio <= 300 ms with every voice: {}",
            if median(rtfs) <= 0.3 { "met" } else { "NOT met" },
            if speech.iter().all(|(_, first_audio, _)| median(first_audio.clone()) <= 300.0) { "met" } else { "NOT met" }
        );
    });
}
