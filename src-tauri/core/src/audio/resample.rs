//! Microphone audio at any rate into 16 kHz mono i16, in 20 ms frames.
//! Resampling is rubato's synchronous FFT resampler (fixed ratio, fast,
//! allocation-free while running); 16 kHz input passes straight through.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Samples in one 20 ms frame at 16 kHz.
pub const FRAME_SAMPLES: usize = 320;

pub struct To16k {
    resampler: Option<Fft<f32>>,
    input: Vec<f32>,
    output: Vec<f32>,
    frame: Vec<i16>,
}

impl To16k {
    pub fn new(input_rate: u32) -> Result<Self, rubato::ResamplerConstructionError> {
        let resampler = if input_rate == 16_000 {
            None
        } else {
            Some(Fft::<f32>::new(input_rate as usize, 16_000, (input_rate / 50) as usize, 1, FixedSync::Input)?)
        };
        let out_max = resampler.as_ref().map(|r| r.output_frames_max()).unwrap_or(0);
        Ok(To16k { resampler, input: Vec::with_capacity(8192), output: vec![0.0; out_max], frame: Vec::with_capacity(FRAME_SAMPLES) })
    }

    /// How many 16 kHz samples the resampler holds back (its output lags the input by this much).
    pub fn delay(&self) -> usize {
        self.resampler.as_ref().map(|r| r.output_delay()).unwrap_or(0)
    }

    /// Takes mono samples (-1.0..1.0); calls `on_frame` for every full 20 ms frame.
    pub fn push(&mut self, samples: &[f32], mut on_frame: impl FnMut(&[i16])) {
        let Some(resampler) = self.resampler.as_mut() else {
            for &s in samples {
                push_sample(&mut self.frame, s, &mut on_frame);
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
                push_sample(&mut self.frame, s, &mut on_frame);
            }
        }
    }
}

fn push_sample(frame: &mut Vec<i16>, s: f32, on_frame: &mut impl FnMut(&[i16])) {
    frame.push((s.clamp(-1.0, 1.0) * 32767.0) as i16);
    if frame.len() == FRAME_SAMPLES {
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
}
