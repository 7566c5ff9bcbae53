//! Audio for tests: WAV files in memory, and real speech from espeak-ng
//! (Korean and English) resampled to 16 kHz mono by sox, as TESTING.md describes.

use std::process::Command;

/// Reads a 16-bit mono WAV's samples and rate.
pub fn read_wav(bytes: &[u8]) -> Result<(Vec<i16>, u32), hound::Error> {
    let mut reader = hound::WavReader::new(std::io::Cursor::new(bytes))?;
    let rate = reader.spec().sample_rate;
    let samples = reader.samples::<i16>().collect::<Result<Vec<_>, _>>()?;
    Ok((samples, rate))
}

/// Speech for `text` by espeak-ng in `voice` (e.g. `ko`, `en`), as 16 kHz mono
/// 16-bit WAV bytes, padded with `pad_before`/`pad_after` seconds of silence.
/// Deterministic: sox runs without dither.
pub fn espeak_wav(text: &str, voice: &str, pad_before: f64, pad_after: f64) -> std::io::Result<Vec<u8>> {
    // A folder per call: tests in one process may speak the same text at once.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("sori-espeak-{}-{call}-{}", std::process::id(), crate::script::sha256_hex(text.as_bytes())));
    std::fs::create_dir_all(&dir)?;
    let raw = dir.join("raw.wav");
    let out = dir.join("16k.wav");
    run(Command::new("espeak-ng").args(["-v", voice, "-w"]).arg(&raw).arg(text))?;
    run(Command::new("sox").arg("-D").arg(&raw).args(["-r", "16000", "-c", "1", "-b", "16"]).arg(&out).args([
        "pad",
        &pad_before.to_string(),
        &pad_after.to_string(),
    ]))?;
    let bytes = std::fs::read(&out)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(bytes)
}

fn run(cmd: &mut Command) -> std::io::Result<()> {
    let out = cmd.output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("{:?} failed: {}", cmd.get_program(), String::from_utf8_lossy(&out.stderr))))
    }
}
