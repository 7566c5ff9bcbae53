//! `POST /v1/audio/transcriptions`: multipart upload, a transcript chosen per
//! audio (by hash), every `response_format`, and streamed transcripts
//! (`transcript.text.delta` events) for the gpt-4o models.

use crate::audio::test_audio::read_wav;
use crate::errors::ApiError;
use crate::faults::{Endpoint, Fault};
use crate::script::{default_transcript, is_korean, sha256_hex, tokenize};
use crate::spec;
use crate::state::Shared;
use crate::stream::{self, sse_event, Timed, SSE_CONTENT_TYPE};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const AUDIO_EXTENSIONS: &[&str] = &["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"];

/// The uploaded file.
struct Upload {
    filename: String,
    bytes: Vec<u8>,
}

/// Reads the multipart form into the JSON shape of `CreateTranscriptionRequest`
/// (arrays from `name[]` fields, numbers and booleans parsed) plus the file.
async fn read_form(mut form: Multipart) -> Result<(Map<String, Value>, Option<Upload>), ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::invalid_request(format!("Could not parse multipart form: {e}"), None);
    let mut fields = Map::new();
    let mut upload = None;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let filename = field.file_name().unwrap_or_default().to_string();
            let content_type = field.content_type().map(str::to_string);
            let bytes = field.bytes().await.map_err(bad)?.to_vec();
            fields.insert(
                "file".into(),
                json!({ "filename": filename, "content_type": content_type, "bytes": bytes.len(), "sha256": sha256_hex(&bytes) }),
            );
            upload = Some(Upload { filename, bytes });
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        let value = match name.as_str() {
            "temperature" => text
                .parse::<f64>()
                .map(Value::from)
                .map_err(|_| ApiError::invalid_request(format!("Invalid 'temperature': '{text}' is not a number."), Some("temperature")))?,
            "stream" => Value::Bool(text == "true"),
            _ => Value::String(text),
        };
        match name.strip_suffix("[]") {
            Some(array) => fields.entry(array).or_insert_with(|| json!([])).as_array_mut().unwrap().push(value),
            None => {
                fields.insert(name, value);
            }
        }
    }
    Ok((fields, upload))
}

pub async fn transcriptions(State(shared): State<Arc<Shared>>, headers: HeaderMap, form: Multipart) -> Result<Response, ApiError> {
    let (fields, upload) = read_form(form).await?;
    let logged = shared.record(Endpoint::Transcriptions, &headers, Value::Object(fields.clone()));
    let ctx = shared.begin(Endpoint::Transcriptions).await?;
    // The spec's schema sees the file as a string, as its `format: binary` says.
    let mut shape = fields.clone();
    if shape.contains_key("file") {
        shape.insert("file".into(), json!("<binary>"));
    }
    spec::check("CreateTranscriptionRequest", &Value::Object(shape)).map_err(|e| ApiError::invalid_request(format!("Invalid request: {e}"), None))?;
    let upload = upload.expect("the schema requires a file");
    let extension = upload.filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if !AUDIO_EXTENSIONS.contains(&extension.as_str()) {
        return Err(ApiError::invalid_request(format!("Invalid file format. Supported formats: {AUDIO_EXTENSIONS:?}"), Some("file")));
    }
    let model = fields["model"].as_str().unwrap_or_default().to_string();
    let language = fields.get("language").and_then(Value::as_str);
    let format = fields.get("response_format").and_then(Value::as_str).unwrap_or("json").to_string();
    let whisper = model == "whisper-1";
    if !whisper && format != "json" && format != "text" {
        return Err(ApiError::invalid_request(
            format!("response_format '{format}' is not compatible with model '{model}'. Use 'json' or 'text'."),
            Some("response_format"),
        ));
    }

    let (seconds, text) = {
        let script = shared.script.lock().unwrap();
        let decoded = if extension == "wav" { Some(read_wav(&upload.bytes)) } else { None };
        let samples = match decoded {
            Some(Ok((samples, rate))) => {
                shared.uploads.lock().unwrap().push((samples.clone(), rate));
                Some((samples, rate))
            }
            Some(Err(_)) => {
                return Err(ApiError::invalid_request("The audio file could not be decoded or its format is not supported.", Some("file")))
            }
            None => None,
        };
        // Unknown containers: assume 128 kbit/s to model the duration.
        let seconds = samples.as_ref().map(|(s, r)| s.len() as f64 / *r as f64).unwrap_or(upload.bytes.len() as f64 / 16_000.0);
        let pcm_hash = samples.as_ref().map(|(s, _)| sha256_hex(&s.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>()));
        let silent = samples.as_ref().is_some_and(|(s, _)| s.iter().all(|x| x.unsigned_abs() < 300));
        let text = script
            .transcript(&sha256_hex(&upload.bytes))
            .or_else(|| pcm_hash.as_deref().and_then(|h| script.transcript(h)))
            .map(str::to_string)
            .unwrap_or_else(|| if silent { String::new() } else { default_transcript(language).to_string() });
        (seconds, text)
    };
    let done_at = ctx.latency.stt(seconds);
    let usage = if whisper {
        json!({ "type": "duration", "seconds": seconds.ceil() as u64 })
    } else {
        let audio_tokens = (seconds * 10.0).ceil() as u64;
        let output = tokenize(&text).len() as u64;
        json!({ "type": "tokens", "input_tokens": audio_tokens, "input_token_details": { "text_tokens": 0, "audio_tokens": audio_tokens }, "output_tokens": output, "total_tokens": audio_tokens + output })
    };

    if fields.get("stream") == Some(&Value::Bool(true)) && !whisper {
        let tokens = tokenize(&text);
        let n = tokens.len().max(1) as u32;
        let mut parts: Vec<Timed> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (done_at * (i as u32 + 1) / n, sse_event(&json!({ "type": "transcript.text.delta", "delta": t }).to_string())))
            .collect();
        if ctx.has(&Fault::MalformedSse) {
            parts.insert(0, (done_at / 2, sse_event(r#"{"type": "transcript.text.delta", "delta": "#)));
        }
        parts.push((done_at, sse_event(&json!({ "type": "transcript.text.done", "text": text, "usage": usage }).to_string())));
        return Ok(stream::paced(StatusCode::OK, SSE_CONTENT_TYPE, ctx.start, parts, ctx.drop_after(), None));
    }

    let lang_name = if is_korean(&text) || language == Some("ko") { "korean" } else { "english" };
    let (content_type, body) = match format.as_str() {
        "text" => ("text/plain; charset=utf-8", format!("{text}\n")),
        "srt" => ("text/plain; charset=utf-8", format!("1\n00:00:00,000 --> {}\n{text}\n\n", timestamp(seconds, ','))),
        "vtt" => ("text/plain; charset=utf-8", format!("WEBVTT\n\n00:00:00.000 --> {}\n{text}\n\n", timestamp(seconds, '.'))),
        "verbose_json" => ("application/json", json!({
            "task": "transcribe", "language": lang_name, "duration": seconds, "text": text,
            "segments": [{ "id": 0, "seek": 0, "start": 0.0, "end": seconds, "text": text,
                           "tokens": (0..tokenize(&text).len() as u64).map(|i| 50_364 + i).collect::<Vec<_>>(),
                           "temperature": 0.0, "avg_logprob": -0.21, "compression_ratio": 1.1, "no_speech_prob": if text.is_empty() { 0.9 } else { 0.01 } }],
            "usage": usage,
        }).to_string()),
        _ => ("application/json", json!({ "text": text, "usage": usage }).to_string()),
    };
    // A client that gives up while the answer is being "worked on" drops this
    // handler (hyper stops it): the log says so.
    let mut waiting = Unanswered { shared: shared.clone(), index: logged, answered: false };
    let response = stream::whole(StatusCode::OK, content_type, ctx.start, done_at, body.into(), ctx.drop_after()).await;
    waiting.answered = true;
    Ok(response)
}

/// Marks the logged request as cancelled if the handler is dropped before
/// answering (the speech-to-text routes, OpenAI's and Google's).
pub(crate) struct Unanswered {
    pub(crate) shared: Arc<Shared>,
    pub(crate) index: usize,
    pub(crate) answered: bool,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if !self.answered {
            self.shared.cancelled(self.index);
        }
    }
}

fn timestamp(seconds: f64, sep: char) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    format!("{:02}:{:02}:{:02}{sep}{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}
