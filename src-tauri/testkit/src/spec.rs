//! The official OpenAI API spec (vendored under `spec/`), used to validate every
//! request the server accepts and, in tests, every response it sends.

use jsonschema::Validator;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

static SPEC_JSON: &str = include_str!("../spec/openai-openapi.json");

/// `components.schemas` of the spec, with `nullable: true` (an OpenAPI 3.0
/// leftover that JSON Schema 2020-12 ignores) turned into `type: [T, "null"]`.
fn components() -> &'static Value {
    static COMPONENTS: OnceLock<Value> = OnceLock::new();
    COMPONENTS.get_or_init(|| {
        let mut doc: Value = serde_json::from_str(SPEC_JSON).expect("the vendored OpenAPI spec is valid JSON");
        let mut components = doc["components"].take();
        normalize_nullable(&mut components);
        components
    })
}

fn normalize_nullable(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    values.push(Value::Null);
                }
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([t, "null"]));
                } else if !map.contains_key("type") {
                    let inner = Value::Object(std::mem::take(map));
                    map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                }
            }
            map.values_mut().for_each(normalize_nullable);
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_nullable),
        _ => {}
    }
}

/// The compiled validator for `#/components/schemas/{name}`, cached.
///
/// Panics if the name is not in the spec: that is a bug in the testkit itself.
pub fn validator(name: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(name) {
        return v.clone();
    }
    assert!(components()["schemas"].get(name).is_some(), "no schema {name} in the OpenAPI spec");
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": components(),
    });
    let compiled = Arc::new(
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .unwrap_or_else(|e| panic!("schema {name} does not compile: {e}")),
    );
    cache.lock().unwrap().insert(name.to_string(), compiled.clone());
    compiled
}

/// The schema of a Realtime event by its `type` (`RealtimeServerEvent…` or
/// `RealtimeClientEvent…`, as `prefix` says): the one whose `type` enum names it.
pub fn realtime_schema(prefix: &str, kind: &str) -> Option<String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<String>>>> = OnceLock::new();
    let key = format!("{prefix}/{kind}");
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap().get(&key) {
        return found.clone();
    }
    let found = components()["schemas"].as_object().and_then(|schemas| {
        schemas
            .iter()
            .filter(|(name, _)| name.starts_with(prefix) && name.len() > prefix.len())
            .find(|(_, s)| s["properties"]["type"]["enum"].as_array().is_some_and(|e| e.iter().any(|v| v == kind)))
            .map(|(name, _)| name.clone())
    });
    cache.lock().unwrap().insert(key, found.clone());
    found
}

/// Checks `instance` against schema `name`; on failure, says where and why
/// (at most a few errors, in the words a 400 reply would use).
pub fn check(name: &str, instance: &Value) -> Result<(), String> {
    let v = validator(name);
    let errors: Vec<String> = v.iter_errors(instance).take(3).map(|e| format!("{} at '{}'", e, e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("does not match {name}: {}", errors.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_becomes_a_null_type() {
        let mut v = json!({"a": {"type": "object", "nullable": true}, "b": {"$ref": "#/x", "nullable": true},
                           "c": {"type": "string", "enum": ["stop"], "nullable": true}});
        normalize_nullable(&mut v);
        assert_eq!(v["c"]["enum"], json!(["stop", null]));
        assert_eq!(v["a"]["type"], json!(["object", "null"]));
        assert_eq!(v["b"]["anyOf"][1], json!({"type": "null"}));
    }

    #[test]
    fn the_spec_rejects_what_openai_rejects() {
        assert!(check("CreateSpeechRequest", &json!({"model": "tts-1", "input": "hi", "voice": "alloy"})).is_ok());
        let err = check("CreateSpeechRequest", &json!({"model": "tts-1", "input": "hi"})).unwrap_err();
        assert!(err.contains("voice"), "{err}");
        assert!(check("CreateSpeechRequest", &json!({"model": "tts-1", "input": "hi", "voice": "alloy", "speed": 9})).is_err());
        assert!(check("ErrorResponse", &json!({"error": {"message": "m", "type": "t", "param": null, "code": null}})).is_ok());
    }
}
