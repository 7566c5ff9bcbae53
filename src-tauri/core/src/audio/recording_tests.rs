//! Recordings made by real encoders (hound, LAME, libopus in Ogg) decode to
//! the speech put in; cut, foreign, silent-empty and overlong files are
//! refused with the error that says which.

use super::*;
use sori_testkit::audio::encode::{encode, truncate, wav, AudioFormat};
use sori_testkit::audio::synthesize;

const LIMIT: Duration = Duration::from_secs(60);

fn speech() -> Vec<i16> {
    synthesize("Where is my order? It was due on Tuesday.", "alloy", 1.0)
}

fn seconds(pcm: &Pcm) -> f64 {
    pcm.samples.len() as f64 / f64::from(pcm.sample_rate)
}

#[test]
fn wav_mp3_and_ogg_opus_decode_to_the_speech_put_in() {
    let samples = speech();
    let want = samples.len() as f64 / 24_000.0;
    for (format, name) in [(AudioFormat::Wav, "q.wav"), (AudioFormat::Mp3, "q.mp3"), (AudioFormat::Opus, "q.ogg")] {
        let bytes = encode(&samples, format).unwrap();
        let pcm = decode_recording(&bytes, Some(name), None, LIMIT).unwrap_or_else(|e| panic!("{name}: {e}"));
        // MP3 adds an encoder delay and a padded last frame; Opus a pre-skip.
        assert!((seconds(&pcm) - want).abs() < 0.1, "{name}: {} s for {want} s", seconds(&pcm));
        let loud = pcm.samples.iter().filter(|s| s.unsigned_abs() > 1000).count();
        assert!(loud > pcm.samples.len() / 10, "{name}: the speech is there ({loud} loud samples)");
    }
    // The bytes decide, not the name: an MP3 called .wav still decodes.
    let mp3 = encode(&samples, AudioFormat::Mp3).unwrap();
    assert!(decode_recording(&mp3, Some("upload.wav"), Some("audio/wav"), LIMIT).is_ok());
}

#[test]
fn cut_foreign_and_overlong_files_are_refused_with_the_reason() {
    let samples = speech();
    let mp3 = encode(&samples, AudioFormat::Mp3).unwrap();
    for (format, cut) in [
        (AudioFormat::Wav, truncate(&encode(&samples, AudioFormat::Wav).unwrap(), AudioFormat::Wav)),
        (AudioFormat::Mp3, mp3[..mp3.len() / 2 + 50].to_vec()),
    ] {
        let got = decode_recording(&cut, None, None, LIMIT).map(|p| p.samples.len());
        assert_eq!(got, Err(RecordingError::Truncated), "{format:?}");
    }
    // Cut between two frames, an MP3 is whole, only shorter (LAME's 64 kbit/s
    // frames at 24 kHz are 192 bytes: half of 126 of them is a boundary).
    assert_eq!(mp3.len() % 192, 0);
    assert!(decode_recording(&mp3[..mp3.len() / 2], None, None, LIMIT).is_ok());
    assert_eq!(decode_recording(b"", None, None, LIMIT), Err(RecordingError::Empty));
    assert_eq!(
        decode_recording("주문 내역을 확인하고 싶어요.\n".repeat(50).as_bytes(), Some("q.txt"), Some("text/plain"), LIMIT),
        Err(RecordingError::NotAudio)
    );
    // Twenty minutes, refused from the header alone.
    let long = wav(&vec![0i16; 16_000 * 60 * 20], 16_000).unwrap();
    assert!(matches!(decode_recording(&long, None, None, LIMIT), Err(RecordingError::TooLong { limit: 60, .. })));
}
