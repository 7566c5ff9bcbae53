//! `GET /v1/models` and `GET /v1/models/{id}`: what this server pretends to
//! serve; and, when asked to act as Ollama, Ollama's own `GET /api/tags`.

use crate::errors::ApiError;
use crate::faults::Endpoint;
use crate::state::Shared;
use crate::stream;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The models listed: chat, transcription and speech, as OpenAI names them.
pub const MODELS: &[&str] =
    &["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper-1", "gpt-4o-mini-tts", "tts-1", "tts-1-hd"];

fn model(id: &str) -> Value {
    json!({ "id": id, "object": "model", "created": 1_715_367_049u64, "owned_by": "system" })
}

async fn json_reply(ctx: &crate::state::Ctx, body: Value) -> Response {
    stream::whole(StatusCode::OK, "application/json", ctx.start, Duration::ZERO, body.to_string().into(), ctx.drop_after()).await
}

pub async fn list(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Result<Response, ApiError> {
    shared.record(Endpoint::Models, &headers, Value::Null);
    let ctx = shared.begin(Endpoint::Models).await?;
    let body = json!({ "object": "list", "data": MODELS.iter().map(|id| model(id)).collect::<Vec<_>>() });
    Ok(json_reply(&ctx, body).await)
}

pub async fn get(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, ApiError> {
    shared.record(Endpoint::Models, &headers, json!({ "id": id }));
    let ctx = shared.begin(Endpoint::Models).await?;
    if !MODELS.contains(&id.as_str()) {
        return Err(ApiError::model_not_found(&id));
    }
    Ok(json_reply(&ctx, model(&id)).await)
}

/// Ollama's model list (its `/api/tags` shape), only when the server acts as Ollama.
pub async fn ollama_tags(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if !*shared.ollama_tags.lock().unwrap() {
        let mut e = ApiError::invalid_request("Invalid URL (GET /api/tags)".to_string(), None);
        e.status = StatusCode::NOT_FOUND;
        return Err(e);
    }
    shared.record(Endpoint::Models, &headers, Value::Null);
    let ctx = shared.begin(Endpoint::Models).await?;
    let models: Vec<Value> = ["llama3.2:3b", "qwen2.5:1.5b"]
        .iter()
        .map(|name| {
            json!({ "name": name, "model": name, "modified_at": "2026-11-30T09:00:00Z", "size": 1_929_912_432u64,
            "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72", "details": { "format": "gguf", "family": "llama" } })
        })
        .collect();
    Ok(json_reply(&ctx, json!({ "models": models })).await)
}
