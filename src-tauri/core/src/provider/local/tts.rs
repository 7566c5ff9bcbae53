//! Speech on this computer as a [`TextToSpeech`] provider: a Piper neural
//! voice where one is installed (English today), and espeak-ng, the voice
//! that is always there (Korean, and English without Piper). The voice
//! setting `auto` follows each clause's script. Synthesis runs on blocking
//! threads; a Piper voice hands over each sentence as it is made, and stops
//! when the turn that asked no longer listens.

use super::{local_error, not_installed, Loaded};
use crate::audio::Pcm;
use crate::provider::{ErrorKind, ProviderError, ProviderStream, SpeechRequest, TextToSpeech};
use async_trait::async_trait;
use sori_local::{Espeak, PiperVoice};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The voice id that follows the text's language.
pub const AUTO_VOICE: &str = "auto";

/// Who speaks one text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum VoiceChoice {
    /// The installed Piper voice.
    Piper,
    /// espeak-ng with this voice (`ko`, `en-us`).
    Espeak(String),
}

fn has_hangul(text: &str) -> bool {
    text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c) || ('\u{1100}'..='\u{11FF}').contains(&c) || ('\u{3130}'..='\u{318F}').contains(&c))
}

/// Who speaks `text` for the voice setting `voice`, when `piper` (the id of
/// the Piper voice in use, if any) is there: `auto` gives Korean to
/// espeak-ng's Korean voice and the rest to Piper, or to espeak-ng's English
/// without one; a voice id that names the Piper voice picks it, except for
/// Korean text, which the English-only Piper voices cannot say; any other id
/// is an espeak-ng voice.
fn choose(voice: &str, text: &str, piper: Option<&str>) -> VoiceChoice {
    match voice.trim() {
        "" | AUTO_VOICE if has_hangul(text) => VoiceChoice::Espeak("ko".into()),
        "" | AUTO_VOICE => piper.map_or(VoiceChoice::Espeak("en-us".into()), |_| VoiceChoice::Piper),
        v if Some(v) == piper && has_hangul(text) => VoiceChoice::Espeak("ko".into()),
        v if Some(v) == piper => VoiceChoice::Piper,
        v => VoiceChoice::Espeak(v.to_string()),
    }
}

/// Where Sori looks for ONNX Runtime's library (which Piper voices need):
/// beside its own program, then in its data folder's `runtime`.
fn runtime_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        dirs.push(exe_dir.join("runtime"));
        dirs.push(exe_dir);
    }
    if let Some(data) = dirs::data_dir() {
        dirs.push(data.join("sori").join("runtime"));
    }
    dirs
}

static PIPER: Loaded<PiperVoice> = Loaded::new();

/// A Piper voice folder, loaded on first use.
struct PiperSlot {
    dir: PathBuf,
    id: String,
    voice: tokio::sync::OnceCell<Arc<PiperVoice>>,
}

/// Speech on this computer: espeak-ng, and a Piper voice if one is set.
pub struct LocalTts {
    espeak: Espeak,
    piper: Option<PiperSlot>,
}

impl LocalTts {
    /// espeak-ng, and the Piper voice in folder `piper` (its folder name is
    /// its voice id). espeak-ng is needed either way: it is Piper's phonemizer.
    pub fn new(piper: Option<PathBuf>) -> Result<Self, ProviderError> {
        let espeak = Espeak::find().map_err(local_error)?;
        let piper = piper.map(|dir| PiperSlot {
            id: dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            dir,
            voice: tokio::sync::OnceCell::new(),
        });
        Ok(LocalTts { espeak, piper })
    }

    /// The Piper voice's id, if one is set.
    pub fn piper_id(&self) -> Option<&str> {
        self.piper.as_ref().map(|p| p.id.as_str())
    }

    async fn piper(&self) -> Result<Arc<PiperVoice>, ProviderError> {
        let slot = self.piper.as_ref().ok_or_else(|| ProviderError::new(ErrorKind::Local, "No Piper voice is set."))?;
        if !slot.dir.is_dir() {
            return Err(not_installed("voice", &slot.dir));
        }
        let (dir, espeak) = (slot.dir.clone(), self.espeak.clone());
        slot.voice
            .get_or_try_init(|| async move {
                let runtime = sori_local::onnx::find_runtime(&runtime_dirs()).ok_or_else(|| {
                    ProviderError::new(
                        ErrorKind::Local,
                        "Piper voices need ONNX Runtime, which is not installed: run `bash .ci/setup` in Sori's folder (or set SORI_ONNXRUNTIME to libonnxruntime's path).",
                    )
                })?;
                let key = dir.clone();
                PIPER.get(&key, "the voice", move |threads| PiperVoice::load(&dir, &runtime, espeak, threads)).await
            })
            .await
            .cloned()
    }

    fn espeak_stream(&self, text: String, voice: String, speed: f32) -> ProviderStream<Pcm> {
        let espeak = self.espeak.clone();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::task::spawn_blocking(move || {
            let result = espeak.synthesize(&text, &voice, speed).map(|(samples, sample_rate)| Pcm { samples, sample_rate }).map_err(local_error);
            let _ = tx.send(result);
        });
        Box::pin(receiver_stream(rx))
    }
}

/// A stream of what arrives on `rx`, until its senders are gone.
fn receiver_stream<T: Send + 'static>(mut rx: tokio::sync::mpsc::UnboundedReceiver<T>) -> impl futures_util::Stream<Item = T> + Send {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[async_trait]
impl TextToSpeech for LocalTts {
    /// Loads the Piper voice now (about a second), so the first reply does not wait.
    async fn warm_up(&self) -> Result<(), ProviderError> {
        match self.piper {
            Some(_) => self.piper().await.map(|_| ()),
            None => Ok(()),
        }
    }

    async fn synthesize(&self, request: SpeechRequest<'_>) -> Result<ProviderStream<Pcm>, ProviderError> {
        let (text, speed) = (request.text.to_string(), request.speed);
        // Style instructions are not something these voices can follow; the
        // window says so next to the style field.
        let voice = match choose(request.voice, request.text, self.piper_id()) {
            VoiceChoice::Espeak(voice) => return Ok(self.espeak_stream(text, voice, speed)),
            VoiceChoice::Piper => match self.piper().await {
                Ok(voice) => voice,
                // `auto` still speaks when the neural voice cannot (the
                // warm-up already told the user why); a chosen voice says why.
                Err(_) if matches!(request.voice.trim(), "" | AUTO_VOICE) => return Ok(self.espeak_stream(text, "en-us".into(), speed)),
                Err(e) => return Err(e),
            },
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::task::spawn_blocking(move || {
            let rate = voice.sample_rate();
            let done = voice.speak(&text, speed, |samples| tx.send(Ok(Pcm { samples, sample_rate: rate })).is_ok());
            if let Err(e) = done {
                let _ = tx.send(Err(local_error(e)));
            }
        });
        Ok(Box::pin(receiver_stream(rx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auto_voice_follows_the_script_and_prefers_piper_for_english() {
        let espeak = |v: &str| VoiceChoice::Espeak(v.into());
        assert_eq!(choose("auto", "주문하신 상품은 내일 도착합니다.", None), espeak("ko"));
        assert_eq!(choose("auto", "주문하신 상품은 내일 도착합니다.", Some("piper-en-us-joe")), espeak("ko"));
        assert_eq!(choose("", "Your order arrives tomorrow.", None), espeak("en-us"));
        assert_eq!(choose("auto", "Your order arrives tomorrow.", Some("piper-en-us-joe")), VoiceChoice::Piper);
        assert_eq!(choose("piper-en-us-joe", "Hello", Some("piper-en-us-joe")), VoiceChoice::Piper);
        assert_eq!(choose("piper-en-us-joe", "안녕하세요", Some("piper-en-us-joe")), espeak("ko"), "an English voice cannot say Korean");
        assert_eq!(choose("en-gb", "안녕하세요", Some("piper-en-us-joe")), espeak("en-gb"));
    }
}
