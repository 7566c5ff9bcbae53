//! The streamed form of `/voice-chat`: Server-Sent Events, sent as the turn
//! runs. The audio travels inside the events, as base64 16-bit PCM (what
//! WebAudio plays without a decoder, and what the Realtime API sends too),
//! so one response carries everything in order.
//!
//! Order: `conversation` first; then `user_transcript`; then, interleaved
//! as they happen, `assistant_delta` (text), `audio`, `assistant_speaking`,
//! `tool_started`/`tool_finished`, `confirmation_asked`/`confirmation_settled`,
//! `retrying` and `error`; then `request_classified`, `turn_ended` (with the
//! turn's metrics) and `done`, always last. Every event's data is one JSON
//! object; the engine's events keep the window's shapes (`event.rs`).

use super::metrics::InFlight;
use super::turn::{Item, Running};
use super::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};
use sori_core::audio::Pcm;
use sori_core::event::Event;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// The engine's events a client is sent (not the window's meter or status).
const SENT: [&str; 12] = [
    "user_speech_started",
    "user_transcript",
    "assistant_delta",
    "assistant_speaking",
    "tool_started",
    "tool_finished",
    "confirmation_asked",
    "confirmation_settled",
    "request_classified",
    "retrying",
    "error",
    "turn_ended",
];

/// An engine event as `(name, data)`, if clients are sent it.
pub fn engine_event(event: &Event) -> Option<(String, Value)> {
    let value = serde_json::to_value(event).ok()?;
    let name = value.get("type")?.as_str()?.to_string();
    SENT.contains(&name.as_str()).then_some((name, value))
}

/// A piece of speech as an `audio` event's data.
pub fn audio_data(pcm: &Pcm) -> Value {
    let bytes: Vec<u8> = pcm.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    json!({ "type": "audio", "format": "pcm16", "sample_rate": pcm.sample_rate, "data": base64::engine::general_purpose::STANDARD.encode(bytes) })
}

/// The last event's data: the turn as kept.
pub fn done_data(conversation_id: &str, done: &super::turn::Done) -> Value {
    let o = &done.outcome;
    json!({
        "type": "done",
        "conversation_id": conversation_id,
        "user_text": o.user_text,
        "reply": o.reply,
        "heard": o.heard,
        "interrupted": o.interrupted,
        "incomplete": o.incomplete,
        "timed_out": done.timed_out,
        "request_type": o.request_type,
        "metrics": o.metrics,
        "kept": done.not_kept.is_none(),
    })
}

fn event(name: &str, data: &Value) -> SseEvent {
    SseEvent::default().event(name).data(data.to_string())
}

pub fn respond(state: Arc<State>, running: Running, received: Instant, in_flight: InFlight) -> Response {
    let id = running.conversation_id.clone();
    let opening = event("conversation", &json!({ "type": "conversation", "conversation_id": id }));
    let stream = futures_util::stream::unfold(Some((running, Some(opening), false, in_flight)), move |step| {
        let state = state.clone();
        async move {
            let (mut running, opening, mut sounded, in_flight) = step?;
            if let Some(opening) = opening {
                return Some((Ok::<_, Infallible>(opening), Some((running, None, sounded, in_flight))));
            }
            loop {
                match running.items.recv().await {
                    Some(Item::Event(e)) => {
                        if let Some((name, data)) = engine_event(&e) {
                            return Some((Ok(event(&name, &data)), Some((running, None, sounded, in_flight))));
                        }
                    }
                    Some(Item::Audio(pcm)) => {
                        if !sounded {
                            sounded = true;
                            state.metrics.first_audio(received.elapsed().as_secs_f64());
                        }
                        return Some((Ok(event("audio", &audio_data(&pcm))), Some((running, None, sounded, in_flight))));
                    }
                    Some(Item::Done(done)) => {
                        drop(in_flight);
                        if done.timed_out {
                            state.metrics.error("turn_timeout");
                        }
                        let id = running.conversation_id.clone();
                        return Some((Ok(event("done", &done_data(&id, &done))), None));
                    }
                    None => return None,
                }
            }
        }
    });
    let mut response = Sse::new(stream).keep_alive(KeepAlive::default()).into_response();
    response.headers_mut().insert("x-conversation-id", axum::http::HeaderValue::from_str(&id).expect("ids are ASCII"));
    response
}
