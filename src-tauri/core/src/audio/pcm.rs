//! Decoded sound as the engine passes it around: mono 16-bit samples with
//! their rate, and the one down-mix every decoder and file reader uses.

/// OpenAI's `pcm` format: 24 kHz, 16-bit little-endian, mono.
pub const PCM_RATE: u32 = 24_000;

/// A piece of decoded mono audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcm {
    pub samples: Vec<i16>,
    pub sample_rate: u32,
}

impl Pcm {
    /// How long the piece plays.
    pub fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.samples.len() as f64 / self.sample_rate.max(1) as f64)
    }
}

/// Interleaved frames of `channels` samples, mixed down to mono by their mean.
pub fn downmix<T: Copy + Into<f64>>(interleaved: &[T], channels: usize) -> Vec<i16> {
    let channels = channels.max(1);
    interleaved
        .chunks_exact(channels)
        .map(|frame| {
            let mean = frame.iter().map(|&s| s.into()).sum::<f64>() / channels as f64;
            mean.round().clamp(i16::MIN as f64, i16::MAX as f64) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_takes_the_mean_of_each_frame() {
        assert_eq!(downmix(&[100i16, 300, -5, -7, 32767, 32767], 2), [200, -6, 32767]);
        assert_eq!(downmix(&[1i16, 2, 3], 1), [1, 2, 3]);
        assert_eq!(downmix(&[1.0f32 * 20000.0, 10000.0], 2), [15000]);
    }
}
