//! The tutorial's request: a multipart form whose field `audio` holds the
//! recorded question (any common format), with optional `conversation_id`,
//! `customer`, `language`, and `text` (a typed question instead of audio).
//! Everything is checked before a turn starts: a missing field, a file that
//! is not audio, one too large or too long is a 4xx that says which.

use super::errors::ApiError;
use super::turn::Question;
use super::Limits;
use axum::extract::multipart::{Multipart, MultipartError};
use axum::http::StatusCode;
use sori_core::audio::recording::decode_recording;
use sori_core::turn::TurnInput;

struct Upload {
    bytes: Vec<u8>,
    name: Option<String>,
    mime: Option<String>,
}

fn multipart_error(e: MultipartError, limits: &Limits) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(limits.upload_bytes as u64 / 1_000_000)
    } else {
        ApiError::bad_request(
            "bad_form",
            format!("The form could not be read ({}): send multipart/form-data with the recording in the field `audio`.", e.body_text()),
        )
    }
}

/// Short text fields: at most this many bytes.
const FIELD_LIMIT: usize = 4096;

/// Reads the form and decodes the recording (off the async workers).
pub async fn read_question(mut form: Multipart, limits: &Limits) -> Result<Question, ApiError> {
    let mut audio = None;
    let mut text = None;
    let mut question = Question { input: TurnInput::Text(String::new()), conversation_id: None, customer: None, language: None };
    while let Some(field) = form.next_field().await.map_err(|e| multipart_error(e, limits))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "audio" {
            let (file, mime) = (field.file_name().map(str::to_string), field.content_type().map(str::to_string));
            let bytes = field.bytes().await.map_err(|e| multipart_error(e, limits))?;
            audio = Some(Upload { bytes: bytes.to_vec(), name: file, mime });
            continue;
        }
        let value = field.text().await.map_err(|e| multipart_error(e, limits))?;
        if value.len() > FIELD_LIMIT {
            return Err(ApiError::bad_request("field_too_long", format!("The field `{name}` is longer than {FIELD_LIMIT} bytes.")));
        }
        let value = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match name.as_str() {
            "conversation_id" => question.conversation_id = value,
            "customer" => question.customer = value,
            "language" => question.language = value,
            "text" => text = value,
            // Other fields (a front end's extras) are ignored, as Flask would.
            _ => {}
        }
    }
    if let Some(l) = &question.language {
        if !["ko", "en", "auto"].contains(&l.as_str()) {
            return Err(ApiError::bad_request("bad_language", "language is ko, en or auto."));
        }
    }
    question.input = match (audio, text) {
        (Some(upload), _) => {
            let limit = limits.audio;
            let pcm = tokio::task::spawn_blocking(move || decode_recording(&upload.bytes, upload.name.as_deref(), upload.mime.as_deref(), limit))
                .await
                .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "The recording could not be read."))??;
            TurnInput::Audio { samples: pcm.samples, sample_rate: pcm.sample_rate }
        }
        (None, Some(text)) => TurnInput::Text(text),
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_audio",
                "The form has no field `audio`: send the recorded question as the multipart file field `audio` (or a typed question as `text`).",
            ))
        }
    };
    Ok(question)
}
