//! Capture on the rig's virtual microphone, with real timing: espeak-ng speech
//! played into it is found where it was spoken (start within 100 ms, end
//! within 300 ms), the pre-roll keeps the first syllable, silence yields
//! nothing, and unloading the microphone is reported and recovered from.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use sori_core::audio::capture::{Capture, CaptureEvent};
use sori_core::audio::segmenter::{SegmentEvent, SegmenterConfig, UtteranceSegmenter};
use sori_core::audio::vad::{NoiseGate, VoiceActivityDetector, WebRtcVad};
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use std::process::Command;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static MIC: Mutex<()> = Mutex::new(());

fn envelope(samples: &[i16]) -> Vec<f64> {
    samples.chunks(160).map(|b| (b.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / b.len() as f64).sqrt()).collect()
}

/// Where `needle` (10 ms blocks) best lines up inside `hay`.
fn best_lag(hay: &[f64], needle: &[f64]) -> usize {
    (0..hay.len().saturating_sub(needle.len()))
        .max_by(|&a, &b| {
            let score = |lag: usize| needle.iter().zip(&hay[lag..]).map(|(x, y)| x * y).sum::<f64>();
            score(a).partial_cmp(&score(b)).unwrap()
        })
        .unwrap_or(0)
}

fn capture_for(seconds: f64, during: impl FnOnce()) -> Vec<i16> {
    let (tx, rx) = mpsc::channel();
    let capture = Capture::start(None, tx).expect("the rig's microphone (run through tests/rig/with-rig.sh)");
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    during();
    while started.elapsed() < Duration::from_secs_f64(seconds) {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(capture);
    rx.try_iter()
        .filter_map(|e| match e {
            CaptureEvent::Frame { samples, .. } => Some(samples),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn speech_played_into_the_microphone_is_found_where_it_was_spoken() {
    common::require_rig();
    let _one = MIC.lock().unwrap_or_else(|e| e.into_inner());
    for (text, voice) in [("주문한 상품이 언제 도착하나요?", "ko"), ("When will my order arrive?", "en")] {
        let wav = espeak_wav(text, voice, 0.5, 1.0).unwrap();
        let (played, _) = read_wav(&wav).unwrap();
        let file = std::env::temp_dir().join(format!("sori-capture-{voice}-{}.wav", std::process::id()));
        std::fs::write(&file, &wav).unwrap();
        let captured = capture_for(played.len() as f64 / 16_000.0 + 1.5, || {
            assert!(Command::new("paplay").args(["-d", "micsink"]).arg(&file).status().unwrap().success());
        });
        let _ = std::fs::remove_file(&file);

        // The truth: where the speech landed in the captured stream.
        let lag_blocks = best_lag(&envelope(&captured), &envelope(&played));
        let loud: Vec<usize> = envelope(&played).iter().enumerate().filter(|(_, &e)| e > 327.0).map(|(i, _)| i).collect();
        let truth_start = (lag_blocks + loud[0]) * 160;
        let truth_end = (lag_blocks + loud.last().unwrap() + 1) * 160;

        let mut vad = NoiseGate::new(WebRtcVad::new(2));
        let mut seg = UtteranceSegmenter::new(SegmenterConfig::default());
        let events: Vec<SegmentEvent> = captured.chunks_exact(320).filter_map(|f| seg.push(f, vad.is_speech(f))).collect();
        let utterances: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                SegmentEvent::SpeechEnded(u) => Some(u),
                _ => None,
            })
            .collect();
        assert_eq!(utterances.len(), 1, "{text}: {} utterances", utterances.len());
        let u = utterances[0];
        let start_error = (u.speech_start as f64 * 320.0 - truth_start as f64) / 16.0;
        let end_error = (u.speech_end as f64 * 320.0 - truth_end as f64) / 16.0;
        eprintln!("{text}: start {start_error:+.0} ms, end {end_error:+.0} ms");
        assert!(start_error.abs() <= 100.0, "{text}: start off by {start_error} ms");
        assert!(end_error.abs() <= 300.0, "{text}: end off by {end_error} ms");
        assert!(u.first_frame as usize * 320 + 1600 <= truth_start, "{text}: the pre-roll keeps the first 100 ms");
    }
}

#[test]
fn silence_in_the_microphone_is_not_speech() {
    common::require_rig();
    let _one = MIC.lock().unwrap_or_else(|e| e.into_inner());
    let captured = capture_for(2.0, || {});
    assert!(captured.len() >= 16_000, "{} samples in 2 s", captured.len());
    let mut vad = NoiseGate::new(WebRtcVad::new(2));
    assert!(captured.chunks_exact(320).all(|f| !vad.is_speech(f)));
}

fn pactl(args: &[&str]) -> String {
    String::from_utf8(Command::new("pactl").args(args).output().unwrap().stdout).unwrap()
}

fn plug_microphone() {
    pactl(&[
        "load-module",
        "module-remap-source",
        "master=micsink.monitor",
        "source_name=mic",
        "source_properties=device.description=Virtual-Microphone",
    ]);
    pactl(&["set-default-source", "mic"]);
}

/// Puts the rig's microphone back if a test failed while it was unplugged,
/// so that one failure does not take the other tests down with it.
struct MicBackAfter;

impl Drop for MicBackAfter {
    fn drop(&mut self) {
        if !pactl(&["list", "short", "sources"]).lines().any(|l| l.split('\t').nth(1) == Some("mic")) {
            plug_microphone();
        }
    }
}

#[test]
fn a_lost_microphone_is_reported_and_capture_resumes() {
    common::require_rig();
    unplug_and_back(false);
}

/// The server names a new default a moment before an unplugged device leaves
/// the list; here slowly enough that capture follows the default first every time.
#[test]
fn a_lost_microphone_is_reported_even_after_capture_followed_the_new_default() {
    common::require_rig();
    unplug_and_back(true);
}

fn unplug_and_back(default_moves_first: bool) {
    let _one = MIC.lock().unwrap_or_else(|e| e.into_inner());
    let _back = MicBackAfter;
    let module = pactl(&["list", "short", "modules"])
        .lines()
        .find(|l| l.contains("module-remap-source"))
        .and_then(|l| l.split('\t').next().map(str::to_string))
        .expect("the rig's mic module");
    let (tx, rx) = mpsc::channel();
    let capture = Capture::start(None, tx).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    if default_moves_first {
        pactl(&["set-default-source", "micsink.monitor"]);
        let followed = rx.iter().take(100).any(|e| matches!(e, CaptureEvent::Resumed { .. }));
        assert!(followed, "capture followed the new default");
    }
    pactl(&["unload-module", &module]);
    let lost_at = Instant::now();
    // Capture may first follow the new default (the server switches it a
    // moment before the device leaves the list); the loss is reported either way.
    let mut lost = false;
    while lost_at.elapsed() < Duration::from_secs(3) && !lost {
        lost = matches!(rx.recv_timeout(Duration::from_millis(100)), Ok(CaptureEvent::Lost { .. }));
    }
    assert!(lost, "the loss was reported");
    plug_microphone();
    let back_at = Instant::now();
    // It may resume on another source first (the new default); it must end on the microphone.
    let resumed = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(CaptureEvent::Resumed { device }) if device == "Virtual-Microphone" => break true,
            _ if back_at.elapsed() > Duration::from_secs(2) => break false,
            _ => continue,
        }
    };
    assert!(resumed, "capture resumed on the microphone within 2 s of it coming back");
    std::thread::sleep(Duration::from_millis(300));
    assert!(rx.try_iter().any(|e| matches!(e, CaptureEvent::Frame { .. })), "frames flow again");
    drop(capture);
}
