use super::*;

#[test]
fn lists_models_in_the_spec_shape() {
    let s = server();
    let r = get(&s, "/v1/models");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_schema("ListModelsResponse", &v);
    let ids: Vec<&str> = v["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    for id in ["gpt-4o-mini", "gpt-4o-transcribe", "whisper-1", "gpt-4o-mini-tts", "tts-1"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
}

#[test]
fn gets_one_model_or_404() {
    let s = server();
    let r = get(&s, "/v1/models/whisper-1");
    assert_eq!(r.status, 200);
    assert_schema("Model", &r.json());
    assert_eq!(r.json()["id"], "whisper-1");
    let r = get(&s, "/v1/models/gpt-9");
    assert_api_error(&r, 404, "invalid_request_error", Some("model_not_found"));
}

#[test]
fn unknown_urls_get_openais_404() {
    let s = server();
    let v = assert_api_error(&get(&s, "/v1/nope"), 404, "invalid_request_error", None);
    assert_eq!(v["error"]["message"], "Invalid URL (GET /v1/nope)");
}
