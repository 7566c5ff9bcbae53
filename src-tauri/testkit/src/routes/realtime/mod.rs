//! `GET /v1/realtime`: a fake of the OpenAI Realtime API over WebSocket,
//! GA interface only. Behind the same key check as the REST routes (401
//! before the upgrade); the retired beta header gets the real server's
//! `beta_api_shape_disabled` error and close 4000. Every client event is
//! checked against the spec's `RealtimeClientEvent` (a bad one gets the
//! `invalid_event` error with its `event_id`) and recorded; every event sent
//! is checked against `RealtimeServerEvent`. So far: sessions, push-to-talk
//! (`append`, `commit` with the 100 ms rule, `clear`); server-side voice
//! activity detection when `turn_detection` is `server_vad` or
//! `semantic_vad` (`vad.rs` detects speech on audio time; `input.rs` sends
//! `speech_started`, cancels a response it interrupts, and on
//! `speech_stopped` commits the turn and answers it; `idle_timeout_ms` sends
//! `timeout_triggered`); typed items and tool results; responses paced by
//! the latency model (`ladder.rs`, started and stopped by `respond.rs`);
//! `response.cancel`; and `conversation.item.truncate` checked against the
//! audio sent. Faults (`Endpoint::Realtime`): status faults refuse the
//! handshake; a session limit (an error, then close 1001, with `expires_at`
//! to match); a socket dropped mid-response; a failed response; slow first
//! audio.

mod input;
mod ladder;
mod respond;
mod vad;

use crate::faults::{Endpoint, Fault};
use crate::spec;
use crate::state::Shared;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::mpsc;

pub async fn upgrade(State(shared): State<Arc<Shared>>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    use crate::errors::ApiError;
    use axum::response::IntoResponse;
    let beta = headers.get("openai-beta").is_some();
    let (refused, limit) = {
        let mut faults = shared.faults.lock().unwrap();
        let refused = faults.take_if(Endpoint::Realtime, |f| {
            matches!(f, Fault::Unauthorized | Fault::RateLimited { .. } | Fault::QuotaExceeded | Fault::ServerError | Fault::Overloaded)
        });
        let limit = faults.take_if(Endpoint::Realtime, |f| matches!(f, Fault::SessionLimit { .. }));
        (refused, limit)
    };
    let error = match refused {
        Some(Fault::Unauthorized) => Some(ApiError::invalid_key("")),
        Some(Fault::RateLimited { retry_after_secs }) => Some(ApiError::rate_limited(retry_after_secs)),
        Some(Fault::QuotaExceeded) => Some(ApiError::quota_exceeded()),
        Some(Fault::ServerError) => Some(ApiError::server_error()),
        Some(Fault::Overloaded) => Some(ApiError::overloaded()),
        _ => None,
    };
    if let Some(e) = error {
        return e.into_response();
    }
    let limit = match limit {
        Some(Fault::SessionLimit { after_ms }) => Some(std::time::Duration::from_millis(after_ms)),
        _ => None,
    };
    ws.on_upgrade(move |socket| session(socket, shared, beta, limit))
}

/// The conversation as the fake keeps it.
#[derive(Default)]
struct Conversation {
    /// Chat-style messages, for the script's replies.
    messages: Vec<Value>,
    /// Assistant audio items: id → milliseconds of audio sent.
    audio: Vec<(String, u64)>,
    calls: Vec<String>,
    items: u64,
}

/// A response being sent: its id, its task, and the flag that stops it.
type Active = Option<(String, tokio::task::JoinHandle<()>, Arc<Stop>)>;

/// A running response's stop: the flag, and a wake-up for the wait before
/// its next event (so a cancel is answered at once, not at that event).
#[derive(Default)]
struct Stop {
    flag: std::sync::atomic::AtomicBool,
    wake: tokio::sync::Notify,
}

impl Stop {
    fn set(&self) {
        self.flag.store(true, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn is_set(&self) -> bool {
        self.flag.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn send(out: &mpsc::UnboundedSender<Message>, mut event: Value, seq: &mut u64) {
    *seq += 1;
    event["event_id"] = json!(format!("event_{seq:05}"));
    let kind = event["type"].as_str().unwrap_or_default();
    let schema = spec::realtime_schema("RealtimeServerEvent", kind).unwrap_or_else(|| panic!("the spec has no server event {kind}"));
    if let Err(e) = spec::check(&schema, &event) {
        panic!("the fake Realtime server sent an event the spec does not allow: {e}\n{event}");
    }
    let _ = out.send(Message::Text(event.to_string().into()));
}

fn error(kind: &str, code: &str, message: &str, param: Option<&str>, event_id: Option<&str>) -> Value {
    json!({ "type": "error", "error": { "type": kind, "code": code, "message": message, "param": param, "event_id": event_id } })
}

fn default_session(limit: std::time::Duration) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let expires = (now + limit).as_secs();
    json!({ "type": "realtime", "object": "realtime.session", "id": "sess_testkit", "model": "gpt-realtime", "output_modalities": ["audio"],
        "instructions": "You are a helpful assistant.", "tools": [], "tool_choice": "auto", "max_output_tokens": "inf",
        "expires_at": expires,
        "audio": { "input": { "format": { "type": "audio/pcm", "rate": 24000 },
                              "turn_detection": { "type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 500,
                                                  "idle_timeout_ms": null, "create_response": true, "interrupt_response": true } },
                   "output": { "format": { "type": "audio/pcm", "rate": 24000 }, "voice": "marin", "speed": 1.0 } } })
}

/// Merges `update` into `base`, objects key by key (a `null` clears). An
/// object whose `type` changes (`server_vad` to `semantic_vad`) replaces the old one.
fn merge(base: &mut Value, update: &Value) {
    match (base.as_object_mut(), update.as_object()) {
        (Some(b), Some(u)) => {
            for (k, v) in u {
                let same_kind = |old: &Value| v["type"].is_null() || old["type"] == v["type"];
                if v.is_object() && b.get(k).is_some_and(|old| old.is_object() && same_kind(old)) {
                    merge(b.get_mut(k).unwrap(), v);
                } else {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
        _ => *base = update.clone(),
    }
}

/// One socket's session: what the loop and its handlers (here, `input.rs`, `respond.rs`) share.
struct Live {
    shared: Arc<Shared>,
    out: mpsc::UnboundedSender<Message>,
    seq: u64,
    config: Value,
    conversation: Conversation,
    active: Active,
    /// Responses whose task ended, with what they made.
    done_tx: mpsc::UnboundedSender<(String, ladder::Made)>,
    done_rx: mpsc::UnboundedReceiver<(String, ladder::Made)>,
    /// A fault drops the socket without a close frame: both halves go.
    drop_tx: mpsc::UnboundedSender<()>,
    responses: u64,
    input: input::Input,
}

impl Live {
    fn send(&mut self, event: Value) {
        send(&self.out, event, &mut self.seq);
    }

    /// The next user (or response) item's id.
    fn next_item(&mut self) -> String {
        self.conversation.items += 1;
        format!("item_{:04}", self.conversation.items)
    }
}

async fn session(socket: WebSocket, shared: Arc<Shared>, beta: bool, limit: Option<std::time::Duration>) {
    use futures_util::{SinkExt, StreamExt};
    let (mut sink, mut incoming) = socket.split();
    let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
    let (drop_tx, mut drop_rx) = mpsc::unbounded_channel::<()>();
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            let closing = matches!(m, Message::Close(_));
            if sink.send(m).await.is_err() || closing {
                break;
            }
        }
    });
    if beta {
        send(
            &out,
            error(
                "invalid_request_error",
                "beta_api_shape_disabled",
                "The Realtime beta interface is no longer available: use the GA interface (remove the OpenAI-Beta header).",
                None,
                None,
            ),
            &mut 0,
        );
        let _ = out.send(Message::Close(Some(CloseFrame { code: 4000, reason: "beta_api_shape_disabled".into() })));
        return;
    }
    let length = *shared.realtime_session.lock().unwrap();
    let ends_after = limit.unwrap_or(length).min(length);
    let expiry = tokio::time::sleep(ends_after);
    tokio::pin!(expiry);
    let (done_tx, done_rx) = mpsc::unbounded_channel::<(String, ladder::Made)>();
    let mut live = Live {
        shared: shared.clone(),
        out,
        seq: 0,
        config: default_session(length),
        conversation: Conversation::default(),
        active: None,
        done_tx,
        done_rx,
        drop_tx,
        responses: 0,
        input: input::Input::default(),
    };
    live.send(json!({ "type": "session.created", "session": live.config }));
    loop {
        let idle = live.input.idle_deadline();
        let text = tokio::select! {
            m = incoming.next() => match m {
                Some(Ok(Message::Text(t))) => t.to_string(),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            Some((id, made)) = live.done_rx.recv() => {
                live.settle(&id, made);
                continue;
            }
            _ = drop_rx.recv() => {
                writer.abort();
                break;
            }
            _ = &mut expiry => {
                let minutes = length.as_secs().div_ceil(60);
                let message = format!("Your session hit the maximum duration of {minutes} minutes.");
                live.send(error("invalid_request_error", "session_expired", &message, None, None));
                let _ = live.out.send(Message::Close(Some(CloseFrame { code: 1001, reason: message.into() })));
                break;
            }
            _ = tokio::time::sleep_until(idle.unwrap_or_else(tokio::time::Instant::now)), if idle.is_some() => {
                live.idle_timeout();
                continue;
            }
        };
        let Ok(event) = serde_json::from_str::<Value>(&text) else {
            live.send(error("invalid_request_error", "invalid_json", "The event is not valid JSON.", None, None));
            continue;
        };
        shared.realtime_log.lock().unwrap().push(event.clone());
        let event_id = event["event_id"].as_str().map(str::to_string);
        let eid = event_id.as_deref();
        let schema =
            event["type"].as_str().and_then(|k| spec::realtime_schema("RealtimeClientEvent", k)).unwrap_or_else(|| "RealtimeClientEvent".into());
        if let Err(e) = spec::check(&schema, &event) {
            live.send(error("invalid_request_error", "invalid_event", &format!("Invalid event: {e}"), Some("type"), eid));
            continue;
        }
        match event["type"].as_str().unwrap_or_default() {
            "session.update" => {
                merge(&mut live.config, &event["session"]);
                live.send(json!({ "type": "session.updated", "session": live.config }));
            }
            "input_audio_buffer.append" => {
                let audio = base64::engine::general_purpose::STANDARD.decode(event["audio"].as_str().unwrap_or_default()).unwrap_or_default();
                live.append(&audio).await;
            }
            "input_audio_buffer.clear" => live.clear(),
            "input_audio_buffer.commit" => live.commit_buffer(eid),
            "conversation.item.create" => {
                let item = &event["item"];
                let generated = live.next_item();
                let item_id = item["id"].as_str().map_or(generated, str::to_string);
                match item["type"].as_str() {
                    Some("function_call_output") => {
                        let call = item["call_id"].as_str().unwrap_or_default();
                        if !live.conversation.calls.iter().any(|c| c == call) {
                            let message = format!("No function call with call_id {call} in this conversation.");
                            live.send(error("invalid_request_error", "invalid_value", &message, Some("item.call_id"), eid));
                            continue;
                        }
                        live.conversation.messages.push(json!({ "role": "tool", "tool_call_id": call, "content": item["output"] }));
                    }
                    // A call the client puts in (one the user settled later): its output may follow.
                    Some("function_call") => {
                        live.conversation.calls.push(item["call_id"].as_str().unwrap_or_default().to_string());
                    }
                    _ => {
                        let text: String = item["content"].as_array().into_iter().flatten().filter_map(|c| c["text"].as_str()).collect();
                        live.conversation.messages.push(json!({ "role": item["role"], "content": text }));
                    }
                }
                let mut added = item.clone();
                added["id"] = json!(item_id);
                added["status"] = json!("completed");
                live.send(json!({ "type": "conversation.item.added", "previous_item_id": null, "item": added }));
            }
            "response.create" => {
                let started = live.respond();
                if !started {
                    let message = "Conversation already has an active response in progress.";
                    live.send(error("invalid_request_error", "conversation_already_has_active_response", message, None, eid));
                }
            }
            "response.cancel" => {
                let stopped = live.stop("client_cancelled").await;
                if !stopped {
                    let message = "Cancellation failed: no active response found";
                    live.send(error("invalid_request_error", "response_cancel_not_active", message, None, eid));
                }
            }
            "conversation.item.truncate" => {
                // Audio sent so far for the items of a response that is over or running.
                live.drain();
                let item_id = event["item_id"].as_str().unwrap_or_default();
                let end = event["audio_end_ms"].as_u64().unwrap_or(0);
                let reply = match live.conversation.audio.iter().find(|(i, _)| i == item_id) {
                    None => {
                        error("invalid_request_error", "item_not_found", &format!("Item {item_id} has no audio to truncate."), Some("item_id"), eid)
                    }
                    Some((_, ms)) if end > *ms => {
                        let message = format!("Audio content of {ms}ms is already shorter than {end}ms");
                        error("invalid_request_error", "invalid_value", &message, Some("audio_end_ms"), eid)
                    }
                    Some(_) => json!({ "type": "conversation.item.truncated", "item_id": item_id, "content_index": 0, "audio_end_ms": end }),
                };
                live.send(reply);
            }
            "conversation.item.delete" => live.send(json!({ "type": "conversation.item.deleted", "item_id": event["item_id"] })),
            _ => {}
        }
    }
    if let Some((_, task, stop)) = live.active.take() {
        stop.set();
        task.abort();
    }
}
