//! Field-level validation: each problem names its field, a stable code the UI
//! can translate, and an English message, so the settings panel can show it
//! next to the field.

use super::Settings;
use serde::Serialize;

/// What is wrong with a field; the window words each code per field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
    Required,
    InvalidUrl,
    OutOfRange,
    TooLong,
    UnknownValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub code: FieldCode,
    pub message: String,
}

fn err(field: &'static str, code: FieldCode, message: impl Into<String>) -> FieldError {
    FieldError { field, code, message: message.into() }
}

/// Every problem with `s`; empty when it is fine to use.
pub fn validate(s: &Settings) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let url_ok = reqwest::Url::parse(s.base_url.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !url_ok {
        errors.push(err("base_url", FieldCode::InvalidUrl, "Enter the provider's address, like https://api.openai.com/v1."));
    }
    for (field, url) in [("stt_base_url", &s.stt_base_url), ("chat_base_url", &s.chat_base_url), ("tts_base_url", &s.tts_base_url)] {
        if let Some(url) = url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            if !reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some()) {
                errors.push(err(field, FieldCode::InvalidUrl, "Enter the server's address, like http://127.0.0.1:11434/v1."));
            }
        }
    }
    if s.local_chat_model.trim() != crate::models::chat::AUTO && !crate::models::valid_id(s.local_chat_model.trim()) {
        errors.push(err("local_chat_model", FieldCode::UnknownValue, "Choose a chat model from the list."));
    }
    if !crate::models::valid_id(&s.local_stt_model) {
        errors.push(err("local_stt_model", FieldCode::UnknownValue, "Choose a speech-to-text model from the list."));
    }
    if !s.local_voice.chars().all(|c| c.is_ascii_alphanumeric() || "-_+".contains(c)) || s.local_voice.is_empty() {
        errors.push(err("local_voice", FieldCode::UnknownValue, "Choose a voice from the list."));
    }
    for (field, value) in [
        ("stt_model", &s.stt_model),
        ("chat_model", &s.chat_model),
        ("tts_model", &s.tts_model),
        ("voice", &s.voice),
        ("hotkey", &s.hotkey),
        ("realtime_model", &s.realtime_model),
        ("realtime_voice", &s.realtime_voice),
    ] {
        if value.trim().is_empty() {
            errors.push(err(field, FieldCode::Required, "This cannot be empty."));
        }
    }
    if !(0.25..=4.0).contains(&s.speed) || !s.speed.is_finite() {
        errors.push(err("speed", FieldCode::OutOfRange, "Speed goes from 0.25 to 4.0."));
    }
    let lang = s.language.trim();
    if lang != "auto" && !(2..=3).contains(&lang.len()) || !lang.chars().all(|c| c.is_ascii_lowercase()) {
        errors.push(err("language", FieldCode::UnknownValue, "Use auto, or a language code such as ko or en."));
    }
    if s.style.chars().count() > 4096 {
        errors.push(err("style", FieldCode::TooLong, "The style can be at most 4096 characters."));
    }
    if s.persona.chars().count() > 8000 {
        errors.push(err("persona", FieldCode::TooLong, "The persona can be at most 8000 characters."));
    }
    if s.vad_aggressiveness > 3 {
        errors.push(err("vad_aggressiveness", FieldCode::OutOfRange, "Sensitivity goes from 0 to 3."));
    }
    if !(200..=2000).contains(&s.end_silence_ms) {
        errors.push(err("end_silence_ms", FieldCode::OutOfRange, "End-of-speech silence goes from 200 to 2000 ms."));
    }
    if !(16..=4096).contains(&s.max_reply_tokens) {
        errors.push(err("max_reply_tokens", FieldCode::OutOfRange, "A reply can be 16 to 4096 tokens long."));
    }
    if !matches!(s.ui_language.as_str(), "system" | "ko" | "en") {
        errors.push(err("ui_language", FieldCode::UnknownValue, "Use system, ko or en."));
    }
    if s.chat_provider == super::StageProvider::Google {
        errors.push(err("chat_provider", FieldCode::UnknownValue, "Google Cloud serves speech only: choose a server or this computer for chat."));
    }
    if let Some(url) = s.google_endpoint.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        if !reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some()) {
            errors.push(err(
                "google_endpoint",
                FieldCode::InvalidUrl,
                "Enter Google Cloud's address, like https://speech.googleapis.com, or leave it empty.",
            ));
        }
    }
    let bcp47 = |code: &String| {
        let code = code.trim();
        (2..=35).contains(&code.len()) && code.split('-').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
    };
    if s.google_languages.is_empty() || s.google_languages.len() > 4 || !s.google_languages.iter().all(bcp47) {
        errors.push(err("google_languages", FieldCode::UnknownValue, "List one to four language codes such as ko-KR and en-US."));
    }
    if s.google_stt_model.trim().is_empty() {
        errors.push(err("google_stt_model", FieldCode::Required, "This cannot be empty."));
    }
    if !s.google_voice.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        errors.push(err("google_voice", FieldCode::UnknownValue, "Choose a voice from the list."));
    }
    if !(-20.0..=20.0).contains(&s.google_pitch) || !s.google_pitch.is_finite() {
        errors.push(err("google_pitch", FieldCode::OutOfRange, "Pitch goes from -20 to 20 semitones."));
    }
    if s.vocabulary.chars().count() > 4000 {
        errors.push(err("vocabulary", FieldCode::TooLong, "The vocabulary can be at most 4000 characters."));
    }
    for (name, server) in &s.mcp_servers {
        if let Err(message) = crate::tools::mcp::config::check(name, server) {
            errors.push(err("mcp_servers", FieldCode::UnknownValue, message));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_each_rule_bites() {
        assert_eq!(validate(&Settings::default()), []);
        let bad = Settings {
            base_url: "api.openai.com".into(),
            chat_model: " ".into(),
            speed: 9.0,
            language: "Korean".into(),
            vad_aggressiveness: 7,
            end_silence_ms: 50,
            max_reply_tokens: 5,
            ui_language: "fr".into(),
            persona: "x".repeat(8001),
            chat_provider: crate::settings::StageProvider::Google,
            google_languages: vec!["ko_KR".into()],
            google_pitch: 25.0,
            ..Default::default()
        };
        let fields: Vec<&str> = validate(&bad).iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "base_url",
                "chat_model",
                "speed",
                "language",
                "persona",
                "vad_aggressiveness",
                "end_silence_ms",
                "max_reply_tokens",
                "ui_language",
                "chat_provider",
                "google_languages",
                "google_pitch"
            ]
        );
        assert_eq!(validate(&Settings { language: "ko".into(), ..Default::default() }), []);
    }

    /// The window words each code by name: these are the names.
    #[test]
    fn field_codes_keep_their_names() {
        let codes = [FieldCode::Required, FieldCode::InvalidUrl, FieldCode::OutOfRange, FieldCode::TooLong, FieldCode::UnknownValue];
        let names: Vec<String> = codes.iter().map(|c| serde_json::to_string(c).unwrap()).collect();
        assert_eq!(names, [r#""required""#, r#""invalid_url""#, r#""out_of_range""#, r#""too_long""#, r#""unknown_value""#]);
    }
}
