//! Speech on this computer through the provider a turn uses: with the real
//! Piper voice installed, `auto` speaks English with it (a piece per
//! sentence, as each is made) and Korean with espeak-ng; the voice loads
//! once, at warm-up; a chosen voice that is not installed says how to
//! install it.

use futures_util::StreamExt;
use sori_core::provider::local::LocalTts;
use sori_core::provider::{AudioFormat, SpeechRequest, TextToSpeech};
use sori_testkit::fixtures;
use std::time::Instant;

fn request<'a>(text: &'a str, voice: &'a str) -> SpeechRequest<'a> {
    SpeechRequest { text, model: "", voice, instructions: None, speed: 1.0, pitch: 0.0, format: AudioFormat::Pcm }
}

/// The pieces of audio a request gives: (samples, rate) each.
async fn pieces(tts: &LocalTts, text: &str, voice: &str) -> Vec<(usize, u32)> {
    let mut stream = tts.synthesize(request(text, voice)).await.expect("starts");
    let mut out = Vec::new();
    while let Some(piece) = stream.next().await {
        let pcm = piece.expect("speaks");
        out.push((pcm.samples.len(), pcm.sample_rate));
    }
    out
}

fn runtime() {
    // Where tests/run does not say, use the fixture's copy.
    if std::env::var_os("SORI_ONNXRUNTIME").is_none() {
        std::env::set_var("SORI_ONNXRUNTIME", fixtures::onnx_runtime());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_speaks_english_with_piper_and_korean_with_espeak() {
    runtime();
    let tts = LocalTts::new(Some(fixtures::model("piper-en-us-joe"))).expect("espeak-ng is installed");
    assert_eq!(tts.piper_id(), Some("piper-en-us-joe"));
    let start = Instant::now();
    tts.warm_up().await.expect("the voice loads");
    eprintln!("Piper voice loaded in {} ms", start.elapsed().as_millis());

    // Piper hands over each sentence as it is made; espeak-ng speaks a text whole.
    let english = pieces(&tts, "Your order left this morning. It arrives tomorrow.", "auto").await;
    assert_eq!(english.len(), 2, "{english:?}");
    assert!(english.iter().all(|&(n, rate)| rate == 22_050 && n > 11_025), "{english:?}");
    let korean = pieces(&tts, "주문하신 상품은 내일 도착합니다. 감사합니다.", "auto").await;
    assert_eq!(korean.len(), 1, "{korean:?}");
    let named = pieces(&tts, "Thank you. Goodbye.", "piper-en-us-joe").await;
    assert_eq!(named.len(), 2, "the voice named by its id is Piper: {named:?}");
    let espeak = pieces(&tts, "Thank you. Goodbye.", "en-us").await;
    assert_eq!(espeak.len(), 1, "an espeak-ng voice id is espeak-ng: {espeak:?}");
}

#[tokio::test]
async fn a_chosen_voice_that_is_not_installed_says_how_to_install_it() {
    runtime();
    let missing = std::env::temp_dir().join(format!("sori-no-voice-{}", std::process::id())).join("piper-en-us-joe");
    let tts = LocalTts::new(Some(missing)).unwrap();
    let err = tts.warm_up().await.unwrap_err();
    assert!(
        err.message.contains("piper-en-us-joe is not installed") && err.message.contains("sori-cli models install piper-en-us-joe"),
        "{}",
        err.message
    );
    let err = match tts.synthesize(request("Hello there.", "piper-en-us-joe")).await {
        Ok(_) => panic!("a voice that is not installed spoke"),
        Err(e) => e,
    };
    assert!(err.message.contains("not installed"), "{}", err.message);
    // `auto` still speaks, with espeak-ng, after the warm-up said why.
    assert_eq!(pieces(&tts, "Hello there. Bye.", "auto").await.len(), 1);
}
