//! The listening benchmark: the CPU cost of resampling (48 kHz microphone to
//! 16 kHz), voice activity and segmentation per second of audio, as a multiple
//! of real time on one core; and the delay from the end of speech to the
//! utterance being ready, over the hangover setting.
//!
//! `cargo bench -p sori-core --bench listening` runs it in full; under
//! `cargo test` (no `--bench` argument) it runs a short form.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use sori_core::audio::resample::To16k;
use sori_core::audio::segmenter::{SegmentEvent, SegmenterConfig, UtteranceSegmenter};
use sori_core::audio::vad::{NoiseGate, VoiceActivityDetector, WebRtcVad};
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use std::time::Instant;

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
}
