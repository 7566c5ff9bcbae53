//! A recorded question as a file, whatever the browser or phone made of it:
//! WAV, MP3, M4A/AAC, Ogg (Opus or Vorbis) and WebM/Matroska (Opus), decoded
//! to mono 16-bit samples at the file's own rate. Demuxing and decoding are
//! symphonia's (no ffmpeg); Opus packets go to libopus, which symphonia lacks.
//! A file that is not audio, is cut short or runs longer than the caller
//! allows is a [`RecordingError`] that says so, never a panic.

use super::decode::decode_ogg_opus;
use super::pcm::downmix;
use super::Pcm;
use std::io::Cursor;
use std::time::Duration;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL, CODEC_TYPE_OPUS};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Why a recording could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordingError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not audio Sori can read (send WAV, MP3, M4A/AAC, Ogg Opus or WebM)")]
    NotAudio,
    #[error("the audio is cut short: the file ends in the middle (was the upload interrupted?)")]
    Truncated,
    #[error("the recording is {seconds:.0} s long; at most {limit} s are accepted")]
    TooLong { seconds: f64, limit: u64 },
    #[error("the audio could not be decoded ({0})")]
    Corrupt(String),
    #[error("the recording holds no sound")]
    NoSound,
}

/// Decodes a whole recording. `name` (a file name) and `mime` (its declared
/// type) only help recognise it; the bytes decide. At most `limit` of audio
/// is decoded: a longer recording is refused as soon as that is known.
pub fn decode_recording(bytes: &[u8], name: Option<&str>, mime: Option<&str>, limit: Duration) -> Result<Pcm, RecordingError> {
    if bytes.is_empty() {
        return Err(RecordingError::Empty);
    }
    // Ogg Opus has its own reader (it keeps the stream's pre-skip exact).
    if bytes.starts_with(b"OggS") && bytes.windows(8).take(200).any(|w| w == b"OpusHead") {
        let (samples, sample_rate) = decode_ogg_opus(bytes.to_vec()).map_err(|e| match e {
            super::decode::DecodeError::Truncated => RecordingError::Truncated,
            e => RecordingError::Corrupt(e.to_string()),
        })?;
        let pcm = Pcm { samples, sample_rate };
        check_length(pcm.samples.len() as u64, pcm.sample_rate, limit)?;
        return non_silent(pcm);
    }
    let mut hint = Hint::new();
    if let Some(ext) = name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase()) {
        hint.with_extension(&ext);
    }
    if let Some(mime) = mime {
        hint.mime_type(mime);
    }
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let probed = symphonia::default::get_probe()
        .format(&hint, source, &FormatOptions { enable_gapless: true, ..Default::default() }, &MetadataOptions::default())
        .map_err(|_| {
            // A known container that cannot be opened lost its index (an MP4's
            // `moov` sits at the end, where a cut file no longer has it).
            if container(bytes).is_some() {
                RecordingError::Truncated
            } else {
                RecordingError::NotAudio
            }
        })?;
    let format = probed.format;
    let track = format.tracks().iter().find(|t| t.codec_params.codec != CODEC_TYPE_NULL).ok_or(RecordingError::NotAudio)?;
    let (id, params) = (track.id, track.codec_params.clone());
    let sample_rate = params.sample_rate.ok_or(RecordingError::NotAudio)?;
    if let Some(frames) = params.n_frames {
        check_length(frames, sample_rate, limit)?;
    }
    let pcm = if params.codec == CODEC_TYPE_OPUS {
        decode_opus_packets(format, id, limit)?
    } else {
        let mut decoder = symphonia::default::get_codecs().make(&params, &DecoderOptions::default()).map_err(|_| RecordingError::NotAudio)?;
        let mut samples = Vec::new();
        let mut format = format;
        while let Some(packet) = next_packet(&mut format)? {
            if packet.track_id() != id {
                continue;
            }
            match decoder.decode(&packet) {
                Ok(buffer) => {
                    let spec = *buffer.spec();
                    let mut interleaved = SampleBuffer::<i16>::new(buffer.capacity() as u64, spec);
                    interleaved.copy_interleaved_ref(buffer);
                    samples.extend(downmix(interleaved.samples(), spec.channels.count()));
                }
                // One damaged frame is skipped, as players do; a file of them is caught below.
                Err(SymphoniaError::DecodeError(_)) => continue,
                Err(e) => return Err(RecordingError::Corrupt(e.to_string())),
            }
            check_length(samples.len() as u64, sample_rate, limit)?;
        }
        // A container that declares its length and delivered less was cut short;
        // a bare MP3 declares none, but its last frame says how long it should be.
        if mp3::last_frame_cut(bytes) {
            return Err(RecordingError::Truncated);
        }
        if params.n_frames.is_some_and(|n| (samples.len() as u64) < n.saturating_sub(u64::from(sample_rate) / 20)) {
            return Err(RecordingError::Truncated);
        }
        Pcm { samples, sample_rate }
    };
    non_silent(pcm)
}

/// The next packet; `None` at the end. A read that stops inside a packet is
/// the end of a cut file.
fn next_packet(format: &mut Box<dyn FormatReader>) -> Result<Option<symphonia::core::formats::Packet>, RecordingError> {
    match format.next_packet() {
        Ok(p) => Ok(Some(p)),
        Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(SymphoniaError::ResetRequired) => Ok(None),
        Err(e) => Err(RecordingError::Corrupt(e.to_string())),
    }
}

/// Opus in WebM/Matroska (what browsers record): packets from symphonia's
/// demuxer, decoded by libopus at 48 kHz, mixed to mono by libopus itself.
fn decode_opus_packets(mut format: Box<dyn FormatReader>, id: u32, limit: Duration) -> Result<Pcm, RecordingError> {
    const RATE: u32 = 48_000;
    let bad = |e: opus::Error| RecordingError::Corrupt(e.to_string());
    let mut decoder = opus::Decoder::new(RATE, opus::Channels::Mono).map_err(bad)?;
    let mut samples = Vec::new();
    // The longest Opus packet is 120 ms.
    let mut frame = vec![0i16; RATE as usize * 120 / 1000];
    while let Some(packet) = next_packet(&mut format)? {
        if packet.track_id() != id {
            continue;
        }
        let n = decoder.decode(&packet.data, &mut frame, false).map_err(bad)?;
        samples.extend_from_slice(&frame[..n]);
        check_length(samples.len() as u64, RATE, limit)?;
    }
    Ok(Pcm { samples, sample_rate: RATE })
}

/// The container a file's first bytes name, if any.
fn container(bytes: &[u8]) -> Option<&'static str> {
    let at = |i: usize, magic: &[u8]| bytes.get(i..i + magic.len()) == Some(magic);
    match () {
        _ if at(0, b"RIFF") => Some("wav"),
        _ if at(4, b"ftyp") => Some("mp4"),
        _ if at(0, b"OggS") => Some("ogg"),
        _ if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) => Some("webm"),
        _ if at(0, b"ID3") => Some("mp3"),
        _ => None,
    }
}

fn check_length(frames: u64, sample_rate: u32, limit: Duration) -> Result<(), RecordingError> {
    let seconds = frames as f64 / f64::from(sample_rate.max(1));
    if seconds > limit.as_secs_f64() {
        return Err(RecordingError::TooLong { seconds, limit: limit.as_secs() });
    }
    Ok(())
}

fn non_silent(pcm: Pcm) -> Result<Pcm, RecordingError> {
    if pcm.samples.is_empty() {
        return Err(RecordingError::NoSound);
    }
    Ok(pcm)
}

/// MPEG audio frames, walked only to see whether the last one is whole:
/// symphonia ends a cut MP3 as quietly as a whole one.
mod mp3 {
    /// Kbit/s by index, Layer III: MPEG-1, then MPEG-2 and 2.5.
    const BITRATES: [[u32; 15]; 2] =
        [[0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]];
    const RATES: [[u32; 3]; 3] = [[44_100, 48_000, 32_000], [22_050, 24_000, 16_000], [11_025, 12_000, 8_000]];

    /// The length of the Layer III frame whose header starts `h`.
    fn frame_len(h: &[u8]) -> Option<usize> {
        if h.len() < 4 || h[0] != 0xFF || h[1] & 0xE0 != 0xE0 || (h[1] >> 1) & 3 != 1 {
            return None;
        }
        let version = match (h[1] >> 3) & 3 {
            3 => 0, // MPEG-1
            2 => 1, // MPEG-2
            0 => 2, // MPEG-2.5
            _ => return None,
        };
        let bitrate = *BITRATES[version.min(1)].get(usize::from(h[2] >> 4))?;
        let rate = *RATES[version].get(usize::from((h[2] >> 2) & 3))?;
        if bitrate == 0 {
            return None;
        }
        let per_frame = if version == 0 { 144 } else { 72 };
        Some((per_frame * bitrate * 1000 / rate) as usize + usize::from((h[2] >> 1) & 1))
    }

    /// Whether the frames, walked from the first, end in one that is cut.
    pub fn last_frame_cut(bytes: &[u8]) -> bool {
        let mut pos = 0;
        // An ID3v2 tag first: its size is four 7-bit bytes.
        if bytes.starts_with(b"ID3") && bytes.len() >= 10 {
            pos = 10 + bytes[6..10].iter().fold(0usize, |n, &b| (n << 7) | usize::from(b & 0x7F));
        }
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        let mut frames = 0;
        while let Some(len) = bytes.get(pos..).and_then(frame_len) {
            frames += 1;
            if pos + len > bytes.len() {
                return true;
            }
            pos += len;
        }
        // Walking stopped at something else (a trailing tag): not a cut frame.
        frames > 0 && pos < bytes.len() && bytes.len() - pos < 4 && bytes[pos] == 0xFF
    }
}

#[cfg(test)]
#[path = "recording_tests.rs"]
mod tests;
