//! `POST /v1/speech:recognize`: synchronous recognition of base64 LINEAR16
//! audio (raw, or a WAV file whose header is read as Google reads it), the
//! transcript chosen per audio as the OpenAI route chooses it.
//!
//! Error messages are Google's where its wording is known (the WAV header and
//! length checks, "RecognitionAudio not set."); the rest follow its style.

use super::auth::authorize;
use super::errors::{GoogleError, RECOGNIZE};
use super::{begin, duration_json, parse_body, record, reply_json};
use crate::discovery::{decode_bytes, Api};
use crate::faults::Endpoint;
use crate::google::request_id;
use crate::script::{default_transcript, sha256_hex};
use crate::state::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

/// The models v1 takes for every language (the medical ones are en-US only).
pub const MODELS: &[&str] = &["default", "latest_short", "latest_long", "command_and_search", "phone_call", "video"];

/// Google's limits for synchronous recognition.
const MAX_AUDIO_BYTES: usize = 10 * 1024 * 1024;
const MAX_SECONDS: f64 = 60.0;
const MAX_ALTERNATIVE_LANGUAGES: usize = 3;

/// What the fake says it heard, at the confidence Google's top alternatives
/// usually carry.
const CONFIDENCE: f64 = 0.93;

/// Samples are "silent" below this, as for the OpenAI route.
const SILENCE: u16 = 300;

/// The request's body for the log: the audio as its size and hash, not its bytes.
fn loggable(body: &[u8]) -> Value {
    let mut value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if let Some(content) = value.pointer("/audio/content").and_then(Value::as_str) {
        let bytes = decode_bytes(content).unwrap_or_default();
        value["audio"]["content"] = json!({ "bytes": bytes.len(), "sha256": sha256_hex(&bytes) });
    }
    value
}

pub async fn recognize(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri, body: Bytes) -> Result<Response, GoogleError> {
    let logged = record(&shared, Endpoint::GoogleRecognize, &headers, &uri, loggable(&body));
    authorize(&shared, &headers, &uri, RECOGNIZE)?;
    let ctx = begin(&shared, Endpoint::GoogleRecognize, |f| GoogleError::from_fault(f, RECOGNIZE)).await?;
    let request = parse_body(Api::Speech, "RecognizeRequest", &body)?;
    let config = request.get("config").ok_or_else(|| GoogleError::invalid_argument("RecognitionConfig not set."))?;
    let language = config["languageCode"].as_str().unwrap_or_default();
    if language.is_empty() {
        return Err(GoogleError::invalid_argument("Invalid recognition 'config': bad language code."));
    }
    let alternatives = config["alternativeLanguageCodes"].as_array().map(Vec::len).unwrap_or(0);
    if alternatives > MAX_ALTERNATIVE_LANGUAGES {
        return Err(GoogleError::invalid_argument(format!(
            "Invalid recognition 'config': at most {MAX_ALTERNATIVE_LANGUAGES} alternative_language_codes are allowed, got {alternatives}."
        )));
    }
    if let Some(model) = config["model"].as_str().filter(|m| !MODELS.contains(m)) {
        return Err(GoogleError::invalid_argument(format!(
            "Invalid recognition 'config': The requested model is currently not supported for language : {language}. (model: {model})"
        )));
    }
    if let Some(n) = config["maxAlternatives"].as_i64().filter(|n| !(0..=30).contains(n)) {
        return Err(GoogleError::invalid_argument(format!("Invalid recognition 'config': max_alternatives must be in [0, 30], got {n}.")));
    }
    let audio = request.get("audio").ok_or_else(|| GoogleError::invalid_argument("RecognitionAudio not set."))?;
    let content = match (audio["content"].as_str(), audio["uri"].as_str()) {
        (Some(c), _) => decode_bytes(c).unwrap_or_default(),
        // The fake has no Cloud Storage to read from.
        (None, Some(_)) => return Err(GoogleError::invalid_argument("The testkit's fake Speech-to-Text cannot read audio.uri; send audio.content.")),
        (None, None) => return Err(GoogleError::invalid_argument("RecognitionAudio not set.")),
    };
    if content.len() > MAX_AUDIO_BYTES {
        return Err(GoogleError::invalid_argument(format!("Request payload size exceeds the limit: {MAX_AUDIO_BYTES} bytes.")));
    }
    let (samples, rate) = read_audio(config, &content)?;
    let seconds = samples.len() as f64 / rate as f64;
    if seconds > MAX_SECONDS {
        return Err(GoogleError::invalid_argument(
            "Sync input too long. For audio longer than 1 min use LongRunningRecognize with a 'uri' parameter.",
        ));
    }

    let pcm: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let silent = samples.iter().all(|s| s.unsigned_abs() < SILENCE);
    // The primary language decides, as for a request without alternatives.
    let lang = language.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    let text = {
        let script = shared.script.lock().unwrap();
        // The whole file's hash first (`set_transcript`), then the samples' (`set_transcript_for_samples`).
        script.transcript(&sha256_hex(&content)).or_else(|| script.transcript(&sha256_hex(&pcm))).map(str::to_string)
    }
    .unwrap_or_else(|| if silent { String::new() } else { default_transcript(Some(&lang)).to_string() });
    shared.uploads.lock().unwrap().push((samples, rate));

    // Google bills whole seconds, at least one.
    let billed = format!("{}s", (seconds.ceil() as u64).max(1));
    let mut response = json!({ "totalBilledTime": billed, "requestId": request_id() });
    if !text.is_empty() {
        // One alternative however many were asked for: Google too may give fewer.
        response["results"] = json!([{
            "alternatives": [{ "transcript": text, "confidence": CONFIDENCE }],
            "resultEndTime": duration_json(seconds),
            "languageCode": language.to_ascii_lowercase(),
        }]);
    }
    let at = ctx.latency.stt(seconds);
    Ok(reply_json(&shared, logged, &ctx, at, response).await)
}

/// The audio's samples and rate: a WAV header is read (and must agree with
/// the config), raw LINEAR16 takes its rate from the config.
fn read_audio(config: &Value, content: &[u8]) -> Result<(Vec<i16>, u32), GoogleError> {
    let encoding = config["encoding"].as_str().unwrap_or("ENCODING_UNSPECIFIED");
    let configured_rate = config["sampleRateHertz"].as_u64().filter(|r| *r > 0).map(|r| r as u32);
    if encoding != "LINEAR16" && encoding != "ENCODING_UNSPECIFIED" {
        // Google reads these; the fake reads LINEAR16 only and says so.
        return Err(GoogleError::invalid_argument(format!("The testkit's fake Speech-to-Text reads LINEAR16 audio only, not {encoding}.")));
    }
    if content.starts_with(b"RIFF") {
        let reader = hound::WavReader::new(std::io::Cursor::new(content))
            .map_err(|e| GoogleError::invalid_argument(format!("Invalid recognition 'audio': the WAV header could not be read ({e}).")))?;
        let spec = reader.spec();
        if spec.channels != 1 {
            return Err(GoogleError::invalid_argument(format!(
                "Must use single channel (mono) audio, but WAV header indicates {} channels.",
                spec.channels
            )));
        }
        if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
            return Err(GoogleError::invalid_argument("Invalid recognition 'config': bad encoding.."));
        }
        if let Some(rate) = configured_rate.filter(|r| *r != spec.sample_rate) {
            return Err(GoogleError::invalid_argument(format!(
                "sample_rate_hertz ({rate}) in RecognitionConfig must either be omitted or match the value in the WAV header ({}).",
                spec.sample_rate
            )));
        }
        let samples = reader
            .into_samples::<i16>()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| GoogleError::invalid_argument(format!("Invalid recognition 'audio': the WAV data could not be read ({e}).")))?;
        return Ok((samples, spec.sample_rate));
    }
    if encoding == "ENCODING_UNSPECIFIED" {
        // Only WAV and FLAC files may leave the encoding out.
        return Err(GoogleError::invalid_argument("Invalid recognition 'config': bad encoding.."));
    }
    let rate = configured_rate
        .filter(|r| (8000..=48_000).contains(r))
        .ok_or_else(|| GoogleError::invalid_argument("Invalid recognition 'config': bad sample rate hertz."))?;
    // An odd trailing byte is half a sample: Google drops it too.
    let samples = content.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    Ok((samples, rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_headers_are_read_and_must_agree() {
        let wav = crate::audio::encode::wav(&[1000, -1000, 500], 16_000).unwrap();
        assert_eq!(read_audio(&json!({}), &wav).unwrap(), (vec![1000, -1000, 500], 16_000));
        let e = read_audio(&json!({"sampleRateHertz": 8000}), &wav).unwrap_err();
        assert!(e.message.contains("must either be omitted or match the value in the WAV header (16000)"), "{}", e.message);
        let raw: Vec<u8> = [1000i16, -1000].iter().flat_map(|s| s.to_le_bytes()).chain([7]).collect();
        assert_eq!(read_audio(&json!({"encoding": "LINEAR16", "sampleRateHertz": 16000}), &raw).unwrap(), (vec![1000, -1000], 16_000));
        assert!(read_audio(&json!({"encoding": "LINEAR16"}), &raw).unwrap_err().message.contains("bad sample rate hertz"));
        assert!(read_audio(&json!({"sampleRateHertz": 16000}), &raw).unwrap_err().message.contains("bad encoding"));
        assert!(read_audio(&json!({"encoding": "FLAC"}), &raw).unwrap_err().message.contains("LINEAR16 audio only"));
    }

    #[test]
    fn the_log_keeps_the_audios_size_not_its_bytes() {
        let logged = loggable(br#"{"config": {"languageCode": "ko-KR"}, "audio": {"content": "AAECAw=="}}"#);
        assert_eq!(logged["audio"]["content"]["bytes"], 4);
        assert_eq!(logged["audio"]["content"]["sha256"], sha256_hex(&[0, 1, 2, 3]));
        assert_eq!(logged["config"]["languageCode"], "ko-KR");
    }
}
