//! espeak-ng as Sori's local voice: Korean and English clauses come back as
//! real speech, speed changes how long it takes, the voices are listed, and a
//! missing program is a clear error.

use sori_local::{Espeak, LocalError};

fn voiced_ms(samples: &[i16], rate: u32) -> usize {
    let block = rate as usize / 50;
    samples.chunks(block).filter(|b| b.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / b.len() as f64 > 1e5).count() * 20
}

#[test]
fn korean_and_english_clauses_are_spoken() {
    let espeak = Espeak::find().expect("espeak-ng is installed");
    for (text, voice) in [("주문하신 상품은 내일 도착합니다.", "ko"), ("Your order arrives tomorrow.", "en-us")] {
        let (samples, rate) = espeak.synthesize(text, voice, 1.0).expect("speaks");
        assert_eq!(rate, 22_050);
        let voiced = voiced_ms(&samples, rate);
        assert!((800..4000).contains(&voiced), "{voice}: {voiced} ms of voice");
    }
}

#[test]
fn speed_changes_the_length_and_voices_are_listed() {
    let espeak = Espeak::find().unwrap();
    let text = "Thank you for waiting, your refund is on its way.";
    let (normal, _) = espeak.synthesize(text, "en-us", 1.0).unwrap();
    let (fast, _) = espeak.synthesize(text, "en-us", 2.0).unwrap();
    assert!((fast.len() as f64) < normal.len() as f64 * 0.7, "{} vs {} samples", fast.len(), normal.len());
    let korean = espeak.voices(Some("ko")).unwrap();
    assert!(korean.iter().any(|v| v.id == "ko"), "{korean:?}");
}

#[test]
fn a_missing_program_is_a_clear_error() {
    let err = Espeak::at("/nonexistent/espeak-ng".into()).unwrap_err();
    assert!(matches!(err, LocalError::Missing("espeak-ng")), "{err}");
    assert_eq!(err.to_string(), "espeak-ng is not installed");
}
