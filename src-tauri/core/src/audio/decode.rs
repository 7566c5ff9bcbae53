//! Speech audio from a provider into mono 16-bit samples: raw PCM and WAV are
//! decoded as their bytes arrive; MP3 (symphonia, through rodio's decoder) and
//! Ogg Opus (libopus) are decoded whole. Truncated or corrupt audio is an error
//! the turn can report, never a panic.

use super::pcm::{downmix, PCM_RATE};
use std::io::Cursor;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the audio ended in the middle of a sample")]
    Truncated,
    #[error("the audio is not a WAV file Sori can play ({0})")]
    BadWav(&'static str),
    #[error("the audio could not be decoded ({0})")]
    Corrupt(String),
}

/// Raw 16-bit little-endian bytes into samples, across arbitrary splits.
#[derive(Debug, Default)]
pub struct PcmBytes {
    carry: Option<u8>,
}

impl PcmBytes {
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<i16> {
        let mut out = Vec::with_capacity(bytes.len() / 2 + 1);
        if let (Some(lo), Some(&hi)) = (self.carry, bytes.first()) {
            out.push(i16::from_le_bytes([lo, hi]));
            self.carry = None;
            bytes = &bytes[1..];
        }
        let mut pairs = bytes.chunks_exact(2);
        out.extend(pairs.by_ref().map(|p| i16::from_le_bytes([p[0], p[1]])));
        if let [last] = pairs.remainder() {
            self.carry = Some(*last);
        }
        out
    }

    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.carry {
            Some(_) => Err(DecodeError::Truncated),
            None => Ok(()),
        }
    }
}

/// A WAV stream: the header is read as it arrives, then 16-bit samples flow
/// out (channels mixed down to mono) while the data is still coming.
#[derive(Debug, Default)]
pub struct WavStream {
    header: Vec<u8>,
    format: Option<WavFormat>,
    pcm: PcmBytes,
    frame: Vec<i16>,
    received: u64,
}

#[derive(Debug, Clone, Copy)]
struct WavFormat {
    channels: u16,
    sample_rate: u32,
    /// Bytes of sample data the header declares (`u32::MAX` or 0: unknown, as streaming servers send).
    data_len: u32,
}

impl WavStream {
    /// The sample rate, once the header has been read.
    pub fn sample_rate(&self) -> Option<u32> {
        self.format.map(|f| f.sample_rate)
    }

    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<i16>, DecodeError> {
        let Some(format) = self.format else {
            self.header.extend_from_slice(bytes);
            return match parse_header(&self.header)? {
                Some((format, data_start)) => {
                    self.format = Some(format);
                    let rest = std::mem::take(&mut self.header).split_off(data_start);
                    self.push(&rest)
                }
                None if self.header.len() > 64 * 1024 => Err(DecodeError::BadWav("no data chunk")),
                None => Ok(Vec::new()),
            };
        };
        self.received += bytes.len() as u64;
        let samples = self.pcm.push(bytes);
        if format.channels == 1 {
            return Ok(samples);
        }
        let mut out = Vec::with_capacity(samples.len() / format.channels as usize);
        for s in samples {
            self.frame.push(s);
            if self.frame.len() == format.channels as usize {
                let sum: i32 = self.frame.drain(..).map(i32::from).sum();
                out.push((sum / format.channels as i32) as i16);
            }
        }
        Ok(out)
    }

    pub fn finish(&self) -> Result<(), DecodeError> {
        let format = self.format.ok_or(DecodeError::BadWav("the header never ended"))?;
        self.pcm.finish()?;
        let declared = format.data_len as u64;
        if declared != 0 && declared != u32::MAX as u64 && self.received < declared {
            return Err(DecodeError::Truncated);
        }
        Ok(())
    }
}

/// Finds `fmt ` and `data` in a RIFF header; `None` until enough bytes arrived.
fn parse_header(h: &[u8]) -> Result<Option<(WavFormat, usize)>, DecodeError> {
    if h.len() < 12 {
        return Ok(None);
    }
    if &h[0..4] != b"RIFF" || &h[8..12] != b"WAVE" {
        return Err(DecodeError::BadWav("no RIFF/WAVE header"));
    }
    let mut pos = 12;
    let mut fmt: Option<(u16, u32)> = None;
    while pos + 8 <= h.len() {
        let id = &h[pos..pos + 4];
        let len = u32::from_le_bytes([h[pos + 4], h[pos + 5], h[pos + 6], h[pos + 7]]);
        if id == b"data" {
            let (channels, sample_rate) = fmt.ok_or(DecodeError::BadWav("data before fmt"))?;
            return Ok(Some((WavFormat { channels, sample_rate, data_len: len }, pos + 8)));
        }
        let end = pos + 8 + len as usize + (len as usize & 1);
        if id == b"fmt " {
            if h.len() < pos + 24 {
                return Ok(None);
            }
            let tag = u16::from_le_bytes([h[pos + 8], h[pos + 9]]);
            let channels = u16::from_le_bytes([h[pos + 10], h[pos + 11]]);
            let rate = u32::from_le_bytes([h[pos + 12], h[pos + 13], h[pos + 14], h[pos + 15]]);
            let bits = u16::from_le_bytes([h[pos + 22], h[pos + 23]]);
            if !(tag == 1 || tag == 0xFFFE) || bits != 16 || channels == 0 || rate == 0 {
                return Err(DecodeError::BadWav("only 16-bit PCM is supported"));
            }
            fmt = Some((channels, rate));
        }
        pos = end;
    }
    Ok(None)
}

/// Decodes a whole MP3 file (symphonia through rodio) to mono samples.
pub fn decode_mp3(bytes: Vec<u8>) -> Result<(Vec<i16>, u32), DecodeError> {
    use rodio::Source;
    let decoder = rodio::Decoder::try_from(Cursor::new(bytes)).map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let channels = decoder.channels().get() as usize;
    let rate = decoder.sample_rate().get();
    let interleaved: Vec<f32> = decoder.collect();
    if interleaved.is_empty() {
        return Err(DecodeError::Corrupt("no audio frames".into()));
    }
    let scaled: Vec<f32> = interleaved.iter().map(|s| s.clamp(-1.0, 1.0) * i16::MAX as f32).collect();
    Ok((downmix(&scaled, channels), rate))
}

/// Decodes a whole Ogg Opus file (RFC 7845) with libopus at 24 kHz mono.
pub fn decode_ogg_opus(bytes: Vec<u8>) -> Result<(Vec<i16>, u32), DecodeError> {
    let bad = |e: &dyn std::fmt::Display| DecodeError::Corrupt(e.to_string());
    let mut reader = ogg::PacketReader::new(Cursor::new(bytes));
    let mut decoder = opus::Decoder::new(PCM_RATE, opus::Channels::Mono).map_err(|e| bad(&e))?;
    let mut out = Vec::new();
    let mut frame = vec![0i16; 5760];
    let mut packets = 0;
    let mut pre_skip = 0usize;
    while let Some(packet) = reader.read_packet().map_err(|e| bad(&e))? {
        packets += 1;
        match packets {
            1 if packet.data.starts_with(b"OpusHead") && packet.data.len() >= 12 => {
                pre_skip = u16::from_le_bytes([packet.data[10], packet.data[11]]) as usize * PCM_RATE as usize / 48_000;
            }
            1 => return Err(DecodeError::Corrupt("not an Ogg Opus stream".into())),
            2 => {} // OpusTags
            _ => {
                let n = decoder.decode(&packet.data, &mut frame, false).map_err(|e| bad(&e))?;
                out.extend_from_slice(&frame[..n]);
            }
        }
    }
    if packets < 3 {
        return Err(DecodeError::Corrupt("no audio packets".into()));
    }
    out.drain(..pre_skip.min(out.len()));
    Ok((out, PCM_RATE))
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
