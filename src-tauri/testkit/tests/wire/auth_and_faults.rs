use super::*;
use serde_json::json;
use sori_testkit::{Endpoint, Fault, LatencyModel};
use std::time::Duration;

fn chat_request() -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]})
}

#[test]
fn a_missing_key_is_refused() {
    let s = server();
    let r = raw::request(s.addr(), "GET", "/v1/models", &[], b"");
    let v = assert_api_error(&r, 401, "invalid_request_error", None);
    assert!(v["error"]["message"].as_str().unwrap().contains("didn't provide an API key"));
}

#[test]
fn a_wrong_key_is_refused_and_masked() {
    let s = server();
    let r = raw::request(s.addr(), "GET", "/v1/models", &[("Authorization", "Bearer wrong-key-987654321")], b"");
    let v = assert_api_error(&r, 401, "invalid_request_error", Some("invalid_api_key"));
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("wro") && message.contains("4321") && !message.contains("key-9876"), "{message}");
}

#[test]
fn a_server_without_a_key_accepts_anyone() {
    let s = TestServer::start_in_background(ServerConfig { api_key: None, ..Default::default() }).unwrap();
    assert_eq!(raw::request(s.addr(), "GET", "/v1/models", &[], b"").status, 200);
}

#[test]
fn status_faults_use_openais_codes_once_each() {
    let s = server();
    s.push_fault(Endpoint::Chat, Fault::Unauthorized);
    s.push_fault(Endpoint::Chat, Fault::RateLimited { retry_after_secs: 7 });
    s.push_fault(Endpoint::Chat, Fault::QuotaExceeded);
    s.push_fault(Endpoint::Chat, Fault::ServerError);
    s.push_fault(Endpoint::Chat, Fault::Overloaded);
    assert_api_error(&post_json(&s, "/v1/chat/completions", &chat_request()), 401, "invalid_request_error", Some("invalid_api_key"));
    let r = post_json(&s, "/v1/chat/completions", &chat_request());
    assert_api_error(&r, 429, "requests", Some("rate_limit_exceeded"));
    assert_eq!(r.header("retry-after"), Some("7"));
    let r = post_json(&s, "/v1/chat/completions", &chat_request());
    assert_api_error(&r, 429, "insufficient_quota", Some("insufficient_quota"));
    assert_eq!(r.header("retry-after"), None);
    assert_api_error(&post_json(&s, "/v1/chat/completions", &chat_request()), 500, "server_error", None);
    assert_api_error(&post_json(&s, "/v1/chat/completions", &chat_request()), 503, "server_error", None);
    // The queue is empty now: the next request is served.
    assert_eq!(post_json(&s, "/v1/chat/completions", &chat_request()).status, 200);
    // Faults are per endpoint.
    s.push_fault(Endpoint::Speech, Fault::ServerError);
    assert_eq!(get(&s, "/v1/models").status, 200);
}

#[test]
fn a_slow_first_byte_delays_the_status_line() {
    let s = server();
    s.push_fault(Endpoint::Models, Fault::SlowFirstByte { ms: 300 });
    let r = get(&s, "/v1/models");
    assert_eq!(r.status, 200);
    assert!(r.first_byte >= Duration::from_millis(300), "{:?}", r.first_byte);
    assert!(get(&s, "/v1/models").first_byte < Duration::from_millis(300));
}

#[test]
fn a_dropped_connection_cuts_a_stream_without_its_final_chunk() {
    let s = server();
    s.push_fault(Endpoint::Chat, Fault::DropMidBody { after_bytes: 200 });
    let mut req = chat_request();
    req["stream"] = json!(true);
    let r = post_json(&s, "/v1/chat/completions", &req);
    assert_eq!(r.status, 200);
    assert!(r.chunked);
    assert!(!r.complete, "the terminating chunk must be missing");
    assert_eq!(r.body.len(), 200);
}

#[test]
fn a_dropped_connection_cuts_a_sized_body_short() {
    let s = server();
    s.push_fault(Endpoint::Models, Fault::DropMidBody { after_bytes: 50 });
    let r = get(&s, "/v1/models");
    assert_eq!(r.status, 200);
    assert!(!r.chunked && !r.complete);
    assert_eq!(r.body.len(), 50);
    assert!(r.header("content-length").unwrap().parse::<usize>().unwrap() > 50);
}

#[test]
fn faults_that_cannot_apply_are_refused_by_the_control_api() {
    let s = server();
    let r = raw::request(
        s.addr(),
        "POST",
        "/__testkit/faults",
        &[("Content-Type", "application/json")],
        json!({"endpoint": "models", "fault": {"kind": "truncated_audio"}}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn the_control_api_steers_a_running_server() {
    let s = server();
    let post =
        |path: &str, body: Value| raw::request(s.addr(), "POST", path, &[("Content-Type", "application/json")], body.to_string().as_bytes()).status;
    assert_eq!(post("/__testkit/faults", json!({"endpoint": "models", "fault": {"kind": "rate_limited", "retry_after_secs": 3}, "times": 2})), 204);
    assert_eq!(get(&s, "/v1/models").status, 429);
    assert_eq!(get(&s, "/v1/models").status, 429);
    assert_eq!(get(&s, "/v1/models").status, 200);
    assert_eq!(post("/__testkit/replies", json!({"contains": "refund", "reply": "환불해 드릴게요."})), 204);
    let r = post_json(&s, "/v1/chat/completions", &json!({"model": "m", "messages": [{"role": "user", "content": "refund please"}]}));
    assert_eq!(r.json()["choices"][0]["message"]["content"], "환불해 드릴게요.");
    let latency = serde_json::to_value(LatencyModel { chat_first_token_ms: 250.0, ..Default::default() }).unwrap();
    let r = raw::request(s.addr(), "PUT", "/__testkit/latency", &[("Content-Type", "application/json")], latency.to_string().as_bytes());
    assert_eq!(r.status, 204);
    assert!(post_json(&s, "/v1/chat/completions", &chat_request()).first_byte >= Duration::from_millis(250));
    let log = raw::request(s.addr(), "GET", "/__testkit/requests", &[], b"").json();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 5);
    assert_eq!(log[3]["endpoint"], "chat");
    assert_eq!(log[3]["authorization"], BEARER);
    assert_eq!(log[3]["body"]["messages"][0]["content"], "refund please");
}
