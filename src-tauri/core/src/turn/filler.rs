//! The filler: a short line Sori says on its own ("잠시만 기다려 주세요.")
//! when a tool has run for half a second and the model said nothing before
//! calling it, so the user never sits in silence. Its audio is made ahead of
//! time, once per voice and language, so it plays at once; it is an aside,
//! never part of the reply the model's history keeps.

use super::speaker::{Line, Voice};
use crate::audio::Pcm;
use crate::provider::{SpeechRequest, TextToSpeech};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const FILLER_KO: &str = "잠시만 기다려 주세요.";
pub const FILLER_EN: &str = "One moment, please.";

/// How long a tool may run in silence before the filler plays.
pub const FILLER_AFTER: Duration = Duration::from_millis(500);

/// The filler in the conversation's language.
pub fn text(korean: bool) -> &'static str {
    if korean {
        FILLER_KO
    } else {
        FILLER_EN
    }
}

/// Filler audio made ahead of time, per voice and text. Cheap to clone; the
/// clones share their clips.
#[derive(Clone, Default)]
pub struct Fillers {
    clips: Arc<Mutex<HashMap<String, Arc<Vec<Pcm>>>>>,
}

fn key(voice: &Voice, text: &str) -> String {
    format!("{}|{}|{:?}|{}|{}|{:?}|{text}", voice.model, voice.voice, voice.style, voice.speed, voice.pitch, voice.format)
}

impl Fillers {
    /// The line to say: the clip when it is ready, else the text to synthesize now.
    pub fn line(&self, voice: &Voice, text: &str) -> Line {
        let clip = self.clips.lock().unwrap().get(&key(voice, text)).cloned();
        Line { clip, ..Line::aside(text) }
    }

    /// Whether the clip for this voice and text is made.
    pub fn is_ready(&self, voice: &Voice, text: &str) -> bool {
        self.clips.lock().unwrap().contains_key(&key(voice, text))
    }

    /// Makes the clip unless it is made; a failure leaves it to be
    /// synthesized when it is needed.
    pub async fn prepare(&self, tts: Arc<dyn TextToSpeech>, voice: &Voice, text: &str) {
        if self.is_ready(voice, text) {
            return;
        }
        let request = SpeechRequest {
            text,
            model: &voice.model,
            voice: &voice.voice,
            instructions: voice.style.as_deref(),
            speed: voice.speed,
            pitch: voice.pitch,
            format: voice.format,
        };
        let Ok(mut stream) = tts.synthesize(request).await else { return };
        let mut pieces = Vec::new();
        while let Some(piece) = stream.next().await {
            match piece {
                Ok(pcm) => pieces.push(pcm),
                Err(_) => return,
            }
        }
        if !pieces.is_empty() {
            self.clips.lock().unwrap().insert(key(voice, text), Arc::new(pieces));
        }
    }
}
