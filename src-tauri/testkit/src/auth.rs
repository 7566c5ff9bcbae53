//! Bearer-key checking, answered with OpenAI's own 401 bodies. The control
//! routes (`/__testkit/…`) are not behind it.

use crate::errors::ApiError;
use crate::state::Shared;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Lets a request through when the server has no key (like a local Ollama) or
/// when `Authorization: Bearer <key>` matches.
pub async fn require_key(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let expected = shared.api_key.lock().unwrap().clone();
    if let Some(expected) = expected {
        let sent = request.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::trim);
        match sent.and_then(|v| v.strip_prefix("Bearer ")) {
            None => return ApiError::missing_key().into_response(),
            Some(key) if key.trim() != expected => return ApiError::invalid_key(key.trim()).into_response(),
            Some(_) => {}
        }
    }
    next.run(request).await
}
