//! Speech on this computer as providers: Whisper speech-to-text, and Piper
//! or espeak-ng speech, from `sori-local`, adapted to [`SpeechToText`] and
//! [`TextToSpeech`](crate::provider::TextToSpeech).

mod stt;
mod tts;

pub use stt::LocalStt;
pub use tts::{runtime_dirs, LocalTts, VoiceChoice, AUTO_VOICE};

use crate::provider::{ErrorKind, ProviderError};
use sori_local::LocalError;

fn local_error(e: LocalError) -> ProviderError {
    ProviderError::new(ErrorKind::Local, e.to_string())
}
