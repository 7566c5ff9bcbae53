//! Field-level validation: each problem names its field, a stable code the UI
//! can translate, and an English message, so the settings panel can show it
//! next to the field.

use super::Settings;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    /// `required`, `invalid_url`, `out_of_range`, `too_long`, `unknown_value`.
    pub code: &'static str,
    pub message: String,
}

fn err(field: &'static str, code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field, code, message: message.into() }
}

/// Every problem with `s`; empty when it is fine to use.
pub fn validate(s: &Settings) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let url_ok = reqwest::Url::parse(s.base_url.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !url_ok {
        errors.push(err("base_url", "invalid_url", "Enter the provider's address, like https://api.openai.com/v1."));
    }
    for (field, value) in [("stt_model", &s.stt_model), ("chat_model", &s.chat_model), ("tts_model", &s.tts_model), ("voice", &s.voice), ("hotkey", &s.hotkey)] {
        if value.trim().is_empty() {
            errors.push(err(field, "required", "This cannot be empty."));
        }
    }
    if !(0.25..=4.0).contains(&s.speed) || !s.speed.is_finite() {
        errors.push(err("speed", "out_of_range", "Speed goes from 0.25 to 4.0."));
    }
    let lang = s.language.trim();
    if lang != "auto" && !(2..=3).contains(&lang.len()) || !lang.chars().all(|c| c.is_ascii_lowercase()) {
        errors.push(err("language", "unknown_value", "Use auto, or a language code such as ko or en."));
    }
    if s.style.chars().count() > 4096 {
        errors.push(err("style", "too_long", "The style can be at most 4096 characters."));
    }
    if s.persona.chars().count() > 8000 {
        errors.push(err("persona", "too_long", "The persona can be at most 8000 characters."));
    }
    if s.vad_aggressiveness > 3 {
        errors.push(err("vad_aggressiveness", "out_of_range", "Sensitivity goes from 0 to 3."));
    }
    if !(200..=2000).contains(&s.end_silence_ms) {
        errors.push(err("end_silence_ms", "out_of_range", "End-of-speech silence goes from 200 to 2000 ms."));
    }
    if !matches!(s.ui_language.as_str(), "system" | "ko" | "en") {
        errors.push(err("ui_language", "unknown_value", "Use system, ko or en."));
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
            ui_language: "fr".into(),
            persona: "x".repeat(8001),
            ..Default::default()
        };
        let fields: Vec<&str> = validate(&bad).iter().map(|e| e.field).collect();
        assert_eq!(fields, ["base_url", "chat_model", "speed", "language", "persona", "vad_aggressiveness", "end_silence_ms", "ui_language"]);
        assert_eq!(validate(&Settings { language: "ko".into(), ..Default::default() }), []);
    }
}
