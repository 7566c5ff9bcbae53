//! WAV files through hound: an utterance written in memory for upload, a
//! question read from disk (any channels and sample format, down-mixed to
//! mono) and a reply written to disk.

use super::pcm::{downmix, Pcm};
use std::path::Path;

/// A WAV file that could not be read or written, and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct WavFileError {
    pub path: String,
    #[source]
    pub source: hound::Error,
}

fn file_error(path: &Path) -> impl Fn(hound::Error) -> WavFileError + '_ {
    move |source| WavFileError { path: path.display().to_string(), source }
}

fn spec(sample_rate: u32) -> hound::WavSpec {
    hound::WavSpec { channels: 1, sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int }
}

/// A mono 16-bit WAV file in memory.
pub fn wav_bytes(samples: &[i16], sample_rate: u32) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        // Writing to memory cannot fail short of allocation failure.
        let mut w = hound::WavWriter::new(&mut cursor, spec(sample_rate)).expect("WAV header into memory");
        for &s in samples {
            w.write_sample(s).expect("WAV sample into memory");
        }
        w.finalize().expect("WAV into memory");
    }
    cursor.into_inner()
}

/// Reads a WAV file as mono 16-bit samples at its own rate.
pub fn read_wav(path: &Path) -> Result<Pcm, WavFileError> {
    let error = file_error(path);
    let mut reader = hound::WavReader::open(path).map_err(&error)?;
    let spec = reader.spec();
    let channels = spec.channels.max(1) as usize;
    let samples = match spec.sample_format {
        hound::SampleFormat::Int if spec.bits_per_sample <= 16 => {
            downmix(&reader.samples::<i16>().collect::<Result<Vec<_>, _>>().map_err(&error)?, channels)
        }
        hound::SampleFormat::Int => {
            let shift = spec.bits_per_sample - 16;
            let wide = reader.samples::<i32>().map(|s| s.map(|v| (v >> shift) as i16)).collect::<Result<Vec<_>, _>>().map_err(&error)?;
            downmix(&wide, channels)
        }
        hound::SampleFormat::Float => {
            let floats = reader.samples::<f32>().map(|s| s.map(|v| v.clamp(-1.0, 1.0) * 32767.0)).collect::<Result<Vec<_>, _>>().map_err(&error)?;
            downmix(&floats, channels)
        }
    };
    Ok(Pcm { samples, sample_rate: spec.sample_rate })
}

/// Writes mono audio as a 16-bit WAV file.
pub fn write_wav(path: &Path, audio: &Pcm) -> Result<(), WavFileError> {
    let error = file_error(path);
    let mut w = hound::WavWriter::create(path, spec(audio.sample_rate)).map_err(&error)?;
    for &s in &audio.samples {
        w.write_sample(s).map_err(&error)?;
    }
    w.finalize().map_err(&error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stereo_float_file_reads_as_mono_and_a_reply_writes_back() {
        let dir = std::env::temp_dir().join(format!("sori-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let stereo = dir.join("stereo.wav");
        let spec = hound::WavSpec { channels: 2, sample_rate: 44_100, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
        let mut w = hound::WavWriter::create(&stereo, spec).unwrap();
        for s in [0.5f32, 0.0, -0.25, -0.25] {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let read = read_wav(&stereo).unwrap();
        assert_eq!(read, Pcm { samples: vec![8192, -8192], sample_rate: 44_100 });
        let mono = dir.join("mono.wav");
        write_wav(&mono, &read).unwrap();
        assert_eq!(read_wav(&mono).unwrap(), read);
        let missing = read_wav(&dir.join("nothing.wav")).unwrap_err();
        assert!(missing.to_string().contains("nothing.wav"), "{missing}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
