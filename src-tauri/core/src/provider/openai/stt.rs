//! `POST /audio/transcriptions`: the utterance as a 16-bit WAV built in memory
//! (`audio::wav`), uploaded as multipart with model, language and prompt.

use super::OpenAi;
use crate::audio::wav::wav_bytes;
use crate::provider::{ProviderError, SpeechToText, SttRequest};
use async_trait::async_trait;
use reqwest::multipart::{Form, Part};

#[async_trait]
impl SpeechToText for OpenAi {
    async fn transcribe(&self, request: SttRequest<'_>) -> Result<String, ProviderError> {
        let wav = wav_bytes(request.samples, request.sample_rate);
        let len = wav.len();
        let file = Part::bytes(wav).file_name("utterance.wav").mime_str("audio/wav").expect("a valid MIME type");
        let mut form = Form::new().part("file", file).text("model", request.model.to_string()).text("response_format", "json");
        if let Some(language) = request.language.filter(|l| !l.is_empty() && *l != "auto") {
            form = form.text("language", language.to_string());
        }
        if let Some(prompt) = request.prompt.filter(|p| !p.trim().is_empty()) {
            form = form.text("prompt", prompt.to_string());
        }
        let response = self.send(self.post("audio/transcriptions").multipart(form), len).await?;
        let body = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        self.count_down(body.len());
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|_| ProviderError::bad_response("the transcription is not JSON"))?;
        let text = value["text"].as_str().ok_or_else(|| ProviderError::bad_response("the transcription has no text"))?;
        Ok(text.trim().to_string())
    }
}
