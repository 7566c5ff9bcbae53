//! What every request passes through: the client's token (or, with
//! `--no-auth`, its address) and its rate limit; one log line per request
//! (method, path, status, time, token id, error code: never a token, a key,
//! a query string or audio); CORS for the origins named; and the small
//! routes: `/healthz`, `/metrics`, a conversation's turns.

use super::errors::{ApiError, ErrorCode};
use super::State;
use axum::extract::{ConnectInfo, Path, Request, State as Shared};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Who is asking: a token's public id, or a client's address.
#[derive(Debug, Clone)]
pub struct Client(pub String);

/// Browsers cannot set headers on a WebSocket, so a token may come as the
/// subprotocol `sori-token.<token>` instead of `Authorization: Bearer`.
pub const WS_TOKEN_PROTOCOL: &str = "sori-token.";

fn presented_token(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_string());
    bearer.or_else(|| {
        headers
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').map(str::trim).find_map(|p| p.strip_prefix(WS_TOKEN_PROTOCOL)))
            .map(str::to_string)
    })
}

/// Token (or address), then the rate limit, then the route.
pub async fn guard(Shared(state): Shared<Arc<State>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, mut request: Request, next: Next) -> Response {
    let client = if state.open {
        Client(peer.ip().to_string())
    } else {
        match presented_token(request.headers()) {
            None => {
                return ApiError::unauthorized("No token: send `Authorization: Bearer <token>` (make one with `sori-cli serve token add NAME`).")
                    .into_response()
            }
            Some(token) => match state.tokens.verify(&token) {
                Some(entry) => Client(entry.id),
                None => return ApiError::unauthorized("The token is wrong or was revoked: ask the server's operator for a new one.").into_response(),
            },
        }
    };
    if let Err(wait) = state.limiter.take(&client.0) {
        let mut response = ApiError::rate_limited(wait).into_response();
        response.extensions_mut().insert(client);
        return response;
    }
    request.extensions_mut().insert(client.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(client);
    response
}

/// One structured line per request, and the error counter.
pub async fn log_requests(Shared(state): Shared<Arc<State>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let client = response.extensions().get::<Client>().map(|c| c.0.clone()).unwrap_or_default();
    let code = response.extensions().get::<ErrorCode>().map(|c| c.0).unwrap_or("");
    if !code.is_empty() {
        state.metrics.error(code);
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // Streamed answers are logged when their headers go out; the turn's own end is in `done`.
    if status >= 500 {
        tracing::warn!(%method, %path, status, ms, client, code, "request");
    } else {
        tracing::info!(%method, %path, status, ms, client, code, "request");
    }
    response
}

pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()).collect();
    (!origins.is_empty()).then(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([header::HeaderName::from_static("x-conversation-id"), header::RETRY_AFTER])
    })
}

pub async fn healthz(Shared(state): Shared<Arc<State>>) -> Response {
    let store = state.store.healthy().await;
    let status = if state.draining.is_cancelled() {
        "draining"
    } else if store {
        "ok"
    } else {
        "store_unavailable"
    };
    let code = if status == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(json!({ "status": status, "store": state.store.kind(), "version": env!("CARGO_PKG_VERSION") }))).into_response()
}

pub async fn metrics(Shared(state): Shared<Arc<State>>) -> Response {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.render()).into_response()
}

/// A conversation's turns, as the model will read them next.
pub async fn conversation(Shared(state): Shared<Arc<State>>, Path(id): Path<String>) -> Response {
    match state.store.get(&id).await {
        Ok(Some(c)) => Json(json!({
            "conversation_id": c.id,
            "customer": c.customer,
            "turns": c.turns,
            "created_ms": c.created_ms,
            "updated_ms": c.updated_ms,
        }))
        .into_response(),
        Ok(None) => ApiError::not_found(format!("There is no conversation {id}.")).into_response(),
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()).into_response(),
    }
}
