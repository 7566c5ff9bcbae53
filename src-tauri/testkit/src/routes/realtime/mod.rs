//! `GET /v1/realtime`: a fake of the OpenAI Realtime API over WebSocket,
//! GA interface only. Behind the same key check as the REST routes (401
//! before the upgrade); the retired beta header gets the real server's
//! `beta_api_shape_disabled` error and close 4000. Every client event is
//! checked against the spec's `RealtimeClientEvent` (a bad one gets the
//! `invalid_event` error with its `event_id`) and recorded; every event sent
//! is checked against `RealtimeServerEvent`. So far: sessions, push-to-talk
//! (`append`, `commit`, with the 100 ms rule), typed items and tool results,
//! responses paced by the latency model (`ladder.rs`), `response.cancel`,
//! and `conversation.item.truncate` checked against the audio sent. Faults
//! (`Endpoint::Realtime`): status faults refuse the handshake; a session
//! limit (an error, then close 1001, with `expires_at` to match); a socket
//! dropped mid-response; a failed response; slow first audio.

mod ladder;

use crate::faults::{Endpoint, Fault};
use crate::script::{default_transcript, Reply};
use crate::spec;
use crate::state::Shared;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
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
type Active = Option<(String, tokio::task::JoinHandle<()>, Arc<std::sync::atomic::AtomicBool>)>;

impl Conversation {
    /// A response's task ended: its items (with the audio it sent) join the conversation.
    fn settle(&mut self, active: &mut Active, id: &str, made: ladder::Made) {
        if active.as_ref().is_some_and(|(a, _, _)| a == id) {
            *active = None;
        }
        self.audio.extend(made.audio_items);
        self.calls.extend(made.calls);
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

/// Merges `update` into `base`, objects key by key (a `null` clears).
fn merge(base: &mut Value, update: &Value) {
    match (base.as_object_mut(), update.as_object()) {
        (Some(b), Some(u)) => {
            for (k, v) in u {
                if v.is_object() && b.get(k).is_some_and(Value::is_object) {
                    merge(b.get_mut(k).unwrap(), v);
                } else {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
        _ => *base = update.clone(),
    }
}

async fn session(socket: WebSocket, shared: Arc<Shared>, beta: bool, limit: Option<std::time::Duration>) {
    use futures_util::{SinkExt, StreamExt};
    let (mut sink, mut incoming) = socket.split();
    let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
    // A fault drops the socket without a close frame: both halves go.
    let (drop_tx, mut drop_rx) = mpsc::unbounded_channel::<()>();
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            let closing = matches!(m, Message::Close(_));
            if sink.send(m).await.is_err() || closing {
                break;
            }
        }
    });
    let mut seq = 0u64;
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
            &mut seq,
        );
        let _ = out.send(Message::Close(Some(CloseFrame { code: 4000, reason: "beta_api_shape_disabled".into() })));
        return;
    }
    let length = *shared.realtime_session.lock().unwrap();
    let mut config = default_session(length);
    let ends_after = limit.unwrap_or(length).min(length);
    let expiry = tokio::time::sleep(ends_after);
    tokio::pin!(expiry);
    send(&out, json!({ "type": "session.created", "session": config }), &mut seq);
    let mut buffer: Vec<u8> = Vec::new();
    let mut conversation = Conversation::default();
    let mut active: Active = None;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(String, ladder::Made)>();
    let mut responses = 0u64;
    loop {
        let text = tokio::select! {
            m = incoming.next() => match m {
                Some(Ok(Message::Text(t))) => t.to_string(),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            Some((id, made)) = done_rx.recv() => {
                conversation.settle(&mut active, &id, made);
                continue;
            }
            _ = drop_rx.recv() => {
                writer.abort();
                break;
            }
            _ = &mut expiry => {
                let minutes = length.as_secs().div_ceil(60);
                let message = format!("Your session hit the maximum duration of {minutes} minutes.");
                send(&out, error("invalid_request_error", "session_expired", &message, None, None), &mut seq);
                let _ = out.send(Message::Close(Some(CloseFrame { code: 1001, reason: message.into() })));
                break;
            }
        };
        let Ok(event) = serde_json::from_str::<Value>(&text) else {
            send(&out, error("invalid_request_error", "invalid_json", "The event is not valid JSON.", None, None), &mut seq);
            continue;
        };
        shared.realtime_log.lock().unwrap().push(event.clone());
        let event_id = event["event_id"].as_str().map(str::to_string);
        let eid = event_id.as_deref();
        let schema =
            event["type"].as_str().and_then(|k| spec::realtime_schema("RealtimeClientEvent", k)).unwrap_or_else(|| "RealtimeClientEvent".into());
        if let Err(e) = spec::check(&schema, &event) {
            send(&out, error("invalid_request_error", "invalid_event", &format!("Invalid event: {e}"), Some("type"), eid), &mut seq);
            continue;
        }
        match event["type"].as_str().unwrap_or_default() {
            "session.update" => {
                merge(&mut config, &event["session"]);
                send(&out, json!({ "type": "session.updated", "session": config }), &mut seq);
            }
            "input_audio_buffer.append" => {
                let audio = base64::engine::general_purpose::STANDARD.decode(event["audio"].as_str().unwrap_or_default()).unwrap_or_default();
                buffer.extend(audio);
            }
            "input_audio_buffer.clear" => {
                buffer.clear();
                send(&out, json!({ "type": "input_audio_buffer.cleared" }), &mut seq);
            }
            "input_audio_buffer.commit" => {
                let ms = buffer.len() as f64 / 48.0;
                if ms < 100.0 {
                    let message = format!("Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has {ms:.2}ms of audio.");
                    send(&out, error("invalid_request_error", "input_audio_buffer_commit_empty", &message, None, eid), &mut seq);
                    continue;
                }
                conversation.items += 1;
                let item_id = format!("item_{:04}", conversation.items);
                buffer.clear();
                send(&out, json!({ "type": "input_audio_buffer.committed", "previous_item_id": null, "item_id": item_id }), &mut seq);
                let item = json!({ "id": item_id, "type": "message", "status": "completed", "role": "user", "content": [{ "type": "input_audio" }] });
                send(&out, json!({ "type": "conversation.item.added", "previous_item_id": null, "item": item }), &mut seq);
                let language = config["audio"]["input"]["transcription"]["language"].as_str().map(str::to_string);
                let said = default_transcript(language.as_deref());
                conversation.messages.push(json!({ "role": "user", "content": said }));
                if config["audio"]["input"]["transcription"].is_object() {
                    // The transcription model runs beside the response, so the
                    // user's words usually arrive after the reply has begun.
                    let latency = *shared.latency.lock().unwrap();
                    let after = latency.stt(ms / 1000.0) + latency.chat_token_at(3);
                    let event = json!({ "type": "conversation.item.input_audio_transcription.completed", "item_id": item_id, "content_index": 0, "transcript": said,
                        "usage": { "type": "duration", "seconds": (ms / 1000.0).ceil() } });
                    let (out, mut own_seq) = (out.clone(), seq + 50_000 * conversation.items);
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        send(&out, event, &mut own_seq);
                    });
                }
            }
            "conversation.item.create" => {
                let item = &event["item"];
                conversation.items += 1;
                let item_id = item["id"].as_str().map(str::to_string).unwrap_or_else(|| format!("item_{:04}", conversation.items));
                match item["type"].as_str() {
                    Some("function_call_output") => {
                        let call = item["call_id"].as_str().unwrap_or_default();
                        if !conversation.calls.iter().any(|c| c == call) {
                            send(
                                &out,
                                error(
                                    "invalid_request_error",
                                    "invalid_value",
                                    &format!("No function call with call_id {call} in this conversation."),
                                    Some("item.call_id"),
                                    eid,
                                ),
                                &mut seq,
                            );
                            continue;
                        }
                        conversation.messages.push(json!({ "role": "tool", "tool_call_id": call, "content": item["output"] }));
                    }
                    _ => {
                        let text: String = item["content"].as_array().into_iter().flatten().filter_map(|c| c["text"].as_str()).collect();
                        conversation.messages.push(json!({ "role": item["role"], "content": text }));
                    }
                }
                let mut added = item.clone();
                added["id"] = json!(item_id);
                added["status"] = json!("completed");
                send(&out, json!({ "type": "conversation.item.added", "previous_item_id": null, "item": added }), &mut seq);
            }
            "response.create" => {
                while let Ok((id, made)) = done_rx.try_recv() {
                    conversation.settle(&mut active, &id, made);
                }
                if active.is_some() {
                    send(
                        &out,
                        error(
                            "invalid_request_error",
                            "conversation_already_has_active_response",
                            "Conversation already has an active response in progress.",
                            None,
                            eid,
                        ),
                        &mut seq,
                    );
                    continue;
                }
                responses += 1;
                let response_id = format!("resp_{responses:04}");
                let tools: Vec<Value> =
                    config["tools"].as_array().into_iter().flatten().map(|t| json!({ "type": "function", "function": t })).collect();
                let reply = shared.script.lock().unwrap().reply(&json!({ "messages": conversation.messages, "tools": tools }));
                if let Reply::Text(t) = &reply {
                    conversation.messages.push(json!({ "role": "assistant", "content": t }));
                }
                let latency = *shared.latency.lock().unwrap();
                let voice = config["audio"]["output"]["voice"].as_str().unwrap_or("marin").to_string();
                let fault = shared.faults.lock().unwrap().take(Endpoint::Realtime);
                if fault == Some(Fault::ResponseFailed) {
                    send(&out, json!({ "type": "response.created", "response": ladder::response(&response_id, "in_progress", &[], None) }), &mut seq);
                    send(&out, ladder::failed(&response_id), &mut seq);
                    continue;
                }
                let (mut events, made) = ladder::ladder(&response_id, &mut conversation.items, &reply, &latency, &voice);
                if let Some(Fault::SlowFirstByte { ms }) = fault {
                    events.iter_mut().filter(|d| d.event["type"] != "response.created").for_each(|d| d.at += std::time::Duration::from_millis(ms));
                }
                let dropping = (fault == Some(Fault::CloseMidResponse)).then(|| drop_tx.clone());
                let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let (out2, done, id, stopped) = (out.clone(), done_tx.clone(), response_id.clone(), stop.clone());
                // The ladder's own event ids continue from a range of its own.
                let mut ladder_seq = seq + 100_000 * responses;
                let task = tokio::spawn(async move {
                    let start = Instant::now();
                    let mut made = Some(made);
                    for due in events {
                        tokio::time::sleep(due.at.saturating_sub(start.elapsed())).await;
                        if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                            break;
                        }
                        if due.event["type"] == "response.output_audio.delta" {
                            let bytes = base64::engine::general_purpose::STANDARD
                                .decode(due.event["delta"].as_str().unwrap_or_default())
                                .map(|b| b.len())
                                .unwrap_or(0);
                            if let Some(s) = made.as_mut().and_then(|m| m.audio_items.iter_mut().find(|(i, _)| due.event["item_id"] == i.as_str())) {
                                s.1 += (bytes / 48) as u64;
                            }
                        }
                        // The response is over for the session before the client can hear so.
                        if due.event["type"] == "response.done" {
                            if let Some(m) = made.take() {
                                let _ = done.send((id.clone(), m));
                            }
                        }
                        let audio = due.event["type"] == "response.output_audio.delta";
                        send(&out2, due.event, &mut ladder_seq);
                        if let (true, Some(dropping)) = (audio, &dropping) {
                            let _ = dropping.send(());
                            return;
                        }
                    }
                    if let Some(m) = made {
                        let _ = done.send((id, m));
                    }
                });
                active = Some((response_id, task, stop));
            }
            "response.cancel" => match active.take() {
                Some((id, task, stop)) => {
                    stop.store(true, std::sync::atomic::Ordering::SeqCst);
                    let _ = task.await;
                    send(&out, ladder::cancelled(&id, "client_cancelled"), &mut seq);
                }
                None => send(
                    &out,
                    error("invalid_request_error", "response_cancel_not_active", "Cancellation failed: no active response found", None, eid),
                    &mut seq,
                ),
            },
            "conversation.item.truncate" => {
                // Audio sent so far for the items of a response that is over or running.
                while let Ok((id, made)) = done_rx.try_recv() {
                    conversation.settle(&mut active, &id, made);
                }
                let item_id = event["item_id"].as_str().unwrap_or_default();
                let end = event["audio_end_ms"].as_u64().unwrap_or(0);
                match conversation.audio.iter().find(|(i, _)| i == item_id) {
                    None => send(
                        &out,
                        error("invalid_request_error", "item_not_found", &format!("Item {item_id} has no audio to truncate."), Some("item_id"), eid),
                        &mut seq,
                    ),
                    Some((_, ms)) if end > *ms => send(
                        &out,
                        error(
                            "invalid_request_error",
                            "invalid_value",
                            &format!("Audio content of {ms}ms is already shorter than {end}ms"),
                            Some("audio_end_ms"),
                            eid,
                        ),
                        &mut seq,
                    ),
                    Some(_) => send(
                        &out,
                        json!({ "type": "conversation.item.truncated", "item_id": item_id, "content_index": 0, "audio_end_ms": end }),
                        &mut seq,
                    ),
                }
            }
            "conversation.item.delete" => {
                send(&out, json!({ "type": "conversation.item.deleted", "item_id": event["item_id"] }), &mut seq);
            }
            _ => {}
        }
    }
    if let Some((_, task, stop)) = active {
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        task.abort();
    }
}
