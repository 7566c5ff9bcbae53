//! Piper as Sori's neural voice, with the real `en_US-joe-medium` voice and
//! ONNX Runtime from their registry packages: the phonemes are Piper's own,
//! what it says is understood by Whisper, speed changes its pace, and a
//! damaged voice is a clear error.

mod common;

use common::{fixture_model, word_errors, words};
use sori_local::phonemes::{self, PhonemeIds};
use sori_local::{Espeak, LocalError, PiperVoice, WhisperModel, WhisperSettings};
use sori_testkit::fixtures::onnx_runtime;
use std::sync::OnceLock;

fn voice() -> &'static PiperVoice {
    static VOICE: OnceLock<PiperVoice> = OnceLock::new();
    VOICE.get_or_init(|| PiperVoice::load(&fixture_model("piper-en-us-joe"), &onnx_runtime(), Espeak::find().unwrap(), 2).expect("the voice loads"))
}

/// 22.05 kHz samples as 16 kHz floats (linear interpolation is enough for Whisper).
fn to_16k(samples: &[i16], rate: u32) -> Vec<f32> {
    let n = samples.len() * 16_000 / rate as usize;
    (0..n)
        .map(|i| {
            let at = i as f64 * rate as f64 / 16_000.0;
            let (j, frac) = (at as usize, at.fract() as f32);
            let a = samples[j] as f32;
            let b = *samples.get(j + 1).unwrap_or(&samples[j]) as f32;
            (a + (b - a) * frac) / 32768.0
        })
        .collect()
}

#[test]
fn the_phonemes_and_ids_are_pipers_own() {
    // From Piper's own test sentences and its phonemizer (espeak-ng 1.51, en-us).
    let espeak = Espeak::find().unwrap();
    let sentences = phonemes::sentences("Hello world. How are you?", |clause| espeak.ipa(clause, "en-us")).unwrap();
    assert_eq!(sentences, ["həlˈoʊ wˈɜːld.", "hˈaʊ ɑːɹ juː?"]);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_model("piper-en-us-joe").join("en_US-joe-medium.onnx.json")).unwrap()).unwrap();
    let map = config["phoneme_id_map"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.chars().next().unwrap(), v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect()))
        .collect();
    let (ids, unknown) = PhonemeIds::new(map).unwrap().ids(&sentences[0]);
    assert_eq!(ids, [1, 0, 20, 0, 59, 0, 24, 0, 120, 0, 27, 0, 100, 0, 3, 0, 35, 0, 120, 0, 62, 0, 122, 0, 24, 0, 17, 0, 10, 0, 2]);
    assert!(unknown.is_empty(), "{unknown:?}");
}

#[test]
fn what_piper_says_whisper_understands() {
    let whisper = WhisperModel::load(&fixture_model("whisper-base"), WhisperSettings::default()).expect("whisper-base loads");
    let sentences = [
        "Your order will arrive tomorrow afternoon.",
        "Thank you for calling, how can I help you today?",
        "The refund was sent to your card this morning.",
        "Please keep the receipt until the package arrives.",
        "I can change the delivery address for you.",
        "The store opens at nine in the morning.",
    ];
    let (mut errors, mut total) = (0, 0);
    for text in sentences {
        let samples = voice().synthesize(text, 1.0).expect("speaks");
        assert!(samples.len() > voice().sample_rate() as usize, "{text:?}: {} samples", samples.len());
        let heard = whisper.transcribe(&to_16k(&samples, voice().sample_rate()), Some("en")).unwrap();
        let reference = words(text);
        let e = word_errors(&reference, &words(&heard));
        eprintln!("{text:?} -> {heard:?} ({e} errors)");
        errors += e;
        total += reference.len();
    }
    let wer = errors as f64 / total as f64;
    assert!(wer <= 0.15, "word error rate {:.1}% over {total} words", wer * 100.0);
}

#[test]
fn speed_changes_the_pace_and_sentences_come_one_by_one() {
    let text = "Thank you for waiting. Your refund is on its way.";
    let normal = voice().synthesize(text, 1.0).unwrap();
    let fast = voice().synthesize(text, 1.6).unwrap();
    let ratio = fast.len() as f64 / normal.len() as f64;
    assert!((0.45..0.8).contains(&ratio), "1.6x speed gave {ratio:.2} of the length");
    let mut pieces = Vec::new();
    voice()
        .speak(text, 1.0, |samples| {
            pieces.push(samples.len());
            true
        })
        .unwrap();
    assert_eq!(pieces.len(), 2, "one piece per sentence: {pieces:?}");
    let mut first_only = 0;
    voice()
        .speak(text, 1.0, |_| {
            first_only += 1;
            false
        })
        .unwrap();
    assert_eq!(first_only, 1, "a listener that stops gets no more sentences");
}

#[test]
fn a_damaged_voice_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("sori-bad-voice-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let espeak = Espeak::find().unwrap();
    let err = PiperVoice::load(&dir, &onnx_runtime(), espeak.clone(), 1).unwrap_err();
    assert!(matches!(&err, LocalError::Model { reason, .. } if reason.contains("no .onnx voice file")), "{err}");
    std::fs::write(dir.join("v.onnx"), b"not a model").unwrap();
    std::fs::copy(fixture_model("piper-en-us-joe").join("en_US-joe-medium.onnx.json"), dir.join("v.onnx.json")).unwrap();
    let err = PiperVoice::load(&dir, &onnx_runtime(), espeak, 1).unwrap_err();
    assert!(matches!(&err, LocalError::Model { reason, .. } if reason.contains("ONNX Runtime could not load it")), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
