//! Audio at any rate into another as it streams (the microphone into 16 kHz
//! mono i16, Realtime mode's streamed microphone on into 24 kHz), in 20 ms
//! frames, and a whole recording from one rate to another.
//! Resampling is rubato's synchronous FFT resampler (fixed ratio, fast,
//! allocation-free while running); 16 kHz input passes straight through.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Samples in one 20 ms frame at 16 kHz.
pub const FRAME_SAMPLES: usize = 320;

/// A streaming resampler that hands out whole 20 ms frames at its output rate.
pub struct Streaming {
    resampler: Option<Fft<f32>>,
    input: Vec<f32>,
    output: Vec<f32>,
    frame: Vec<i16>,
    frame_len: usize,
}

/// The microphone's resampler: any rate into 16 kHz frames of [`FRAME_SAMPLES`].
pub type To16k = Streaming;

impl Streaming {
    /// Any rate into 16 kHz.
    pub fn new(input_rate: u32) -> Result<Self, rubato::ResamplerConstructionError> {
        Self::between(input_rate, 16_000)
    }

    /// `input_rate` into `output_rate`, in frames of `output_rate / 50` samples.
    pub fn between(input_rate: u32, output_rate: u32) -> Result<Self, rubato::ResamplerConstructionError> {
        let resampler = if input_rate == output_rate {
            None
        } else {
            Some(Fft::<f32>::new(input_rate as usize, output_rate as usize, (input_rate / 50) as usize, 1, FixedSync::Input)?)
        };
        let out_max = resampler.as_ref().map(|r| r.output_frames_max()).unwrap_or(0);
        let frame_len = (output_rate / 50) as usize;
        Ok(Streaming { resampler, input: Vec::with_capacity(8192), output: vec![0.0; out_max], frame: Vec::with_capacity(frame_len), frame_len })
    }

    /// Takes i16 samples, as [`Streaming::push`] takes floats.
    pub fn push_i16(&mut self, samples: &[i16], on_frame: impl FnMut(&[i16])) {
        let floats: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
        self.push(&floats, on_frame);
    }

    /// How many output samples the resampler holds back (its output lags the input by this much).
    pub fn delay(&self) -> usize {
        self.resampler.as_ref().map(|r| r.output_delay()).unwrap_or(0)
    }

    /// Takes mono samples (-1.0..1.0); calls `on_frame` for every full 20 ms frame.
    pub fn push(&mut self, samples: &[f32], mut on_frame: impl FnMut(&[i16])) {
        let Some(resampler) = self.resampler.as_mut() else {
            for &s in samples {
                push_sample(&mut self.frame, self.frame_len, s, &mut on_frame);
            }
            return;
        };
        self.input.extend_from_slice(samples);
        loop {
            let need = resampler.input_frames_next();
            if self.input.len() < need {
                break;
            }
            let input = InterleavedSlice::new(&self.input[..need], 1, need).expect("sized to the chunk");
            let out_len = self.output.len();
            let mut output = InterleavedSlice::new_mut(&mut self.output[..], 1, out_len).expect("sized to the maximum");
            let (_, produced) = resampler.process_into_buffer(&input, &mut output, None).expect("buffers are sized as rubato asks");
            self.input.drain(..need);
            for &s in &self.output[..produced] {
                push_sample(&mut self.frame, self.frame_len, s, &mut on_frame);
            }
        }
    }
}

/// A whole recording at `to` Hz, as long as it was (the resampler's delay
/// trimmed, its tail flushed).
pub fn resample(samples: &[i16], from: u32, to: u32) -> Result<Vec<i16>, rubato::ResamplerConstructionError> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let chunk = (from / 50) as usize;
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, chunk, 1, FixedSync::Input)?;
    let delay = resampler.output_delay();
    let want = (samples.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    let mut input: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
    // Silence behind the end pushes the last of the audio through the delay.
    let pad = 3 * chunk + (delay as u64 * u64::from(from) / u64::from(to)) as usize;
    input.resize(input.len() + pad, 0.0);
    let mut out = Vec::with_capacity(want + delay + chunk);
    let mut buffer = vec![0.0f32; resampler.output_frames_max()];
    for piece in input.chunks_exact(chunk) {
        let i = InterleavedSlice::new(piece, 1, chunk).expect("sized to the chunk");
        let len = buffer.len();
        let mut o = InterleavedSlice::new_mut(&mut buffer[..], 1, len).expect("sized to the maximum");
        let (_, produced) = resampler.process_into_buffer(&i, &mut o, None).expect("buffers are sized as rubato asks");
        out.extend(buffer[..produced].iter().map(|s| (s.clamp(-1.0, 1.0) * 32767.0) as i16));
        if out.len() >= want + delay {
            break;
        }
    }
    Ok(out.into_iter().skip(delay).take(want).collect())
}

fn push_sample(frame: &mut Vec<i16>, len: usize, s: f32, on_frame: &mut impl FnMut(&[i16])) {
    frame.push((s.clamp(-1.0, 1.0) * 32767.0) as i16);
    if frame.len() == len {
        on_frame(frame);
        frame.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, seconds: f64, hz: f64) -> Vec<f32> {
        (0..(rate as f64 * seconds) as usize).map(|i| (std::f64::consts::TAU * hz * i as f64 / rate as f64).sin() as f32 * 0.5).collect()
    }

    #[test]
    fn a_whole_recording_keeps_its_length_and_pitch_at_the_new_rate() {
        let source: Vec<i16> = tone(16_000, 1.3, 440.0).iter().map(|s| (s * 32767.0) as i16).collect();
        let out = resample(&source, 16_000, 24_000).unwrap();
        assert_eq!(out.len(), 31_200);
        let steady = &out[3000..out.len() - 3000];
        let crossings = steady.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count() as f64 / (steady.len() as f64 / 24_000.0);
        assert!((crossings - 880.0).abs() < 20.0, "{crossings} crossings a second");
        // Aligned: the delay is trimmed, so the tone starts at the start.
        assert!(out[..200].iter().any(|s| s.abs() > 3000), "the start is not silence");
        assert_eq!(resample(&source, 24_000, 24_000).unwrap(), source);
    }

    #[test]
    fn any_rate_becomes_16k_frames_with_the_pitch_kept() {
        for rate in [16_000, 44_100, 48_000, 22_050] {
            let mut r = To16k::new(rate).unwrap();
            let mut frames: Vec<Vec<i16>> = vec![];
            // In odd pieces, as a device delivers them.
            for piece in tone(rate, 1.0, 440.0).chunks(333) {
                r.push(piece, |f| frames.push(f.to_vec()));
            }
            assert!(frames.iter().all(|f| f.len() == FRAME_SAMPLES));
            let samples: Vec<i16> = frames.concat();
            assert!((samples.len() as i64 - 16_000).abs() <= 2 * FRAME_SAMPLES as i64 + 1024, "{rate}: {} samples", samples.len());
            // 440 Hz at 16 kHz: about 880 zero crossings a second.
            let steady = &samples[2000..samples.len() - 2000];
            let crossings = steady.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count() as f64 / (steady.len() as f64 / 16_000.0);
            assert!((crossings - 880.0).abs() < 20.0, "{rate}: {crossings} crossings a second");
        }
    }

    #[test]
    fn a_16k_stream_becomes_24k_frames_for_realtime() {
        let mut r = Streaming::between(16_000, 24_000).unwrap();
        let source: Vec<i16> = tone(16_000, 1.0, 440.0).iter().map(|s| (s * 32767.0) as i16).collect();
        let mut frames: Vec<Vec<i16>> = vec![];
        for frame in source.chunks(FRAME_SAMPLES) {
            r.push_i16(frame, |f| frames.push(f.to_vec()));
        }
        assert!(frames.iter().all(|f| f.len() == 480), "20 ms at 24 kHz");
        let samples: Vec<i16> = frames.concat();
        assert!((samples.len() as i64 - 24_000).abs() <= 2 * 480 + 1024, "{} samples", samples.len());
        let steady = &samples[3000..samples.len() - 3000];
        let crossings = steady.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count() as f64 / (steady.len() as f64 / 24_000.0);
        assert!((crossings - 880.0).abs() < 20.0, "{crossings} crossings a second");
    }
}
