//! The speaker's device stream: rodio's mixer, pulled by a cpal stream of
//! our own rather than rodio's, so that the callback can hand exactly what
//! it sends to the device, with cpal's time of playing it, to the echo
//! reference. Buffers of about 50 ms, as rodio's own stream asks for.

use super::echo::EchoReference;
use super::output::OutputError;
use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, Sample, SizedSample, StreamConfig};
use rodio::mixer::{Mixer, MixerSource};
use std::sync::Arc;
use std::time::Instant;

/// A playing device stream and the mixer it plays.
pub struct MixerStream {
    _stream: cpal::Stream,
    pub mixer: Mixer,
}

/// Opens `device` in its default format and starts it playing the mixer.
pub fn open(
    device: &cpal::Device,
    tap: Option<Arc<EchoReference>>,
    on_error: impl FnMut(cpal::Error) + Send + Clone + 'static,
) -> Result<MixerStream, OutputError> {
    let supported = device.default_output_config().map_err(OutputError::open)?;
    let (channels, rate) = (supported.channels(), supported.sample_rate());
    // About 50 ms a buffer, a power of two (what rodio asks for too); the
    // device's own size if it will not take that.
    let frames = (rate / 20).next_power_of_two() / 2;
    let attempt = |buffer_size| -> Result<(cpal::Stream, Mixer), OutputError> {
        let (mixer, source) = rodio::mixer::mixer(channels.try_into().map_err(OutputError::open)?, rate.try_into().map_err(OutputError::open)?);
        let config = StreamConfig { channels, sample_rate: rate, buffer_size };
        let (tap, on_error) = (tap.clone(), on_error.clone());
        let stream = match supported.sample_format() {
            cpal::SampleFormat::F32 => build::<f32>(device, config, source, tap, on_error),
            cpal::SampleFormat::I16 => build::<i16>(device, config, source, tap, on_error),
            cpal::SampleFormat::U16 => build::<u16>(device, config, source, tap, on_error),
            cpal::SampleFormat::I32 => build::<i32>(device, config, source, tap, on_error),
            other => return Err(OutputError::open(format!("unsupported sample format {other}"))),
        }
        .map_err(OutputError::open)?;
        Ok((stream, mixer))
    };
    let (stream, mixer) = attempt(cpal::BufferSize::Fixed(frames)).or_else(|_| attempt(cpal::BufferSize::Default))?;
    stream.play().map_err(OutputError::open)?;
    Ok(MixerStream { _stream: stream, mixer })
}

fn build<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut source: MixerSource,
    tap: Option<Arc<EchoReference>>,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
    f32: FromSample<T>,
{
    let (channels, rate) = (config.channels as usize, config.sample_rate);
    device.build_output_stream::<T, _, _>(
        config,
        move |data: &mut [T], info: &cpal::OutputCallbackInfo| {
            // Real-time: no locks waited on, no allocation.
            for d in data.iter_mut() {
                *d = source.next().map(T::from_sample).unwrap_or(T::EQUILIBRIUM);
            }
            if let Some(tap) = &tap {
                // When the device will play this buffer's first frame, on our clock.
                let stamp = info.timestamp();
                let at = Instant::now() + stamp.playback.duration_since(stamp.callback);
                tap.write(data, channels, rate, at, f32::from_sample);
            }
        },
        on_error,
        None,
    )
}
