//! Sound devices: what exists, and (later) capture and playback on them.

pub mod capture;
pub mod decode;
pub mod devices;
pub mod output;
pub mod resample;
pub mod segmenter;
pub mod vad;

pub use devices::{list_devices, AudioDevice, DeviceError, DeviceList};
