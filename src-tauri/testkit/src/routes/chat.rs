//! `POST /v1/chat/completions`: plain and streamed (SSE) replies, tool calls,
//! usage, paced by the latency model, with malformed-SSE, drop and
//! content-filter faults. A reply is cut at `max_completion_tokens` (or the
//! older `max_tokens`) with `finish_reason: "length"`; setting both is refused
//! as OpenAI refuses it.

use super::{now_unix, parse_json};
use crate::errors::ApiError;
use crate::faults::{Endpoint, Fault};
use crate::script::{sha256_hex, tokenize, Reply};
use crate::state::{Ctx, Shared};
use crate::stream::{self, sse_event, Timed, SSE_CONTENT_TYPE};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn completions(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    shared.record(Endpoint::Chat, &headers, serde_json::from_slice(&body).unwrap_or(Value::Null));
    let ctx = shared.begin(Endpoint::Chat).await?;
    let request = parse_json(&body, "CreateChatCompletionRequest")?;
    if request.get("max_tokens").is_some_and(|v| !v.is_null()) && request.get("max_completion_tokens").is_some_and(|v| !v.is_null()) {
        return Err(ApiError::invalid_request(
            "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.",
            Some("max_tokens"),
        ));
    }
    let offers_tools = request["tools"].as_array().is_some_and(|t| !t.is_empty());
    if offers_tools && *shared.rejects_tools.lock().unwrap() {
        // Ollama's words for a model without tool calling.
        let model = request["model"].as_str().unwrap_or_default();
        return Err(ApiError::invalid_request(format!("registry.ollama.ai/library/{model}:latest does not support tools"), None));
    }
    let limit = request["max_completion_tokens"].as_u64().or(request["max_tokens"].as_u64()).map(|n| n as usize);
    let limit = limit.filter(|_| !*shared.ignores_max_tokens.lock().unwrap());
    let reply = shared.script.lock().unwrap().reply(&request);
    let stop = match &ctx.fault {
        Some(Fault::ContentFilter { after_tokens }) => Some((*after_tokens, "content_filter")),
        _ => limit.map(|n| (n, "length")),
    };
    let meta = Meta {
        id: format!("chatcmpl-{}", &sha256_hex(&body)[..24]),
        model: request["model"].as_str().unwrap_or_default().to_string(),
        created: now_unix(),
        prompt_tokens: prompt_tokens(&request),
    };
    if request["stream"] == true {
        let usage = request["stream_options"]["include_usage"] == true;
        Ok(streamed(&ctx, &meta, &reply, usage, stop))
    } else {
        Ok(whole(&ctx, &meta, &reply, stop).await)
    }
}

struct Meta {
    id: String,
    model: String,
    created: u64,
    prompt_tokens: usize,
}

fn prompt_tokens(request: &Value) -> usize {
    let messages = request["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    messages.iter().map(|m| 4 + tokenize(m["content"].as_str().unwrap_or_default()).len()).sum()
}

fn usage(meta: &Meta, completion: usize) -> Value {
    json!({ "prompt_tokens": meta.prompt_tokens, "completion_tokens": completion, "total_tokens": meta.prompt_tokens + completion })
}

/// A reply's stream deltas: its text tokens; or its preamble's tokens, then
/// each call opened (index, id, name) and its arguments in 8-character pieces.
fn deltas(reply: &Reply) -> Vec<Value> {
    match reply {
        Reply::Text(text) => tokenize(text).into_iter().map(|t| json!({ "content": t })).collect(),
        Reply::Calls { preamble, calls } => {
            let mut out: Vec<Value> = tokenize(preamble).into_iter().map(|t| json!({ "content": t })).collect();
            for (i, call) in calls.iter().enumerate() {
                let open = json!([{ "index": i, "id": call.id, "type": "function", "function": { "name": call.name, "arguments": "" } }]);
                out.push(json!({ "tool_calls": open }));
                let chars: Vec<char> = call.arguments.chars().collect();
                for piece in chars.chunks(8) {
                    out.push(json!({ "tool_calls": [{ "index": i, "function": { "arguments": piece.iter().collect::<String>() } }] }));
                }
            }
            out
        }
    }
}

/// A reply's deltas, cut at `stop` (a token count and its finish reason)
/// when it is text and longer.
fn cut_deltas(reply: &Reply, stop: Option<(usize, &'static str)>) -> (Vec<Value>, &'static str) {
    let mut deltas = deltas(reply);
    match stop {
        Some((n, why)) if matches!(reply, Reply::Text(_)) && deltas.len() > n => {
            deltas.truncate(n);
            (deltas, why)
        }
        _ => (deltas, if matches!(reply, Reply::Text(_)) { "stop" } else { "tool_calls" }),
    }
}

async fn whole(ctx: &Ctx, meta: &Meta, reply: &Reply, stop: Option<(usize, &'static str)>) -> Response {
    let (cut, finish) = cut_deltas(reply, stop);
    let n = cut.len();
    let text: String = cut.iter().filter_map(|d| d["content"].as_str()).collect();
    let message = match reply {
        Reply::Text(_) => json!({ "role": "assistant", "content": text, "refusal": null, "annotations": [] }),
        Reply::Calls { calls, .. } => {
            let calls: Vec<Value> =
                calls.iter().map(|c| json!({ "id": c.id, "type": "function", "function": { "name": c.name, "arguments": c.arguments } })).collect();
            let content = if text.is_empty() { Value::Null } else { json!(text) };
            json!({ "role": "assistant", "content": content, "refusal": null, "annotations": [], "tool_calls": calls })
        }
    };
    let body = json!({
        "id": meta.id, "object": "chat.completion", "created": meta.created, "model": meta.model,
        "system_fingerprint": "fp_sori_testkit", "service_tier": "default",
        "choices": [{ "index": 0, "message": message, "logprobs": null, "finish_reason": finish }],
        "usage": usage(meta, n),
    });
    // A whole reply arrives when its last token would have been generated.
    let at = ctx.latency.chat_token_at(n.saturating_sub(1));
    stream::whole(StatusCode::OK, "application/json", ctx.start, at, body.to_string().into(), ctx.drop_after()).await
}

fn chunk(meta: &Meta, delta: Value, finish: Option<&str>, with_usage: bool) -> Bytes {
    let mut c = json!({
        "id": meta.id, "object": "chat.completion.chunk", "created": meta.created, "model": meta.model,
        "system_fingerprint": "fp_sori_testkit", "service_tier": "default",
        "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
    });
    if with_usage {
        c["usage"] = Value::Null;
    }
    sse_event(&c.to_string())
}

fn streamed(ctx: &Ctx, meta: &Meta, reply: &Reply, with_usage: bool, stop: Option<(usize, &'static str)>) -> Response {
    let (pieces, finish) = cut_deltas(reply, stop);
    let first = ctx.latency.chat_token_at(0);
    let mut parts: Vec<Timed> = Vec::new();
    // The role comes first; a reply that opens with a call has no content,
    // and its first chunk opens the call too, as OpenAI streams it.
    let opens_with_call = pieces.first().is_some_and(|d| d.get("tool_calls").is_some());
    if !opens_with_call {
        parts.push((first, chunk(meta, json!({ "role": "assistant", "content": "", "refusal": null }), None, with_usage)));
    }
    for (i, delta) in pieces.iter().enumerate() {
        let mut delta = delta.clone();
        if i == 0 && opens_with_call {
            delta["role"] = json!("assistant");
            delta["content"] = Value::Null;
            delta["refusal"] = Value::Null;
        }
        let at = ctx.latency.chat_token_at(i);
        parts.push((at, chunk(meta, delta, None, with_usage)));
        if i == 1 && ctx.has(&Fault::MalformedSse) {
            parts.push((at, sse_event(r#"{"id": "chatcmpl-broken", "choices": [{"delta": {"content": "#)));
        }
    }
    let end = ctx.latency.chat_token_at(pieces.len().saturating_sub(1));
    parts.push((end, chunk(meta, json!({}), Some(finish), with_usage)));
    if with_usage {
        let last = json!({
            "id": meta.id, "object": "chat.completion.chunk", "created": meta.created, "model": meta.model,
            "system_fingerprint": "fp_sori_testkit", "service_tier": "default", "choices": [], "usage": usage(meta, pieces.len()),
        });
        parts.push((end, sse_event(&last.to_string())));
    }
    parts.push((end, sse_event("[DONE]")));
    stream::paced(StatusCode::OK, SSE_CONTENT_TYPE, ctx.start, parts, ctx.drop_after(), None)
}
