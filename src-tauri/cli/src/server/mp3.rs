//! The reply as MP3 while it is being made (LAME, through mp3lame-encoder):
//! each piece of speech is encoded as it comes, so the tutorial's
//! `audio/mpeg` answer starts flowing with the first clause.

use mp3lame_encoder::{Bitrate, Builder, Encoder, FlushNoGap, MonoPcm, Quality};
use sori_core::audio::Pcm;
use std::borrow::Cow;

pub struct Mp3Stream {
    encoder: Encoder,
    rate: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("the reply could not be encoded as MP3 ({0})")]
pub struct Mp3Error(String);

impl Mp3Stream {
    /// An encoder at `rate` (the speech's own), 64 kbit/s mono: plenty for a voice.
    pub fn new(rate: u32) -> Result<Self, Mp3Error> {
        let err = |e: &dyn std::fmt::Debug| Mp3Error(format!("{e:?}"));
        let mut builder = Builder::new().ok_or_else(|| Mp3Error("LAME would not start".into()))?;
        builder.set_num_channels(1).map_err(|e| err(&e))?;
        builder.set_sample_rate(rate).map_err(|e| err(&e))?;
        builder.set_brate(Bitrate::Kbps64).map_err(|e| err(&e))?;
        builder.set_quality(Quality::Good).map_err(|e| err(&e))?;
        Ok(Mp3Stream { encoder: builder.build().map_err(|e| err(&e))?, rate })
    }

    /// The MP3 bytes for `pcm` that LAME can give so far.
    pub fn push(&mut self, pcm: &Pcm) -> Result<Vec<u8>, Mp3Error> {
        let samples =
            if pcm.sample_rate == self.rate { Cow::Borrowed(&pcm.samples[..]) } else { Cow::Owned(linear(&pcm.samples, pcm.sample_rate, self.rate)) };
        let mut out = Vec::with_capacity(mp3lame_encoder::max_required_buffer_size(samples.len()));
        self.encoder.encode_to_vec(MonoPcm(&samples), &mut out).map_err(|e| Mp3Error(format!("{e:?}")))?;
        Ok(out)
    }

    /// The last frames.
    pub fn finish(mut self) -> Result<Vec<u8>, Mp3Error> {
        let mut out = Vec::with_capacity(7200);
        self.encoder.flush_to_vec::<FlushNoGap>(&mut out).map_err(|e| Mp3Error(format!("{e:?}")))?;
        Ok(out)
    }
}

/// Speech at another rate than the first piece's (a voice that changed
/// mid-reply, which providers do not do): straight-line resampling is enough
/// for that rare piece.
fn linear(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    let n = (samples.len() as u64 * u64::from(to) / u64::from(from.max(1))) as usize;
    (0..n)
        .map(|i| {
            let x = i as f64 * f64::from(from) / f64::from(to);
            let (j, t) = (x as usize, x.fract());
            let a = f64::from(samples[j.min(samples.len() - 1)]);
            let b = f64::from(samples[(j + 1).min(samples.len() - 1)]);
            (a + (b - a) * t) as i16
        })
        .collect()
}
