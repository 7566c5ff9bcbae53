//! The testkit's wire tests: every endpoint and fault over raw HTTP (the
//! Google ones with reqwest), every JSON body checked against the official
//! OpenAPI schemas or Google's discovery documents.

mod auth_and_faults;
mod binary;
mod chat;
mod google;
mod google_auth;
mod models;
mod raw;
mod realtime;
mod realtime_vad;
mod speech;
mod transcriptions;

use raw::RawResponse;
use serde_json::Value;
use sori_testkit::{ServerConfig, TestServer, TEST_API_KEY};

pub fn server() -> TestServer {
    TestServer::start_in_background(ServerConfig::default()).expect("start the testkit")
}

pub const BEARER: &str = "Bearer sori-test-key-0123";

pub fn post_json(server: &TestServer, path: &str, body: &Value) -> RawResponse {
    assert_eq!(server.api_key().as_deref(), Some(TEST_API_KEY));
    raw::request(server.addr(), "POST", path, &[("Authorization", BEARER), ("Content-Type", "application/json")], body.to_string().as_bytes())
}

pub fn get(server: &TestServer, path: &str) -> RawResponse {
    raw::request(server.addr(), "GET", path, &[("Authorization", BEARER)], b"")
}

/// Asserts that `value` matches schema `name` of the OpenAPI spec.
#[track_caller]
pub fn assert_schema(name: &str, value: &Value) {
    if let Err(e) = sori_testkit::spec::check(name, value) {
        panic!("{e}\nvalue: {value:#}");
    }
}

/// Asserts an OpenAI error reply: status, schema, type and code.
#[track_caller]
pub fn assert_api_error(r: &RawResponse, status: u16, kind: &str, code: Option<&str>) -> Value {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("content-type").unwrap_or_default().starts_with("application/json"));
    let v = r.json();
    assert_schema("ErrorResponse", &v);
    assert_eq!(v["error"]["type"], kind);
    assert_eq!(v["error"]["code"].as_str(), code);
    v
}

/// A multipart/form-data body: text fields, then the file.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "sori-boundary-7d1f";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    if let Some((name, content_type, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub fn post_multipart(server: &TestServer, fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> RawResponse {
    let (content_type, body) = multipart(fields, file);
    raw::request(server.addr(), "POST", "/v1/audio/transcriptions", &[("Authorization", BEARER), ("Content-Type", &content_type)], &body)
}
