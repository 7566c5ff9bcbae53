//! Google's own discovery documents for Speech-to-Text v1 and Text-to-Speech
//! v1 (trimmed copies under `spec/google/`), and a checker that reads request
//! bodies as Google's JSON parser does (unknown names, wrong types, enum
//! values: 400 with Google's words) and, in tests, checks the fake's replies.

use base64::Engine as _;
use serde_json::{Map, Value};
use std::sync::OnceLock;

static SPEECH_JSON: &str = include_str!("../spec/google/speech-v1.json");
static TEXTTOSPEECH_JSON: &str = include_str!("../spec/google/texttospeech-v1.json");

/// Which discovery document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Speech,
    TextToSpeech,
}

impl Api {
    fn doc(self) -> &'static Value {
        static SPEECH: OnceLock<Value> = OnceLock::new();
        static TTS: OnceLock<Value> = OnceLock::new();
        let (cell, text) = match self {
            Api::Speech => (&SPEECH, SPEECH_JSON),
            Api::TextToSpeech => (&TTS, TEXTTOSPEECH_JSON),
        };
        cell.get_or_init(|| serde_json::from_str(text).expect("the vendored discovery document is valid JSON"))
    }

    /// The proto package, which Google's messages name types by.
    fn package(self) -> &'static str {
        match self {
            Api::Speech => "google.cloud.speech.v1",
            Api::TextToSpeech => "google.cloud.texttospeech.v1",
        }
    }

    /// The document's `revision` (a date), for the record.
    pub fn revision(self) -> &'static str {
        self.doc()["revision"].as_str().unwrap_or_default()
    }

    fn schema(self, name: &str) -> &'static Value {
        let s = &self.doc()["schemas"][name];
        assert!(s.is_object(), "no schema {name} in the {self:?} discovery document");
        s
    }
}

/// One thing wrong with a request, as Google's `BadRequest.fieldViolations` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The field's path in proto names (`config.speech_contexts[0]`), or empty for the body itself.
    pub field: String,
    pub description: String,
}

/// How strictly to read: requests as Google's parser does (proto names,
/// numbers in strings, enum numbers, nulls), replies exactly as Google writes them.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Request,
    Response,
}

/// Reads a request body against schema `name`. On success the body comes
/// back normalised: camelCase names, numbers as numbers, enums by name, no nulls.
pub fn parse_request(api: Api, name: &str, body: &Value) -> Result<Value, Vec<Violation>> {
    let mut errors = Vec::new();
    let out = walk(api, name, body, "", Mode::Request, &mut errors);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks a reply against schema `name`: every name known and in camelCase,
/// every value of the type (and format) the document gives.
pub fn check_response(api: Api, name: &str, body: &Value) -> Result<(), String> {
    let mut errors = Vec::new();
    walk(api, name, body, "", Mode::Response, &mut errors);
    match errors.is_empty() {
        true => Ok(()),
        false => Err(format!("does not match {name} (discovery revision {}): {}", api.revision(), describe(&errors))),
    }
}

/// The violations as one message, one per line, as Google joins them.
pub fn describe(errors: &[Violation]) -> String {
    errors.iter().map(|e| e.description.as_str()).collect::<Vec<_>>().join("\n")
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        snake(field)
    } else {
        format!("{path}.{}", snake(field))
    }
}

/// One message (schema) level.
fn walk(api: Api, name: &str, value: &Value, path: &str, mode: Mode, errors: &mut Vec<Violation>) -> Value {
    let schema = api.schema(name);
    let Some(object) = value.as_object() else {
        invalid(errors, path, &format!("type.googleapis.com/{}.{name}", api.package()), value);
        return Value::Null;
    };
    let properties = schema["properties"].as_object().cloned().unwrap_or_default();
    let mut out = Map::new();
    for (key, v) in object {
        let known = if properties.contains_key(key) {
            Some(key.clone())
        } else if mode == Mode::Request && key.contains('_') && properties.contains_key(&camel(key)) {
            Some(camel(key))
        } else {
            None
        };
        let Some(field) = known else {
            let at = if path.is_empty() { String::new() } else { format!(" at '{path}'") };
            let description = format!("Invalid JSON payload received. Unknown name \"{key}\"{at}: Cannot find field.");
            errors.push(Violation { field: path.to_string(), description });
            continue;
        };
        if v.is_null() && mode == Mode::Request {
            continue; // proto3 JSON: null means "the default"
        }
        let read = field_value(api, name, &field, &properties[&field], v, &join(path, &field), mode, errors);
        out.insert(field, read);
    }
    Value::Object(out)
}

/// One field: repeated, a message, a map, or a scalar.
#[allow(clippy::too_many_arguments)]
fn field_value(api: Api, owner: &str, field: &str, schema: &Value, v: &Value, path: &str, mode: Mode, errors: &mut Vec<Violation>) -> Value {
    if schema["type"] == "array" {
        let Some(items) = v.as_array() else {
            // A lone value where a list belongs: Google names the element type.
            let type_name = match schema["items"]["$ref"].as_str() {
                Some(r) => format!("type.googleapis.com/{}.{r}", api.package()),
                None => scalar_type(&schema["items"]).to_string(),
            };
            invalid(errors, path, &type_name, v);
            return Value::Null;
        };
        let read = items.iter().enumerate().map(|(i, item)| {
            let at = format!("{path}[{i}]");
            match schema["items"]["$ref"].as_str() {
                Some(r) => walk(api, r, item, &at, mode, errors),
                None => scalar(api, owner, field, &schema["items"], item, &at, mode, errors),
            }
        });
        return Value::Array(read.collect());
    }
    if v.is_array() {
        let description = "Invalid JSON payload received. Proto field is not repeating, cannot start list.".to_string();
        errors.push(Violation { field: path.to_string(), description });
        return Value::Null;
    }
    match schema["$ref"].as_str() {
        Some(r) => walk(api, r, v, path, mode, errors),
        None => scalar(api, owner, field, schema, v, path, mode, errors),
    }
}

/// The proto type Google names for a scalar field.
fn scalar_type(schema: &Value) -> &'static str {
    match (schema["type"].as_str().unwrap_or_default(), schema["format"].as_str().unwrap_or_default()) {
        ("string", "byte") => "TYPE_BYTES",
        ("string", "int64") => "TYPE_INT64",
        ("string", "uint64") => "TYPE_UINT64",
        ("string", "google-duration") => "type.googleapis.com/google.protobuf.Duration",
        ("integer", "uint32") => "TYPE_UINT32",
        ("integer", _) => "TYPE_INT32",
        ("number", "float") => "TYPE_FLOAT",
        ("number", _) => "TYPE_DOUBLE",
        ("boolean", _) => "TYPE_BOOL",
        _ => "TYPE_STRING",
    }
}

fn invalid(errors: &mut Vec<Violation>, path: &str, type_name: &str, v: &Value) {
    errors.push(Violation { field: path.to_string(), description: format!("Invalid value at '{path}' ({type_name}), {v}") });
}

/// The enum's full proto name: `Schema.Field` unless Google declared it at
/// the package level (the two Text-to-Speech enums).
fn enum_type(api: Api, owner: &str, field: &str) -> String {
    let pkg = api.package();
    match (api, field) {
        (Api::TextToSpeech, "audioEncoding") => format!("{pkg}.AudioEncoding"),
        (Api::TextToSpeech, "ssmlGender") => format!("{pkg}.SsmlVoiceGender"),
        (Api::Speech, "encoding") => format!("{pkg}.{owner}.AudioEncoding"),
        _ => {
            let mut upper = field.to_string();
            upper[..1].make_ascii_uppercase();
            format!("{pkg}.{owner}.{upper}")
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn scalar(api: Api, owner: &str, field: &str, schema: &Value, v: &Value, path: &str, mode: Mode, errors: &mut Vec<Violation>) -> Value {
    let format = schema["format"].as_str().unwrap_or_default();
    let kind = schema["type"].as_str().unwrap_or_default();
    let request = mode == Mode::Request;
    // Proto3 JSON lets numbers come as strings; Google writes 64-bit ones so.
    let number = |v: &Value| v.as_f64().or_else(|| v.as_str().filter(|_| request).and_then(|s| s.trim().parse::<f64>().ok()));
    match kind {
        "string" if schema.get("enum").is_some() => {
            let names: Vec<&str> = schema["enum"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let by_number = v.as_u64().filter(|_| request).and_then(|n| names.get(n as usize).copied());
            match v.as_str().filter(|s| names.contains(s)).or(by_number) {
                Some(name) => Value::String(name.to_string()),
                None => {
                    invalid(errors, path, &format!("type.googleapis.com/{}", enum_type(api, owner, field)), v);
                    Value::Null
                }
            }
        }
        "string" => {
            let ok = match (format, v) {
                ("byte", Value::String(s)) => decode_bytes(s).is_some(),
                ("int64" | "uint64", Value::String(s)) => s.parse::<i128>().is_ok(),
                ("int64" | "uint64", Value::Number(n)) => request && (n.is_i64() || n.is_u64()),
                ("google-duration", Value::String(s)) => is_duration(s),
                (_, Value::String(_)) => true,
                _ => false,
            };
            if ok {
                return v.clone();
            }
            match (format, v) {
                ("byte", Value::String(s)) => errors.push(Violation {
                    field: path.to_string(),
                    description: format!("Invalid value at '{path}' (TYPE_BYTES), Base64 decoding failed for \"{}\"", ellipsis(s)),
                }),
                _ => invalid(errors, path, scalar_type(schema), v),
            }
            Value::Null
        }
        "integer" => {
            let (min, max) = match format {
                "uint32" => (0.0, u32::MAX as f64),
                _ => (i32::MIN as f64, i32::MAX as f64),
            };
            let exact = mode == Mode::Response && !(v.is_i64() || v.is_u64());
            match number(v).filter(|n| n.fract() == 0.0 && (min..=max).contains(n)) {
                Some(n) if !exact => Value::from(n as i64),
                _ => {
                    invalid(errors, path, scalar_type(schema), v);
                    Value::Null
                }
            }
        }
        "number" => match number(v).filter(|_| request || v.is_number()) {
            Some(n) => Value::from(n),
            None => {
                invalid(errors, path, scalar_type(schema), v);
                Value::Null
            }
        },
        "boolean" => match v {
            Value::Bool(_) => v.clone(),
            _ => {
                invalid(errors, path, "TYPE_BOOL", v);
                Value::Null
            }
        },
        // `additionalProperties` maps and `any`: Google takes whatever is there.
        _ => v.clone(),
    }
}

fn ellipsis(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

/// `bytes` in proto3 JSON: standard or URL-safe base64, padded or not, as
/// Google's parser takes it.
pub fn decode_bytes(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(s).ok())
}

/// A `google.protobuf.Duration` in JSON: seconds with 0, 3, 6 or 9 decimals and an `s`.
fn is_duration(s: &str) -> bool {
    let Some(n) = s.strip_suffix('s') else { return false };
    let n = n.strip_prefix('-').unwrap_or(n);
    let (whole, frac) = n.split_once('.').unwrap_or((n, ""));
    !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && [0, 3, 6, 9].contains(&frac.len()) && frac.bytes().all(|b| b.is_ascii_digit())
}

/// The names of a schema's fields, for tests and messages.
pub fn field_names(api: Api, name: &str) -> Vec<String> {
    api.schema(name)["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_names_are_reported_where_google_reports_them() {
        let body = json!({"config": {"languageCode": "ko-KR", "foo": 1, "speechContexts": [{"phrases": ["a"], "bar": true}]}, "baz": 2});
        let errors = parse_request(Api::Speech, "RecognizeRequest", &body).unwrap_err();
        let text = describe(&errors);
        assert!(text.contains("Unknown name \"foo\" at 'config': Cannot find field."), "{text}");
        assert!(text.contains("Unknown name \"bar\" at 'config.speech_contexts[0]': Cannot find field."), "{text}");
        assert!(text.contains("Unknown name \"baz\": Cannot find field."), "{text}");
    }

    #[test]
    fn requests_are_read_as_proto3_json() {
        let body = json!({"config": {"language_code": "ko-KR", "sampleRateHertz": "16000", "encoding": 1, "model": null},
                          "audio": {"content": "AAAA"}});
        let read = parse_request(Api::Speech, "RecognizeRequest", &body).unwrap();
        assert_eq!(
            read,
            json!({"config": {"languageCode": "ko-KR", "sampleRateHertz": 16000, "encoding": "LINEAR16"}, "audio": {"content": "AAAA"}})
        );
        let bad = json!({"config": {"encoding": "WAV", "sampleRateHertz": 1.5, "profanityFilter": "yes"}, "audio": {"content": "!!"}});
        let text = describe(&parse_request(Api::Speech, "RecognizeRequest", &bad).unwrap_err());
        assert!(
            text.contains("Invalid value at 'config.encoding' (type.googleapis.com/google.cloud.speech.v1.RecognitionConfig.AudioEncoding), \"WAV\"")
        );
        assert!(text.contains("Invalid value at 'config.sample_rate_hertz' (TYPE_INT32), 1.5"), "{text}");
        assert!(text.contains("(TYPE_BOOL), \"yes\""), "{text}");
        assert!(text.contains("Base64 decoding failed"), "{text}");
        let list = json!({"input": {"text": ["a"]}});
        assert!(describe(&parse_request(Api::TextToSpeech, "SynthesizeSpeechRequest", &list).unwrap_err()).contains("not repeating"));
        let tts = json!({"audioConfig": {"audioEncoding": "WAV"}});
        assert!(describe(&parse_request(Api::TextToSpeech, "SynthesizeSpeechRequest", &tts).unwrap_err())
            .contains("'audio_config.audio_encoding' (type.googleapis.com/google.cloud.texttospeech.v1.AudioEncoding)"));
    }

    #[test]
    fn replies_must_be_exact() {
        let good = json!({"results": [{"alternatives": [{"transcript": "네", "confidence": 0.9}], "resultEndTime": "1.520s", "languageCode": "ko-kr"}],
                          "totalBilledTime": "2s", "requestId": "123"});
        check_response(Api::Speech, "RecognizeResponse", &good).unwrap();
        assert!(check_response(Api::Speech, "RecognizeResponse", &json!({"totalBilledTime": "1.5"})).is_err());
        assert!(check_response(Api::Speech, "RecognizeResponse", &json!({"request_id": "1"})).is_err());
        assert!(check_response(Api::TextToSpeech, "Voice", &json!({"naturalSampleRateHertz": "24000"})).is_err());
        assert!(check_response(Api::TextToSpeech, "Voice", &json!({"ssmlGender": "GIRL"})).is_err());
        assert!(field_names(Api::TextToSpeech, "AudioConfig").contains(&"speakingRate".to_string()));
    }
}
