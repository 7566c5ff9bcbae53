//! Encoders for the speech endpoints' formats: raw `pcm` (what OpenAI
//! streams: 24 kHz s16le mono), `wav` (hound), `mp3` (LAME through
//! mp3lame-encoder) and `opus` (libopus in an Ogg container, as the real APIs
//! send it), at 24 kHz or, for Google, the asked rate. Real encoders, so
//! clients must really decode.

use super::synth::SPEECH_RATE;
use std::io::Cursor;

/// A `response_format` the testkit can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    Pcm,
    Wav,
    Mp3,
    Opus,
}

impl AudioFormat {
    /// Parses a `response_format`; `None` for formats the testkit does not make (aac, flac).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "pcm" => AudioFormat::Pcm,
            "wav" => AudioFormat::Wav,
            "mp3" => AudioFormat::Mp3,
            "opus" => AudioFormat::Opus,
            _ => return None,
        })
    }

    /// The `Content-Type` the real API sends for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            AudioFormat::Pcm => "audio/pcm",
            AudioFormat::Wav => "audio/wav",
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::Opus => "audio/ogg",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("wav: {0}")]
    Wav(#[from] hound::Error),
    #[error("mp3: {0}")]
    Mp3(String),
    #[error("opus: {0}")]
    Opus(#[from] opus::Error),
    #[error("ogg: {0}")]
    Ogg(#[from] std::io::Error),
}

/// Encodes 24 kHz mono samples in `format`.
pub fn encode(samples: &[i16], format: AudioFormat) -> Result<Vec<u8>, EncodeError> {
    encode_at(samples, format, SPEECH_RATE)
}

/// Encodes mono samples at `rate` in `format` (Google's `sampleRateHertz`).
/// MP3 takes LAME's rates (8 to 48 kHz), Opus its own (8, 12, 16, 24, 48 kHz).
pub fn encode_at(samples: &[i16], format: AudioFormat, rate: u32) -> Result<Vec<u8>, EncodeError> {
    match format {
        AudioFormat::Pcm => Ok(samples.iter().flat_map(|s| s.to_le_bytes()).collect()),
        AudioFormat::Wav => wav(samples, rate),
        AudioFormat::Mp3 => mp3(samples, rate),
        AudioFormat::Opus => ogg_opus(samples, rate),
    }
}

/// A 16-bit mono WAV file in memory.
pub fn wav(samples: &[i16], rate: u32) -> Result<Vec<u8>, EncodeError> {
    let spec = hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut cursor = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut cursor, spec)?;
    for &s in samples {
        writer.write_sample(s)?;
    }
    writer.finalize()?;
    Ok(cursor.into_inner())
}

fn mp3(samples: &[i16], rate: u32) -> Result<Vec<u8>, EncodeError> {
    use mp3lame_encoder::{Bitrate, Builder, FlushNoGap, MonoPcm, Quality};
    let err = |e: &dyn std::fmt::Debug| EncodeError::Mp3(format!("{e:?}"));
    let mut builder = Builder::new().ok_or_else(|| EncodeError::Mp3("LAME would not start".into()))?;
    builder.set_num_channels(1).map_err(|e| err(&e))?;
    builder.set_sample_rate(rate).map_err(|e| err(&e))?;
    builder.set_brate(Bitrate::Kbps64).map_err(|e| err(&e))?;
    builder.set_quality(Quality::Good).map_err(|e| err(&e))?;
    let mut encoder = builder.build().map_err(|e| err(&e))?;
    let mut out = Vec::with_capacity(mp3lame_encoder::max_required_buffer_size(samples.len()));
    let n = encoder.encode(MonoPcm(samples), out.spare_capacity_mut()).map_err(|e| err(&e))?;
    // SAFETY: LAME wrote `n` initialised bytes into the spare capacity.
    unsafe { out.set_len(out.len() + n) };
    out.reserve(7200);
    let n = encoder.flush::<FlushNoGap>(out.spare_capacity_mut()).map_err(|e| err(&e))?;
    // SAFETY: as above, for the flushed tail.
    unsafe { out.set_len(out.len() + n) };
    Ok(out)
}

/// Ogg Opus (RFC 7845): an `OpusHead` and an `OpusTags` page, then one 20 ms
/// packet per page entry, with granule positions counted at 48 kHz.
fn ogg_opus(samples: &[i16], rate: u32) -> Result<Vec<u8>, EncodeError> {
    let frame_len = (rate / 50) as usize; // 20 ms
    let mut encoder = opus::Encoder::new(rate, opus::Channels::Mono, opus::Application::Voip)?;
    let pre_skip = (encoder.get_lookahead()? as u32 * 48_000 / rate) as u16;
    let serial = 0x5052_4953; // "SORI"-ish; any constant keeps output deterministic
    let mut out = Vec::new();
    {
        let mut writer = ogg::PacketWriter::new(&mut out);
        let mut head = b"OpusHead".to_vec();
        head.push(1); // version
        head.push(1); // channels
        head.extend_from_slice(&pre_skip.to_le_bytes());
        head.extend_from_slice(&rate.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes()); // output gain
        head.push(0); // channel mapping family
        writer.write_packet(head, serial, ogg::PacketWriteEndInfo::EndPage, 0)?;
        let mut tags = b"OpusTags".to_vec();
        let vendor = b"sori-testkit";
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor);
        tags.extend_from_slice(&0u32.to_le_bytes());
        writer.write_packet(tags, serial, ogg::PacketWriteEndInfo::EndPage, 0)?;

        let frames = samples.len().div_ceil(frame_len).max(1);
        let mut frame = vec![0i16; frame_len];
        for i in 0..frames {
            let chunk = &samples[(i * frame_len).min(samples.len())..((i + 1) * frame_len).min(samples.len())];
            frame[..chunk.len()].copy_from_slice(chunk);
            frame[chunk.len()..].fill(0);
            let packet = encoder.encode_vec(&frame, 4000)?;
            let last = i + 1 == frames;
            let granule = pre_skip as u64 + ((i * frame_len + chunk.len()) as u64 * 48_000 / rate as u64);
            let end = if last {
                ogg::PacketWriteEndInfo::EndStream
            } else if i % 50 == 49 {
                ogg::PacketWriteEndInfo::EndPage
            } else {
                ogg::PacketWriteEndInfo::NormalPacket
            };
            writer.write_packet(packet, serial, end, granule)?;
        }
    }
    Ok(out)
}

/// Cuts an encoded file at about half, mid-frame: valid HTTP, broken audio.
pub fn truncate(bytes: &[u8], format: AudioFormat) -> Vec<u8> {
    let mut cut = bytes.len() / 2;
    if format == AudioFormat::Pcm && cut.is_multiple_of(2) {
        cut += 1; // an odd byte count cannot be whole 16-bit samples
    }
    bytes[..cut.min(bytes.len())].to_vec()
}
