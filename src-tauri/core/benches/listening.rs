//! The listening benchmark: the CPU cost of resampling (48 kHz microphone to
//! 16 kHz), voice activity and segmentation per second of audio, as a multiple
//! of real time on one core; the delay from the end of speech to the
//! utterance being ready, over the hangover setting; and the microphone's
//! cleaning (echo cancellation and noise suppression): its cost per 10 ms
//! frame on one core, and the delay it adds to the capture path.
//!
//! `cargo bench -p sori-core --bench listening` runs it in full; under
//! `cargo test` (no `--bench` argument) it runs a short form.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use sori_core::audio::echo::{Cleaner, Cleanup, EchoReference};
use sori_core::audio::resample::To16k;
use sori_core::audio::segmenter::{SegmentEvent, SegmenterConfig, UtteranceSegmenter};
use sori_core::audio::vad::{NoiseGate, VoiceActivityDetector, WebRtcVad};
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// 16 kHz to 48 kHz, as a microphone would deliver it.
fn to_48k(samples: &[i16]) -> Vec<f32> {
    let mut r = Fft::<f32>::new(16_000, 48_000, 1024, 1, FixedSync::Both).unwrap();
    let input: Vec<f32> = samples.iter().map(|&s| s as f32 / 32768.0).collect();
    let needed = r.process_all_needed_output_len(input.len());
    let mut out = vec![0.0f32; needed];
    let (_, produced) = r
        .process_all_into_buffer(
            &InterleavedSlice::new(&input, 1, input.len()).unwrap(),
            &mut InterleavedSlice::new_mut(&mut out, 1, needed).unwrap(),
            input.len(),
            None,
        )
        .unwrap();
    out.truncate(produced);
    out
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let repeats = if full { 40 } else { 2 };
    // Speech with silences between, Korean and English, and a little noise.
    let mut audio16: Vec<i16> = Vec::new();
    let mut truths: Vec<usize> = Vec::new(); // end of each utterance's speech, in 16 kHz samples
    for (text, voice) in [("주문한 상품이 언제 도착하나요?", "ko"), ("When will my order arrive?", "en"), ("환불은 어떻게 신청하나요?", "ko")]
    {
        let (speech, _) = read_wav(&espeak_wav(text, voice, 0.0, 0.0).expect("espeak-ng and sox")).unwrap();
        let loud = speech
            .chunks(160)
            .enumerate()
            .rfind(|(_, b)| (b.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / b.len() as f64).sqrt() > 327.0)
            .map(|(i, _)| i)
            .unwrap();
        audio16.extend(std::iter::repeat_n(0i16, 16_000));
        truths.push(audio16.len() + (loud + 1) * 160);
        audio16.extend_from_slice(&speech);
    }
    audio16.extend(std::iter::repeat_n(0i16, 24_000));
    let mut x = 9u32;
    for s in audio16.iter_mut() {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *s = s.saturating_add(((x >> 16) as i32 % 200 - 100) as i16);
    }
    let mic = to_48k(&audio16);
    let seconds = audio16.len() as f64 / 16_000.0;

    let config = SegmenterConfig::default();
    let mut best = f64::MAX;
    let mut delays: Vec<f64> = Vec::new();
    for round in 0..repeats {
        let mut resampler = To16k::new(48_000).unwrap();
        let mut vad = NoiseGate::new(WebRtcVad::new(2));
        let mut segmenter = UtteranceSegmenter::new(config);
        let mut ready_at: Vec<u64> = Vec::new();
        let started = Instant::now();
        // As a device delivers: 10 ms at a time.
        for piece in mic.chunks(480) {
            resampler.push(piece, |frame| {
                let speech = vad.is_speech(frame);
                if let Some(SegmentEvent::SpeechEnded(_)) = segmenter.push(frame, speech) {
                    ready_at.push(segmenter.next_frame());
                }
            });
        }
        best = best.min(started.elapsed().as_secs_f64());
        if round == 0 {
            assert_eq!(ready_at.len(), truths.len(), "every utterance was found once");
            // Ready when its last frame is processed; the resampler's own delay shifts frames a little.
            delays = ready_at.iter().zip(&truths).map(|(&frame, &truth)| (frame as f64 * 320.0 - truth as f64) / 16.0).collect();
        }
    }
    delays.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "Sori listening benchmark ({}): {seconds:.1} s of 48 kHz speech and silence, Korean and English",
        if full { "full" } else { "short form" }
    );
    println!(
        "resample + voice activity + segmentation: {:.0}x real time on one core ({:.2} ms per second of audio)",
        seconds / best,
        best * 1000.0 / seconds
    );
    println!(
        "end of speech -> utterance ready: median {:.0} ms, max {:.0} ms, with the hangover set to {} ms (over it: {:+.0} ms median)",
        delays[delays.len() / 2],
        delays.last().unwrap(),
        config.end_silence_ms,
        delays[delays.len() / 2] - config.end_silence_ms as f64
    );
    cleaning(&audio16, repeats);
}

/// The cleaner on a laptop's microphone: the user's speech plus Sori's voice
/// (the same audio, shifted by half its length) 50 ms later and 6 dB down.
fn cleaning(near: &[i16], repeats: usize) {
    let n = near.len() - near.len() % 320;
    let far: Vec<i16> = (0..n).map(|i| near[(i + n / 2) % n]).collect();
    let mic: Vec<i16> = (0..n).map(|i| near[i].saturating_add(if i >= 800 { far[i - 800] / 2 } else { 0 })).collect();
    let seconds = n as f64 / 16_000.0;
    let mut best = f64::MAX;
    let mut out = Vec::new();
    for _ in 0..repeats.max(1) {
        let reference = Arc::new(EchoReference::new());
        let mut cleaner = Cleaner::new(Cleanup { echo: true, noise: true, gain: false }, Some(reference.clone())).unwrap();
        let t0 = Instant::now();
        let mut spent = Duration::ZERO;
        out.clear();
        for (k, frame) in mic.chunks_exact(320).enumerate() {
            let at = t0 + Duration::from_millis(20 * k as u64);
            reference.write(&far[k * 320..k * 320 + 320], 1, 16_000, at, |s| s as f32 / 32768.0);
            let mut f = frame.to_vec();
            let started = Instant::now();
            cleaner.process(&mut f, at + Duration::from_micros(19_937));
            spent += started.elapsed();
            out.extend(f);
        }
        best = best.min(spent.as_secs_f64());
    }
    let per_frame_us = best * 1e6 / (seconds * 100.0);
    println!("echo cancellation + noise suppression: {per_frame_us:.0} µs per 10 ms frame on one core ({:.3} of real time)", best / seconds);
    // The delay it adds: where the cleaned signal lines up best with the user's own speech.
    let lag = (0..64).max_by_key(|&lag| (lag..n).map(|i| out[i] as i64 * near[i - lag] as i64).sum::<i64>()).unwrap_or(0);
    println!(
        "added latency on the capture path: {:.1} ms of signal delay, plus {:.2} ms of processing per 20 ms frame",
        lag as f64 / 16.0,
        per_frame_us * 2.0 / 1000.0
    );
}
