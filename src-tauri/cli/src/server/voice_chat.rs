//! `POST /voice-chat`, the tutorial's endpoint, in its two forms:
//! - as the tutorial has it: the spoken reply as `audio/mpeg`
//!   (`Content-Disposition: inline; filename=reply.mp3`), sent as it is
//!   made, from the first clause on; a failure before any speech is a JSON error;
//! - streamed (`Accept: text/event-stream` or `?stream=true`): events at
//!   once (see `sse.rs` for their order) with the audio inside them.
//!
//! The conversation's id comes back in `X-Conversation-Id` (and in the
//! events); sending it back as the field `conversation_id` goes on with it.

use super::errors::ApiError;
use super::mp3::Mp3Stream;
use super::turn::{self, Item, Running};
use super::{sse, State};
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Query, State as Shared};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sori_core::audio::Pcm;
use sori_core::event::Event;
use sori_core::provider::ProviderError;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Deserialize)]
pub struct Options {
    stream: Option<bool>,
}

pub async fn voice_chat(Shared(state): Shared<Arc<State>>, Query(options): Query<Options>, headers: HeaderMap, form: Multipart) -> Response {
    match answer(state, options, headers, form).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn answer(state: Arc<State>, options: Options, headers: HeaderMap, form: Multipart) -> Result<Response, ApiError> {
    if state.draining.is_cancelled() {
        return Err(ApiError::shutting_down());
    }
    // Refused before a byte of the body is read: a client that asked
    // `Expect: 100-continue` (curl does, for large files) sends none of it.
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.limits.upload_bytes as u64) {
        return Err(ApiError::too_large(state.limits.upload_bytes as u64 / 1_000_000));
    }
    let question = super::upload::read_question(form, &state.limits).await?;
    // The clock of "time to first audio" starts when the whole question is here.
    let received = Instant::now();
    let accepts_events = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/event-stream"));
    let streamed = options.stream.unwrap_or(accepts_events);
    let running = turn::start(&state, question, false).await?;
    if streamed {
        let in_flight = state.metrics.turn_started("sse");
        return Ok(sse::respond(state, running, received, in_flight));
    }
    let in_flight = state.metrics.turn_started("mp3");
    mp3_reply(state, running, received, in_flight).await
}

/// Waits for the first speech (or the turn's end), then streams the MP3.
async fn mp3_reply(state: Arc<State>, mut running: Running, received: Instant, in_flight: super::metrics::InFlight) -> Result<Response, ApiError> {
    let mut failure: Option<ApiError> = None;
    let first: Pcm = loop {
        match running.items.recv().await {
            Some(Item::Audio(pcm)) => break pcm,
            Some(Item::Event(Event::Error { error, message, .. })) => {
                failure.get_or_insert(ApiError::from_provider(&ProviderError::new(error, message)));
            }
            Some(Item::Event(_)) => {}
            Some(Item::Done(done)) if done.timed_out => return Err(timed_out(&state)),
            Some(Item::Done(_)) | None => {
                return Err(
                    failure.unwrap_or_else(|| ApiError::new(StatusCode::BAD_GATEWAY, "no_speech", "The reply had no speech: see the server's log."))
                )
            }
        }
    };
    state.metrics.first_audio(received.elapsed().as_secs_f64());
    let id = running.conversation_id.clone();
    let mut encoder = Mp3Stream::new(first.sample_rate).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "encoder", e.to_string()))?;
    let head = encoder.push(&first).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "encoder", e.to_string()))?;
    let body = futures_util::stream::unfold(Some((running, encoder, Some(head), in_flight)), |step| async move {
        let (mut running, mut encoder, head, in_flight) = step?;
        if let Some(head) = head {
            return Some((Ok::<_, std::io::Error>(Bytes::from(head)), Some((running, encoder, None, in_flight))));
        }
        loop {
            match running.items.recv().await {
                Some(Item::Audio(pcm)) => match encoder.push(&pcm) {
                    Ok(bytes) if bytes.is_empty() => continue,
                    Ok(bytes) => return Some((Ok(Bytes::from(bytes)), Some((running, encoder, None, in_flight)))),
                    Err(e) => return Some((Err(std::io::Error::other(e)), None)),
                },
                Some(Item::Event(_)) => continue,
                Some(Item::Done(_)) | None => {
                    drop(in_flight);
                    return Some((encoder.finish().map(Bytes::from).map_err(std::io::Error::other), None));
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/mpeg"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline; filename=reply.mp3"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-conversation-id", HeaderValue::from_str(&id).expect("ids are ASCII"));
    Ok(response)
}

pub fn timed_out(state: &State) -> ApiError {
    ApiError::new(
        StatusCode::GATEWAY_TIMEOUT,
        "turn_timeout",
        format!("The answer took longer than {} s and was stopped: try again, or ask a shorter question.", state.limits.turn.as_secs()),
    )
}
