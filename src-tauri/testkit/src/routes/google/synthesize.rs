//! `POST /v1/text:synthesize`: the testkit's synthesizer speaking the text (or
//! the SSML's text) in a listed voice, as base64 `audioContent`: a WAV file
//! for LINEAR16 (Google includes the header), real MP3 or Ogg Opus otherwise,
//! at the asked rate, sent whole once the latency model has it ready.
//!
//! Google's wording where it is known (the 5000-byte limit, an unknown
//! voice); the range checks follow its style with the documented ranges.

use super::auth::authorize;
use super::errors::{GoogleError, SYNTHESIZE};
use super::voices::{by_name, speaks, Voice, VOICES};
use super::{begin, parse_body, record, reply_json};
use crate::audio::encode::{encode_at, truncate};
use crate::audio::{synthesize as speak, AudioFormat, SPEECH_RATE};
use crate::discovery::Api;
use crate::faults::{Endpoint, Fault};
use crate::state::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::Arc;

/// Google's limit on `input.text` or `input.ssml`, in bytes.
const MAX_INPUT_BYTES: usize = 5000;

/// Rates Opus can be made at.
const OPUS_RATES: &[u32] = &[8000, 12_000, 16_000, 24_000, 48_000];
/// Rates LAME can make MP3 at.
const MP3_RATES: &[u32] = &[8000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000];

/// The length of a canonical WAV header (what `encode::wav` writes).
const WAV_HEADER: usize = 44;

/// The checked request: what to say, in which voice, how.
struct Job {
    text: String,
    voice: &'static Voice,
    encoding: String,
    rate: u32,
    speaking_rate: f64,
    volume_gain_db: f64,
}

pub async fn synthesize(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri, body: Bytes) -> Result<Response, GoogleError> {
    let logged = record(&shared, Endpoint::GoogleSynthesize, &headers, &uri, serde_json::from_slice(&body).unwrap_or(Value::Null));
    authorize(&shared, &headers, &uri, SYNTHESIZE)?;
    let ctx = begin(&shared, Endpoint::GoogleSynthesize, |f| GoogleError::from_fault(f, SYNTHESIZE)).await?;
    let request = parse_body(Api::TextToSpeech, "SynthesizeSpeechRequest", &body)?;
    let job = check(&request)?;

    let mut samples = speak(&job.text, job.voice.name, job.speaking_rate);
    let gain = 10f64.powf(job.volume_gain_db / 20.0);
    if gain != 1.0 {
        samples.iter_mut().for_each(|s| *s = (*s as f64 * gain).clamp(i16::MIN as f64, i16::MAX as f64) as i16);
    }
    let samples = resample(&samples, SPEECH_RATE, job.rate);
    let seconds = samples.len() as f64 / job.rate as f64;
    let format = match job.encoding.as_str() {
        "MP3" => AudioFormat::Mp3,
        "OGG_OPUS" => AudioFormat::Opus,
        _ => AudioFormat::Wav,
    };
    let mut audio = encode_at(&samples, format, job.rate)
        .map_err(|e| GoogleError { message: format!("Internal error encountered. ({e})"), ..GoogleError::internal() })?;
    if ctx.has(&Fault::TruncatedAudio) {
        audio = match format {
            AudioFormat::Wav => cut_mid_sample(&audio),
            other => truncate(&audio, other),
        };
    }
    let body = json!({ "audioContent": base64::engine::general_purpose::STANDARD.encode(&audio) });
    // The whole reply waits until the model has all the audio made.
    let at = ctx.latency.tts_audio_at(seconds);
    Ok(reply_json(&shared, logged, &ctx, at, body).await)
}

/// Checks the request as Google does and says what to make.
fn check(request: &Value) -> Result<Job, GoogleError> {
    let bad = |m: String| Err(GoogleError::invalid_argument(m));
    let input = &request["input"];
    // Proto3: an empty string is an unset field.
    let text = input["text"].as_str().filter(|t| !t.is_empty());
    let ssml = input["ssml"].as_str().filter(|t| !t.is_empty());
    let source = match (text, ssml) {
        (Some(t), None) => t,
        (None, Some(s)) => s,
        (Some(_), Some(_)) => return bad("Either `input.text` or `input.ssml` must be set, not both.".into()),
        (None, None) => return bad("Either `input.text` or `input.ssml` must be set.".into()),
    };
    if source.len() > MAX_INPUT_BYTES {
        return bad(format!(
            "Either `input.text` or `input.ssml` is longer than the limit of {MAX_INPUT_BYTES} bytes. This limit is different from quotas. \
             To fix, reduce the byte length of the characters in this request, or consider using the Long Audio API: \
             https://cloud.google.com/text-to-speech/docs/create-audio-text-long-audio-synthesis."
        ));
    }
    let text = match ssml {
        Some(s) => ssml_text(s).ok_or_else(|| GoogleError::invalid_argument("Invalid SSML: the document must have a <speak> root element."))?,
        None => source.to_string(),
    };

    let voice_params = &request["voice"];
    if voice_params.get("customVoice").is_some() {
        return bad("The testkit's fake Text-to-Speech has no custom voices.".into());
    }
    let language = voice_params["languageCode"].as_str().unwrap_or_default();
    if language.is_empty() {
        return bad("Invalid voice selection: `voice.language_code` must be set.".into());
    }
    let voice = match voice_params["name"].as_str().filter(|n| !n.is_empty()) {
        Some(name) => match by_name(name).filter(|v| speaks(v, language)) {
            Some(v) => v,
            None => return bad(format!("Voice '{name}' does not exist. Is it misspelled?")),
        },
        None => {
            // Google takes the gender as a wish, not a must.
            let gender = voice_params["ssmlGender"].as_str().unwrap_or("SSML_VOICE_GENDER_UNSPECIFIED");
            let candidates: Vec<&'static Voice> = VOICES.iter().filter(|v| speaks(v, language)).collect();
            match candidates.iter().find(|v| v.gender == gender).or(candidates.first()).copied() {
                Some(v) => v,
                None => return bad(format!("Language code '{language}' is not supported: no voice speaks it.")),
            }
        }
    };

    let config = &request["audioConfig"];
    let encoding = config["audioEncoding"].as_str().unwrap_or("AUDIO_ENCODING_UNSPECIFIED").to_string();
    match encoding.as_str() {
        "LINEAR16" | "MP3" | "OGG_OPUS" => {}
        "AUDIO_ENCODING_UNSPECIFIED" => return bad("Invalid audio config: `audio_config.audio_encoding` must be set.".into()),
        // Google makes these; the fake has no G.711 encoder and says so.
        other => return bad(format!("The testkit's fake Text-to-Speech cannot make {other} audio; ask for LINEAR16, MP3 or OGG_OPUS.")),
    }
    // Proto3 again: 0 means unset, i.e. the normal speed.
    let speaking_rate = config["speakingRate"].as_f64().filter(|r| *r != 0.0).unwrap_or(1.0);
    if !(0.25..=4.0).contains(&speaking_rate) {
        return bad(format!("Invalid value for `audio_config.speaking_rate`: {speaking_rate}. It must be in the range [0.25, 4.0]."));
    }
    // Checked, but not heard: the synthesizer's pitch belongs to the voice.
    let pitch = config["pitch"].as_f64().unwrap_or(0.0);
    if !(-20.0..=20.0).contains(&pitch) {
        return bad(format!("Invalid value for `audio_config.pitch`: {pitch}. It must be in the range [-20.0, 20.0]."));
    }
    let volume_gain_db = config["volumeGainDb"].as_f64().unwrap_or(0.0);
    if !(-96.0..=16.0).contains(&volume_gain_db) {
        return bad(format!("Invalid value for `audio_config.volume_gain_db`: {volume_gain_db}. It must be in the range [-96.0, 16.0]."));
    }
    let rate = match config["sampleRateHertz"].as_i64().filter(|r| *r != 0) {
        None => voice.natural_rate,
        Some(r) => {
            let r32 = u32::try_from(r).unwrap_or(0);
            let supported = match encoding.as_str() {
                "OGG_OPUS" => OPUS_RATES.contains(&r32),
                "MP3" => MP3_RATES.contains(&r32),
                _ => (8000..=48_000).contains(&r32),
            };
            if !supported {
                return bad(format!("sample_rate_hertz {r} is not supported for audio encoding {encoding}."));
            }
            r32
        }
    };
    Ok(Job { text, voice, encoding, rate, speaking_rate, volume_gain_db })
}

/// The words of an SSML document: tags dropped, entities read. `None` when
/// there is no `<speak>` root, which Google refuses.
fn ssml_text(ssml: &str) -> Option<String> {
    let trimmed = ssml.trim_start();
    let trimmed = match trimmed.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>")?.1.trim_start(),
        None => trimmed,
    };
    if !trimmed.starts_with("<speak") {
        return None;
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in trimmed.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&");
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Linear-interpolation resampling: plenty for a synthetic voice.
fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || samples.is_empty() {
        return samples.to_vec();
    }
    let n = (samples.len() as u64 * to as u64 / from as u64).max(1) as usize;
    (0..n)
        .map(|i| {
            let pos = i as f64 * from as f64 / to as f64;
            let (k, frac) = (pos.floor() as usize, pos.fract());
            let a = samples[k.min(samples.len() - 1)] as f64;
            let b = samples[(k + 1).min(samples.len() - 1)] as f64;
            (a + (b - a) * frac).round() as i16
        })
        .collect()
}

/// A WAV cut at about half, inside a sample (an odd number of data bytes),
/// its header still claiming the whole length: a corrupt reply in valid JSON.
fn cut_mid_sample(wav: &[u8]) -> Vec<u8> {
    let mut cut = wav.len() / 2;
    if (cut.saturating_sub(WAV_HEADER)).is_multiple_of(2) {
        cut += 1;
    }
    wav[..cut.min(wav.len())].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(audio: Value) -> Value {
        json!({"input": {"text": "안녕하세요"}, "voice": {"languageCode": "ko-KR", "name": "ko-KR-Standard-A"}, "audioConfig": audio})
    }

    #[test]
    fn the_documented_ranges_are_enforced() {
        assert!(check(&request(json!({"audioEncoding": "LINEAR16"}))).is_ok());
        for bad in [json!({"speakingRate": 4.5}), json!({"speakingRate": 0.2}), json!({"pitch": -20.5}), json!({"volumeGainDb": 17})] {
            let mut config = bad.clone();
            config["audioEncoding"] = json!("LINEAR16");
            assert_eq!(check(&request(config)).err().map(|e| e.status.as_u16()), Some(400), "{bad}");
        }
        assert!(check(&request(json!({"audioEncoding": "OGG_OPUS", "sampleRateHertz": 44100}))).is_err());
        assert!(check(&request(json!({"audioEncoding": "MULAW"}))).is_err());
        let job = check(&request(json!({"audioEncoding": "MP3"}))).unwrap();
        assert_eq!((job.rate, job.speaking_rate), (24_000, 1.0));
    }

    #[test]
    fn voices_are_chosen_as_google_chooses_them() {
        let mut r = request(json!({"audioEncoding": "LINEAR16"}));
        r["voice"] = json!({"languageCode": "en-US", "name": "ko-KR-Standard-A"});
        assert!(check(&r).err().unwrap().message.contains("Voice 'ko-KR-Standard-A' does not exist"));
        r["voice"] = json!({"languageCode": "ko-KR", "ssmlGender": "MALE"});
        assert_eq!(check(&r).unwrap().voice.gender, "MALE");
        r["voice"] = json!({"languageCode": "xx-XX"});
        assert!(check(&r).is_err());
    }

    #[test]
    fn ssml_is_read_for_its_words() {
        assert_eq!(ssml_text("<speak>Hello <break time=\"1s\"/> &amp; bye</speak>").as_deref(), Some("Hello & bye"));
        assert_eq!(ssml_text("Hello"), None);
    }

    #[test]
    fn resampling_and_cutting_keep_their_promises() {
        assert_eq!(resample(&[0; 2400], 24_000, 16_000).len(), 1600);
        let wav = crate::audio::encode::wav(&[1; 100], 16_000).unwrap();
        let cut = cut_mid_sample(&wav);
        assert!((cut.len() - WAV_HEADER) % 2 == 1 && cut.len() < wav.len());
    }
}
