//! `GET /v1/voices`: Text-to-Speech's voice list, a realistic slice of
//! Google's (names, genders and rates as Google lists them), filtered by
//! `languageCode` as Google filters it.

use super::auth::{authorize, query_param};
use super::errors::{GoogleError, LIST_VOICES};
use super::{begin, record, reply_json};
use crate::faults::Endpoint;
use crate::state::Shared;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// One voice of the list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Voice {
    pub name: &'static str,
    pub language: &'static str,
    pub gender: &'static str,
    pub natural_rate: u32,
}

const fn voice(name: &'static str, language: &'static str, gender: &'static str) -> Voice {
    // Every Standard, WaveNet and Neural2 voice is made at 24 kHz.
    Voice { name, language, gender, natural_rate: 24_000 }
}

/// The voices the fake offers, in Google's order (by language, then name).
pub const VOICES: &[Voice] = &[
    voice("en-US-Neural2-F", "en-US", "FEMALE"),
    voice("en-US-Neural2-J", "en-US", "MALE"),
    voice("en-US-Standard-C", "en-US", "FEMALE"),
    voice("en-US-Standard-D", "en-US", "MALE"),
    voice("en-US-Wavenet-D", "en-US", "MALE"),
    voice("en-US-Wavenet-F", "en-US", "FEMALE"),
    voice("ja-JP-Standard-A", "ja-JP", "FEMALE"),
    voice("ko-KR-Neural2-A", "ko-KR", "FEMALE"),
    voice("ko-KR-Neural2-B", "ko-KR", "FEMALE"),
    voice("ko-KR-Neural2-C", "ko-KR", "MALE"),
    voice("ko-KR-Standard-A", "ko-KR", "FEMALE"),
    voice("ko-KR-Standard-B", "ko-KR", "FEMALE"),
    voice("ko-KR-Standard-C", "ko-KR", "MALE"),
    voice("ko-KR-Standard-D", "ko-KR", "MALE"),
    voice("ko-KR-Wavenet-A", "ko-KR", "FEMALE"),
    voice("ko-KR-Wavenet-B", "ko-KR", "FEMALE"),
    voice("ko-KR-Wavenet-C", "ko-KR", "MALE"),
    voice("ko-KR-Wavenet-D", "ko-KR", "MALE"),
];

/// Whether a voice speaks `code`: the same tag, or `code` is its language
/// alone (`ko` matches `ko-KR`), case aside, as Google's filter works.
pub fn speaks(voice: &Voice, code: &str) -> bool {
    let (have, want) = (voice.language.to_ascii_lowercase(), code.trim().to_ascii_lowercase().replace('_', "-"));
    have == want || have.starts_with(&format!("{want}-"))
}

/// The voice named `name`, if there is one.
pub fn by_name(name: &str) -> Option<&'static Voice> {
    VOICES.iter().find(|v| v.name == name)
}

fn to_json(v: &Voice) -> Value {
    json!({ "languageCodes": [v.language], "name": v.name, "ssmlGender": v.gender, "naturalSampleRateHertz": v.natural_rate })
}

pub async fn list(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri) -> Result<Response, GoogleError> {
    let language = query_param(&uri, "languageCode").filter(|l| !l.trim().is_empty());
    let logged = record(&shared, Endpoint::GoogleVoices, &headers, &uri, json!({ "languageCode": language }));
    authorize(&shared, &headers, &uri, LIST_VOICES)?;
    let ctx = begin(&shared, Endpoint::GoogleVoices, |f| GoogleError::from_fault(f, LIST_VOICES)).await?;
    let voices: Vec<Value> = VOICES.iter().filter(|v| language.as_deref().is_none_or(|l| speaks(v, l))).map(to_json).collect();
    // Google leaves out an empty list (proto3 JSON omits empty repeated fields).
    let body = if voices.is_empty() { json!({}) } else { json!({ "voices": voices }) };
    Ok(reply_json(&shared, logged, &ctx, Duration::ZERO, body).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_matches_a_language_or_a_whole_tag() {
        let korean = VOICES.iter().filter(|v| speaks(v, "ko-KR")).count();
        assert_eq!(korean, 11);
        assert_eq!(VOICES.iter().filter(|v| speaks(v, "ko")).count(), korean);
        assert_eq!(VOICES.iter().filter(|v| speaks(v, "EN-us")).count(), 6);
        assert_eq!(VOICES.iter().filter(|v| speaks(v, "k")).count(), 0);
        assert_eq!(by_name("ko-KR-Standard-C").unwrap().gender, "MALE");
    }
}
