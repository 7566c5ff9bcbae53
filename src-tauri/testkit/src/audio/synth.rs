//! A deterministic stand-in for a TTS voice: voiced "syllables" (a few
//! harmonics of a pitch that depends on the voice) with pauses at spaces and
//! punctuation, so the audio's length fits the text and sounds speech-like
//! enough for level meters and voice detectors.

use std::f64::consts::TAU;

/// OpenAI's `pcm` format: 24 kHz, 16-bit signed little-endian, mono.
pub const SPEECH_RATE: u32 = 24_000;

/// Seconds one character takes at speed 1.0: Hangul syllables are slower than
/// Latin letters, as in real speech (~6 syllables/s vs ~15 letters/s).
fn char_seconds(c: char) -> f64 {
    match c {
        '\u{AC00}'..='\u{D7A3}' | '\u{3040}'..='\u{30FF}' | '\u{4E00}'..='\u{9FFF}' => 0.16,
        '.' | '!' | '?' | '。' | '！' | '？' | '…' => 0.30,
        ',' | '、' | ';' | ':' | '，' => 0.15,
        c if c.is_whitespace() => 0.05,
        c if c.is_alphanumeric() => 0.065,
        _ => 0.02,
    }
}

fn is_voiced(c: char) -> bool {
    c.is_alphanumeric()
}

/// The voice's pitch in Hz: distinct per voice name, stable across runs.
fn pitch_of(voice: &str) -> f64 {
    let h = voice.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    110.0 + (h % 120) as f64
}

/// Synthesizes `text` in `voice` at `speed` (0.25–4.0) as 24 kHz mono i16.
/// An empty or silent text still yields 100 ms, like a real endpoint.
pub fn synthesize(text: &str, voice: &str, speed: f64) -> Vec<i16> {
    let speed = speed.clamp(0.25, 4.0);
    let rate = SPEECH_RATE as f64;
    let f0 = pitch_of(voice);
    let mut out: Vec<i16> = Vec::new();
    let mut phase = 0.0f64;
    for (i, c) in text.chars().enumerate() {
        let n = (char_seconds(c) / speed * rate) as usize;
        if !is_voiced(c) {
            out.extend(std::iter::repeat_n(0, n));
            continue;
        }
        // A gentle pitch movement per character keeps it from sounding like a pure tone.
        let f = f0 * (1.0 + 0.06 * ((i % 5) as f64 - 2.0) / 2.0);
        let ramp = (0.012 * rate) as usize;
        for k in 0..n {
            let env = (k.min(n - 1 - k) as f64 / ramp as f64).min(1.0);
            phase += TAU * f / rate;
            let s = phase.sin() + 0.5 * (2.0 * phase).sin() + 0.25 * (3.0 * phase).sin() + 0.12 * (5.0 * phase).sin();
            out.push((s * env * 0.30 * i16::MAX as f64 / 1.87) as i16);
        }
    }
    let min = (0.1 * rate) as usize;
    if out.len() < min {
        out.resize(min, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_fits_the_text_and_speed() {
        let short = synthesize("Hi.", "alloy", 1.0).len();
        let long = synthesize("Hi there, how can I help you today?", "alloy", 1.0).len();
        assert!(long > 4 * short, "{long} vs {short}");
        let fast = synthesize("Hi there, how can I help you today?", "alloy", 2.0).len();
        assert!((fast as f64 / long as f64 - 0.5).abs() < 0.01);
        // Korean: ~0.16 s a syllable.
        let ko = synthesize("안녕하세요", "alloy", 1.0).len() as f64 / SPEECH_RATE as f64;
        assert!((ko - 0.8).abs() < 0.01, "{ko}");
    }

    #[test]
    fn voices_differ_and_are_stable() {
        assert_eq!(synthesize("네", "coral", 1.0), synthesize("네", "coral", 1.0));
        assert_ne!(synthesize("네", "coral", 1.0), synthesize("네", "onyx", 1.0));
        assert!(synthesize("네", "coral", 1.0).iter().any(|&s| s.unsigned_abs() > 5000));
    }
}
