//! The demo page at `/`: plain HTML and one script, in Korean and English.
//! Hold the button, speak, let go: the browser records (MediaRecorder), posts
//! the recording to the streamed `/voice-chat`, shows the transcript and the
//! reply as they come and plays the speech as it arrives (WebAudio). Served
//! with a Content-Security-Policy that allows only this server.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("demo/index.html");
const SCRIPT: &str = include_str!("demo/demo.js");
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub async fn page() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, CSP), (header::CACHE_CONTROL, "no-cache")], PAGE)
        .into_response()
}

pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SCRIPT).into_response()
}
