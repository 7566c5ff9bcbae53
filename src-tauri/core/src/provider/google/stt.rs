//! `POST /v1/speech:recognize`: the utterance as base64 LINEAR16, the
//! language (or a list to choose from), the model, and the vocabulary as
//! phrase hints. Audio over Google's one-minute limit goes in parts.

use super::GoogleCloud;
use crate::provider::{ProviderError, SpeechToText, SttRequest};
use async_trait::async_trait;
use base64::Engine;
use serde_json::{json, Value};

/// Google's synchronous recognition takes at most a minute; parts stay under it.
const MAX_PART_SECONDS: usize = 55;

/// Google's limits on phrase hints: 100 characters a phrase, and a few hundred phrases.
const MAX_PHRASE_CHARS: usize = 100;
const MAX_PHRASES: usize = 500;

/// The BCP-47 code for an ISO-639-1 language when the list has none.
fn region_for(language: &str) -> String {
    match language {
        "ko" => "ko-KR".into(),
        "en" => "en-US".into(),
        "ja" => "ja-JP".into(),
        "zh" => "cmn-Hans-CN".into(),
        other => other.to_string(),
    }
}

/// The vocabulary setting's words and names as phrases (comma, semicolon or line separated).
pub fn phrases(vocabulary: &str) -> Vec<String> {
    vocabulary
        .split([',', ';', '\n', '、'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.chars().take(MAX_PHRASE_CHARS).collect())
        .take(MAX_PHRASES)
        .collect()
}

impl GoogleCloud {
    /// The main language and the alternatives for a request: a set language
    /// (`ko`) takes its entry of the list (`ko-KR`); automatic takes the
    /// whole list, the first as the main one (Google allows 3 alternatives).
    pub fn languages_for(&self, language: Option<&str>) -> (String, Vec<String>) {
        let list: Vec<String> = if self.languages.is_empty() { vec!["ko-KR".into(), "en-US".into()] } else { self.languages.clone() };
        match language.map(str::trim).filter(|l| !l.is_empty() && *l != "auto") {
            Some(l) if l.contains('-') => (l.to_string(), vec![]),
            Some(l) => {
                let own = list.iter().find(|code| code.split('-').next().is_some_and(|p| p.eq_ignore_ascii_case(l)));
                (own.cloned().unwrap_or_else(|| region_for(l)), vec![])
            }
            None => (list[0].clone(), list[1..].iter().take(3).cloned().collect()),
        }
    }

    fn recognize_body(&self, request: &SttRequest<'_>, samples: &[i16]) -> Value {
        let (main, alternatives) = self.languages_for(request.language);
        let mut config = json!({
            "encoding": "LINEAR16",
            "sampleRateHertz": request.sample_rate,
            "languageCode": main,
            "enableAutomaticPunctuation": true,
        });
        if !alternatives.is_empty() {
            config["alternativeLanguageCodes"] = json!(alternatives);
        }
        if !request.model.trim().is_empty() {
            config["model"] = json!(request.model.trim());
        }
        let hints = request.prompt.map(phrases).unwrap_or_default();
        if !hints.is_empty() {
            config["speechContexts"] = json!([{ "phrases": hints }]);
        }
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        json!({ "config": config, "audio": { "content": base64::engine::general_purpose::STANDARD.encode(bytes) } })
    }

    async fn recognize(&self, request: &SttRequest<'_>, samples: &[i16]) -> Result<String, ProviderError> {
        let body = serde_json::to_vec(&self.recognize_body(request, samples)).expect("a recognize request serializes");
        let url = Self::url(&self.speech, "v1/speech:recognize");
        let build = || self.http.post(url.clone()).header("content-type", "application/json").body(body.clone());
        let reply = self.send(&self.speech, build, body.len()).await?;
        let value: Value = serde_json::from_slice(&reply).map_err(|_| ProviderError::bad_response("Google's transcript is not JSON"))?;
        transcript_of(&value)
    }
}

/// The best alternative of each result, in order; no results: nothing was said.
fn transcript_of(value: &Value) -> Result<String, ProviderError> {
    let Some(results) = value.get("results") else {
        return Ok(String::new());
    };
    let results = results.as_array().ok_or_else(|| ProviderError::bad_response("Google's results are not a list"))?;
    let parts: Vec<&str> =
        results.iter().filter_map(|r| r["alternatives"][0]["transcript"].as_str()).map(str::trim).filter(|t| !t.is_empty()).collect();
    Ok(parts.join(" "))
}

#[async_trait]
impl SpeechToText for GoogleCloud {
    async fn transcribe(&self, request: SttRequest<'_>) -> Result<String, ProviderError> {
        let part = (request.sample_rate as usize * MAX_PART_SECONDS).max(1);
        let mut text = Vec::new();
        for samples in request.samples.chunks(part) {
            let said = self.recognize(&request, samples).await?;
            if !said.is_empty() {
                text.push(said);
            }
        }
        Ok(text.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google(languages: &[&str]) -> GoogleCloud {
        GoogleCloud::new(Some("http://127.0.0.1:9"), None, languages.iter().map(|s| s.to_string()).collect()).unwrap()
    }

    #[test]
    fn a_set_language_takes_its_entry_and_automatic_the_whole_list() {
        let g = google(&["ko-KR", "en-GB", "ja-JP", "fr-FR", "de-DE"]);
        assert_eq!(g.languages_for(Some("en")), ("en-GB".to_string(), vec![]));
        assert_eq!(g.languages_for(Some("zh")), ("cmn-Hans-CN".to_string(), vec![]));
        assert_eq!(g.languages_for(None).0, "ko-KR");
        assert_eq!(g.languages_for(Some("auto")).1, vec!["en-GB", "ja-JP", "fr-FR"], "Google takes at most 3 alternatives");
        assert_eq!(google(&[]).languages_for(None), ("ko-KR".to_string(), vec!["en-US".to_string()]));
    }

    #[test]
    fn the_request_is_googles_shape_with_phrase_hints() {
        let g = google(&["ko-KR", "en-US"]);
        let request =
            SttRequest {
                samples: &[1, -2], sample_rate: 16_000, model: "latest_short", language: None, prompt: Some("소리샵, Sori\n 주문번호 ")
            };
        let body = g.recognize_body(&request, request.samples);
        assert_eq!(body["config"]["languageCode"], "ko-KR");
        assert_eq!(body["config"]["alternativeLanguageCodes"], json!(["en-US"]));
        assert_eq!(body["config"]["speechContexts"][0]["phrases"], json!(["소리샵", "Sori", "주문번호"]));
        assert_eq!(body["audio"]["content"], "AQD+/w==", "little-endian 16-bit samples, base64");
        let value = json!({"results": [{"alternatives": [{"transcript": "주문 "}]}, {"alternatives": [{"transcript": " 확인해 주세요"}]}]});
        assert_eq!(transcript_of(&value).unwrap(), "주문 확인해 주세요");
        assert_eq!(transcript_of(&json!({"totalBilledTime": "1s"})).unwrap(), "");
    }
}
