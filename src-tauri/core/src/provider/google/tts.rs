//! `POST /v1/text:synthesize` for one clause at a time, as LINEAR16 (a WAV
//! in the JSON's base64, decoded here), with the voice, speaking rate and
//! pitch; and `GET /v1/voices` for the voice picker.

use super::GoogleCloud;
use crate::audio::decode::WavStream;
use crate::audio::{Pcm, PCM_RATE};
use crate::provider::{ProviderError, ProviderStream, SpeechRequest, TextToSpeech};
use async_trait::async_trait;
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Value};

/// A voice Google offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoogleVoice {
    /// `ko-KR-Standard-A`, …
    pub name: String,
    pub language_codes: Vec<String>,
    /// `FEMALE`, `MALE` or `NEUTRAL`.
    pub gender: String,
    pub natural_sample_rate: u32,
}

/// A voice's language, from its name (`ko-KR-Standard-A` → `ko-KR`).
pub fn voice_language(name: &str) -> Option<String> {
    let mut parts = name.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(lang), Some(region), Some(_)) if !lang.is_empty() && !region.is_empty() => Some(format!("{lang}-{region}")),
        _ => None,
    }
}

impl GoogleCloud {
    fn synthesize_body(request: &SpeechRequest<'_>) -> Value {
        let name = request.voice.trim();
        let voice = match voice_language(name) {
            Some(language) => json!({ "languageCode": language, "name": name }),
            // No voice chosen: Google picks one for the text's language.
            None => json!({ "languageCode": if crate::text::is_korean(request.text) { "ko-KR" } else { "en-US" } }),
        };
        let mut audio = json!({
            "audioEncoding": "LINEAR16",
            "sampleRateHertz": PCM_RATE,
            "speakingRate": request.speed.clamp(0.25, 4.0),
        });
        // Only a changed pitch is sent: some voices (Chirp 3 HD) take none.
        if request.pitch != 0.0 {
            audio["pitch"] = json!(request.pitch.clamp(-20.0, 20.0));
        }
        json!({ "input": { "text": request.text }, "voice": voice, "audioConfig": audio })
    }

    /// The voices Google offers, for `language` (`ko-KR`) or all.
    pub async fn voices(&self, language: Option<&str>) -> Result<Vec<GoogleVoice>, ProviderError> {
        let mut url = Self::url(&self.tts, "v1/voices");
        if let Some(language) = language.filter(|l| !l.trim().is_empty()) {
            url.query_pairs_mut().append_pair("languageCode", language.trim());
        }
        let reply = self.send(&self.tts, || self.http.get(url.clone()), 0).await?;
        let value: Value = serde_json::from_slice(&reply).map_err(|_| ProviderError::bad_response("Google's voice list is not JSON"))?;
        let voices = value["voices"].as_array().cloned().unwrap_or_default();
        let mut list: Vec<GoogleVoice> = voices
            .iter()
            .filter_map(|v| {
                Some(GoogleVoice {
                    name: v["name"].as_str()?.to_string(),
                    language_codes: v["languageCodes"].as_array()?.iter().filter_map(|l| l.as_str().map(str::to_string)).collect(),
                    gender: v["ssmlGender"].as_str().unwrap_or("SSML_VOICE_GENDER_UNSPECIFIED").to_string(),
                    natural_sample_rate: v["naturalSampleRateHertz"].as_u64().unwrap_or(0) as u32,
                })
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }
}

/// The audio of a synthesize reply: base64 of a WAV file.
fn audio_of(reply: &[u8]) -> Result<Pcm, ProviderError> {
    let value: Value = serde_json::from_slice(reply).map_err(|_| ProviderError::bad_response("Google's speech reply is not JSON"))?;
    let content = value["audioContent"].as_str().ok_or_else(|| ProviderError::bad_response("Google's speech reply has no audio"))?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(content).map_err(|_| ProviderError::bad_response("Google's audio is not base64"))?;
    let mut wav = WavStream::default();
    let samples = wav.push(&bytes).map_err(ProviderError::bad_response)?;
    wav.finish().map_err(ProviderError::bad_response)?;
    let sample_rate = wav.sample_rate().ok_or_else(|| ProviderError::bad_response("Google's audio has no WAV header"))?;
    Ok(Pcm { samples, sample_rate })
}

#[async_trait]
impl TextToSpeech for GoogleCloud {
    async fn synthesize(&self, request: SpeechRequest<'_>) -> Result<ProviderStream<Pcm>, ProviderError> {
        let body = serde_json::to_vec(&Self::synthesize_body(&request)).expect("a synthesize request serializes");
        let url = Self::url(&self.tts, "v1/text:synthesize");
        let build = || self.http.post(url.clone()).header("content-type", "application/json").body(body.clone());
        let reply = self.send(&self.tts, build, body.len()).await?;
        let audio = audio_of(&reply)?;
        Ok(Box::pin(futures_util::stream::iter([Ok(audio)])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::AudioFormat;

    #[test]
    fn the_request_names_the_voice_its_language_rate_and_pitch() {
        let request = SpeechRequest {
            text: "안녕하세요",
            model: "",
            voice: "ko-KR-Neural2-C",
            instructions: None,
            speed: 9.0,
            pitch: -2.5,
            format: AudioFormat::Pcm,
        };
        let body = GoogleCloud::synthesize_body(&request);
        assert_eq!(body["voice"], json!({"languageCode": "ko-KR", "name": "ko-KR-Neural2-C"}));
        assert_eq!(body["audioConfig"]["speakingRate"], json!(4.0), "Google's range is 0.25 to 4");
        assert_eq!(body["audioConfig"]["pitch"], json!(-2.5));
        let unnamed = GoogleCloud::synthesize_body(&SpeechRequest { voice: "", text: "Hello", ..request });
        assert_eq!(unnamed["voice"], json!({"languageCode": "en-US"}));
        assert_eq!(voice_language("cmn-CN-Wavenet-A").as_deref(), Some("cmn-CN"));
    }

    #[test]
    fn a_cut_or_missing_wav_is_a_bad_response() {
        let wav = crate::audio::wav::wav_bytes(&[100; 2400], 24_000);
        let whole = json!({ "audioContent": base64::engine::general_purpose::STANDARD.encode(&wav) }).to_string();
        assert_eq!(audio_of(whole.as_bytes()).unwrap().samples.len(), 2400);
        let cut = json!({ "audioContent": base64::engine::general_purpose::STANDARD.encode(&wav[..wav.len() / 2 + 1]) }).to_string();
        assert_eq!(audio_of(cut.as_bytes()).unwrap_err().kind, crate::provider::ErrorKind::BadResponse);
        assert_eq!(audio_of(b"{}").unwrap_err().kind, crate::provider::ErrorKind::BadResponse);
    }
}
