//! Sound: devices, capture (cpal, resampled to 16 kHz), voice activity and
//! utterances, the listener that turns them into turns, playback (rodio) and
//! decoding of provider audio.

pub mod capture;
pub mod decode;
pub mod listener;
pub mod devices;
pub mod output;
pub mod playback;
pub mod resample;
pub mod segmenter;
pub mod vad;

pub use devices::{list_devices, AudioDevice, DeviceError, DeviceList};
