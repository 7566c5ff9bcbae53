//! Voice activity and segmentation on real speech: espeak-ng utterances in
//! Korean and English, padded with silence, clean and with low noise. The
//! detected start and end must be within 100 ms and 300 ms of the truth
//! (taken from the clean speech's own energy), nothing is found in silence,
//! and the pre-roll keeps the first 100 ms of speech.

use sori_core::audio::segmenter::{SegmentEvent, SegmenterConfig, UtteranceSegmenter};
use sori_core::audio::vad::{NoiseGate, VoiceActivityDetector, WebRtcVad};
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};

const FRAME: usize = 320; // 20 ms at 16 kHz

/// Speech start and end (in samples) by energy: the first and last 10 ms
/// block louder than -40 dBFS.
fn truth(samples: &[i16]) -> (usize, usize) {
    let loud: Vec<usize> = samples
        .chunks(160)
        .enumerate()
        .filter(|(_, b)| (b.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / b.len() as f64).sqrt() > 327.0)
        .map(|(i, _)| i * 160)
        .collect();
    (*loud.first().expect("speech"), loud.last().unwrap() + 160)
}

/// Deterministic low noise (about -45 dBFS: SNR well above what the VAD needs).
fn add_noise(samples: &mut [i16], seed: u32) {
    let mut x = seed;
    for s in samples.iter_mut() {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *s = s.saturating_add(((x >> 16) as i32 % 360 - 180) as i16);
    }
}

fn segment(samples: &[i16], aggressiveness: u8) -> Vec<SegmentEvent> {
    let mut vad = NoiseGate::new(WebRtcVad::new(aggressiveness));
    let mut seg = UtteranceSegmenter::new(SegmenterConfig::default());
    samples.chunks_exact(FRAME).filter_map(|f| seg.push(f, vad.is_speech(f))).collect()
}

#[test]
fn utterances_are_found_where_they_are_spoken() {
    for (text, voice) in [("주문한 상품이 언제 도착하나요?", "ko"), ("When will my order arrive?", "en"), ("환불은 어떻게 신청하나요?", "ko")]
    {
        let (clean, rate) = read_wav(&espeak_wav(text, voice, 0.0, 0.0).expect("espeak-ng and sox (installed by .ci/setup)")).unwrap();
        assert_eq!(rate, 16_000);
        let (speech_start, speech_end) = truth(&clean);
        for (noisy, aggressiveness) in [(false, 2), (true, 2), (true, 3)] {
            // 0.7 s of silence before, 1.5 s after.
            let mut audio = vec![0i16; 11_200];
            audio.extend_from_slice(&clean);
            audio.extend(std::iter::repeat_n(0i16, 24_000));
            if noisy {
                add_noise(&mut audio, 7);
            }
            let events = segment(&audio, aggressiveness);
            let case = format!("{text} ({voice}, noise {noisy}, mode {aggressiveness})");
            let utterances: Vec<_> = events
                .iter()
                .filter_map(|e| match e {
                    SegmentEvent::SpeechEnded(u) => Some(u),
                    _ => None,
                })
                .collect();
            let summary: Vec<(u64, u64)> = utterances.iter().map(|u| (u.speech_start, u.speech_end)).collect();
            assert_eq!(utterances.len(), 1, "{case}: utterances (start, end frames) {summary:?}");
            let u = utterances[0];
            let to_ms = |samples: i64| samples as f64 / 16.0;
            let start_error = to_ms((u.speech_start as usize * FRAME) as i64 - (11_200 + speech_start) as i64);
            let end_error = to_ms((u.speech_end as usize * FRAME) as i64 - (11_200 + speech_end) as i64);
            assert!(start_error.abs() <= 100.0, "{case}: start off by {start_error} ms");
            assert!(end_error.abs() <= 300.0, "{case}: end off by {end_error} ms");
            // Pre-roll: the utterance begins at least 100 ms before the true start.
            let first_sample = u.first_frame as usize * FRAME;
            assert!(first_sample + 1600 <= 11_200 + speech_start, "{case}: pre-roll starts at {} ms", to_ms(first_sample as i64));
            eprintln!("{case}: start {start_error:+.0} ms, end {end_error:+.0} ms");
        }
    }
}

#[test]
fn nothing_is_found_in_silence_or_low_noise() {
    let mut audio = vec![0i16; 16_000 * 5];
    assert!(segment(&audio, 0).is_empty());
    add_noise(&mut audio, 3);
    assert!(segment(&audio, 2).is_empty());
}
