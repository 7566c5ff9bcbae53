//! `POST /v1/audio/speech`: real audio in pcm, wav, mp3 or opus whose length
//! fits the text, streamed chunk by chunk at the modelled real-time factor
//! (or as SSE `speech.audio.delta` events), with truncation and drop faults.

use super::parse_json;
use crate::audio::{encode, encode::truncate, synthesize, AudioFormat, SPEECH_RATE};
use crate::errors::ApiError;
use crate::faults::{Endpoint, Fault};
use crate::script::tokenize;
use crate::state::Shared;
use crate::stream::{self, sse_event, Timed, SSE_CONTENT_TYPE};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Voices of `tts-1` and `tts-1-hd`.
pub const CLASSIC_VOICES: &[&str] = &["alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"];
/// Voices of `gpt-4o-mini-tts`: the classic ones and the newer ones.
pub const ALL_VOICES: &[&str] = &["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar"];

/// How much audio one streamed chunk carries.
const CHUNK_SECONDS: f64 = 0.1;

fn is_classic(model: &str) -> bool {
    model.starts_with("tts-1")
}

pub async fn speech(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    shared.record(Endpoint::Speech, &headers, serde_json::from_slice(&body).unwrap_or(Value::Null));
    let ctx = shared.begin(Endpoint::Speech).await?;
    let request = parse_json(&body, "CreateSpeechRequest")?;
    let model = request["model"].as_str().unwrap_or_default();
    let input = request["input"].as_str().unwrap_or_default();
    if input.trim().is_empty() {
        return Err(ApiError::invalid_request("Invalid 'input': string too short. Expected a string with minimum length 1.", Some("input")));
    }
    // A custom voice object `{ "id": … }` is accepted as is.
    let voice = match &request["voice"] {
        Value::String(v) => {
            let allowed = if is_classic(model) { CLASSIC_VOICES } else { ALL_VOICES };
            if !allowed.contains(&v.as_str()) {
                return Err(ApiError::invalid_request(
                    format!("Invalid value for 'voice': '{v}' is not supported by {model}. Supported voices are: {}.", allowed.join(", ")),
                    Some("voice"),
                ));
            }
            v.clone()
        }
        other => other["id"].as_str().unwrap_or("custom").to_string(),
    };
    if is_classic(model) && request.get("instructions").is_some() {
        return Err(ApiError::invalid_request(format!("'instructions' is not supported with the model {model}."), Some("instructions")));
    }
    let sse = request["stream_format"] == "sse";
    if sse && is_classic(model) {
        return Err(ApiError::invalid_request(format!("stream_format 'sse' is not supported with the model {model}."), Some("stream_format")));
    }
    let format_name = request["response_format"].as_str().unwrap_or("mp3");
    let format = AudioFormat::parse(format_name).ok_or_else(|| {
        ApiError::invalid_request(
            format!("response_format '{format_name}' is not produced by this test server; use pcm, wav, mp3 or opus."),
            Some("response_format"),
        )
    })?;
    let format = shared.speech_only_format.lock().unwrap().unwrap_or(format);
    let speed = request["speed"].as_f64().unwrap_or(1.0);

    let samples = synthesize(input, &voice, speed);
    let seconds = samples.len() as f64 / SPEECH_RATE as f64;
    let mut audio = encode(&samples, format).map_err(|e| ApiError::invalid_request(format!("could not encode audio: {e}"), None))?;
    if ctx.has(&Fault::TruncatedAudio) {
        audio = truncate(&audio, format);
    }
    let pieces = split_paced(&audio, format, seconds, |audio_s| ctx.latency.tts_audio_at(audio_s));
    if sse {
        let last_at = pieces.last().map(|p| p.0).unwrap_or_default();
        let mut parts: Vec<Timed> = pieces
            .into_iter()
            .map(|(at, bytes)| {
                let audio = base64::engine::general_purpose::STANDARD.encode(&bytes);
                (at, sse_event(&json!({ "type": "speech.audio.delta", "audio": audio }).to_string()))
            })
            .collect();
        let input_tokens = tokenize(input).len();
        let output_tokens = (seconds * 20.0).ceil() as usize;
        let usage = json!({ "input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens });
        parts.push((last_at, sse_event(&json!({ "type": "speech.audio.done", "usage": usage }).to_string())));
        if ctx.has(&Fault::MalformedSse) {
            parts.insert(1.min(parts.len()), (last_at, sse_event(r#"{"type": "speech.audio.delta", "audio": "#)));
        }
        return Ok(stream::paced(StatusCode::OK, SSE_CONTENT_TYPE, ctx.start, parts, ctx.drop_after(), None));
    }
    Ok(stream::paced(StatusCode::OK, format.content_type(), ctx.start, pieces, ctx.drop_after(), None))
}

/// Splits encoded audio into ~100 ms pieces, each sent when the model says its
/// audio is ready. PCM splits on sample boundaries; encoded formats split
/// their bytes in proportion (a decoder must cope with pieces that cut frames).
fn split_paced(audio: &[u8], format: AudioFormat, seconds: f64, ready_at: impl Fn(f64) -> Duration) -> Vec<Timed> {
    let n = ((seconds / CHUNK_SECONDS).ceil() as usize).max(1);
    let mut bounds: Vec<usize> = (0..=n).map(|k| audio.len() * k / n).collect();
    if format == AudioFormat::Pcm {
        for b in bounds.iter_mut() {
            *b -= *b % 2;
        }
        *bounds.last_mut().unwrap() = audio.len();
    }
    bounds
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[1] > w[0])
        .map(|(k, w)| (ready_at(k as f64 * CHUNK_SECONDS), Bytes::copy_from_slice(&audio[w[0]..w[1]])))
        .collect()
}
