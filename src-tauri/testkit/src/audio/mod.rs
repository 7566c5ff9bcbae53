//! Audio the server speaks and tests listen to: a deterministic speech-like
//! synthesizer, real encoders for every `response_format`, and test-audio helpers.

pub mod encode;
pub mod synth;
pub mod test_audio;

pub use encode::{encode, AudioFormat, EncodeError};
pub use synth::{synthesize, SPEECH_RATE};
