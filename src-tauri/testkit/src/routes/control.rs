//! `/__testkit/…`: steering a running server over HTTP (faults, latency,
//! transcripts, replies, the request log), for tests in other languages and
//! for manual runs. Not part of the OpenAI API, and not behind the key.

use crate::faults::{Endpoint, Fault};
use crate::latency::LatencyModel;
use crate::state::{RecordedRequest, Shared};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct FaultRequest {
    endpoint: Endpoint,
    fault: Fault,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

pub async fn push_fault(State(s): State<Arc<Shared>>, Json(r): Json<FaultRequest>) -> Result<StatusCode, (StatusCode, String)> {
    s.faults.lock().unwrap().push(r.endpoint, r.fault, r.times).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn clear_faults(State(s): State<Arc<Shared>>) -> StatusCode {
    s.faults.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}

pub async fn set_latency(State(s): State<Arc<Shared>>, Json(model): Json<LatencyModel>) -> StatusCode {
    *s.latency.lock().unwrap() = model;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub struct TranscriptRequest {
    sha256: String,
    text: String,
}

pub async fn set_transcript(State(s): State<Arc<Shared>>, Json(r): Json<TranscriptRequest>) -> StatusCode {
    s.script.lock().unwrap().set_transcript(r.sha256, r.text);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub struct ReplyRequest {
    contains: String,
    reply: String,
}

pub async fn add_reply(State(s): State<Arc<Shared>>, Json(r): Json<ReplyRequest>) -> StatusCode {
    s.script.lock().unwrap().add_reply(r.contains, r.reply);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub struct ScriptedCall {
    name: String,
    arguments: String,
}

#[derive(Deserialize)]
pub struct ToolReplyRequest {
    contains: String,
    #[serde(default)]
    preamble: String,
    calls: Vec<ScriptedCall>,
}

/// Scripts a tool turn: the preamble, then the calls.
pub async fn add_tool_reply(State(s): State<Arc<Shared>>, Json(r): Json<ToolReplyRequest>) -> StatusCode {
    let calls: Vec<(&str, &str)> = r.calls.iter().map(|c| (c.name.as_str(), c.arguments.as_str())).collect();
    s.script.lock().unwrap().add_tool_reply(r.contains, r.preamble, &calls);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub struct ToolAnswerRequest {
    contains: String,
    template: String,
}

/// Scripts the answer after tool results, filled from them.
pub async fn add_tool_answer(State(s): State<Arc<Shared>>, Json(r): Json<ToolAnswerRequest>) -> StatusCode {
    s.script.lock().unwrap().add_tool_answer(r.contains, r.template);
    StatusCode::NO_CONTENT
}

pub async fn requests(State(s): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(s.log.lock().unwrap().clone())
}

/// The Realtime client events received so far, in order (every session).
pub async fn realtime_events(State(s): State<Arc<Shared>>) -> Json<Vec<serde_json::Value>> {
    Json(s.realtime_log.lock().unwrap().clone())
}

pub async fn clear_requests(State(s): State<Arc<Shared>>) -> StatusCode {
    s.log.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}
