//! Sound: devices, capture (cpal, resampled to 16 kHz), voice activity and
//! utterances, the listener that turns them into turns, playback (rodio) and
//! decoding of provider audio.

pub mod capture;
pub mod clock;
pub mod decode;
pub mod devices;
pub mod echo;
pub mod listener;
pub mod output;
pub mod output_stream;
pub mod pcm;
pub mod playback;
pub mod recording;
pub mod resample;
pub mod segmenter;
pub mod vad;
pub mod wav;

pub use devices::{list_devices, AudioDevice, DeviceError, DeviceList};
pub use pcm::{Pcm, PCM_RATE};
