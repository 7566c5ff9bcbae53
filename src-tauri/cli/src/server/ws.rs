//! `GET /v1/voice`: a WebSocket for clients that stream their microphone.
//! The server's voice activity detection (the window's own listener) finds
//! each question; the reply comes back as events and audio while the client
//! plays it, and speaking over it interrupts it (barge-in): the reply stops,
//! the client is told to drop what it has queued, and the conversation keeps
//! only what the client had time to play (reckoned by the clock).
//!
//! Client → server: binary messages of 16-bit little-endian mono PCM at the
//! `sample_rate` of the query (default 16000); text messages
//! `{"type":"text","text":…}` (a typed question) and `{"type":"stop"}`.
//! Server → client: `session` first (the conversation's id), then per turn
//! `user_speech_started`, the engine events of the streamed form (`sse.rs`),
//! `audio_format` before binary PCM audio, `interrupted` on a barge-in, and
//! `done`; `closing` when the server shuts down (the reply in progress
//! finishes, then the socket closes). Query: `conversation_id`, `customer`,
//! `language`, `sample_rate`.
//! Authentication: `Authorization: Bearer`, or (from a browser) the
//! subprotocols `sori.v1` and `sori-token.<token>`.

use super::errors::ApiError;
use super::sse::{done_data, engine_event};
use super::turn::{self, Item, Question};
use super::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State as Shared};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use sori_core::audio::listener::{Listener, ListenerEvent, Mode};
use sori_core::audio::resample::{To16k, FRAME_SAMPLES};
use sori_core::audio::vad::{NoiseGate, WebRtcVad};
use sori_core::turn::TurnInput;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Deserialize)]
pub struct Params {
    conversation_id: Option<String>,
    customer: Option<String>,
    language: Option<String>,
    sample_rate: Option<u32>,
}

pub async fn upgrade(Shared(state): Shared<Arc<State>>, Query(params): Query<Params>, ws: WebSocketUpgrade) -> Response {
    if state.draining.is_cancelled() {
        return ApiError::shutting_down().into_response();
    }
    let rate = params.sample_rate.unwrap_or(16_000);
    if !(8_000..=48_000).contains(&rate) {
        return ApiError::bad_request("bad_sample_rate", "sample_rate is from 8000 to 48000.").into_response();
    }
    // The conversation exists before the socket opens, so its id can be told at once.
    let id = match &params.conversation_id {
        Some(id) => match state.store.get(id).await {
            Ok(Some(_)) => id.clone(),
            Ok(None) => {
                return ApiError::not_found(format!("There is no conversation {id}: leave out conversation_id to begin a new one.")).into_response()
            }
            Err(e) => return ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()).into_response(),
        },
        None => match turn::begin_stored(&state, params.customer.clone()).await {
            Ok(id) => id,
            Err(e) => return e.into_response(),
        },
    };
    let sessions = state.sessions.clone();
    ws.protocols(["sori.v1"])
        .max_message_size(1 << 20)
        .on_upgrade(move |socket| sessions.track_future(session(socket, state, id, params.language, rate)))
}

/// What the listener thread is told.
enum Heard {
    Samples(Vec<i16>),
    Speaking(bool),
}

/// webrtc-vad is not `Send`, so each session's listener runs on a thread of
/// its own, fed samples at the client's rate and answering with its events.
fn listen(rate: u32, voice: &sori_core::settings::Settings) -> (std::sync::mpsc::Sender<Heard>, mpsc::UnboundedReceiver<ListenerEvent>) {
    let (to_thread, from_socket) = std::sync::mpsc::channel::<Heard>();
    let (events, rx) = mpsc::unbounded_channel();
    let (aggressiveness, segmenter) = (voice.vad_aggressiveness, voice.segmenter());
    std::thread::spawn(move || {
        let mut listener = Listener::new(NoiseGate::new(WebRtcVad::new(aggressiveness)), Mode::HandsFree, segmenter);
        listener.voice_barge_in = true;
        let Ok(mut to16k) = To16k::new(rate) else { return };
        while let Ok(heard) = from_socket.recv() {
            match heard {
                Heard::Speaking(s) => listener.set_assistant_speaking(s),
                Heard::Samples(samples) => {
                    let floats: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
                    to16k.push(&floats, |frame| {
                        debug_assert_eq!(frame.len(), FRAME_SAMPLES);
                        for e in listener.push(frame) {
                            if !matches!(e, ListenerEvent::Level { .. } | ListenerEvent::Paused(_) | ListenerEvent::Resumed)
                                && events.send(e).is_err()
                            {
                                return;
                            }
                        }
                    });
                }
            }
        }
    });
    (to_thread, rx)
}

async fn session(socket: WebSocket, state: Arc<State>, conversation_id: String, language: Option<String>, rate: u32) {
    let (mut sink, mut incoming) = socket.split();
    let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            if sink.send(m).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let text = |v: serde_json::Value| Message::Text(v.to_string().into());
    let _ = out.send(text(json!({ "type": "session", "conversation_id": conversation_id, "input": { "format": "pcm16", "sample_rate": rate } })));
    let (listener, mut heard) = listen(rate, &state.settings);
    // Each turn's number comes back when its audio has played out; only the
    // latest turn's end lets the listener hear the user again.
    let (ended_tx, mut ended) = mpsc::unbounded_channel::<u64>();
    let mut current: Option<CancellationToken> = None;
    let mut turns = 0u64;
    // A turn is running or its audio still playing; and the server is shutting down.
    let (mut busy, mut closing) = (false, false);
    loop {
        let question = tokio::select! {
            message = incoming.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    let samples = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
                    let _ = listener.send(Heard::Samples(samples));
                    None
                }
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<serde_json::Value>(&t).ok().as_ref().and_then(|v| v.get("type")?.as_str().map(|k| (k.to_string(), v.clone()))) {
                    Some((kind, v)) if kind == "text" => v.get("text").and_then(|t| t.as_str()).map(|t| TurnInput::Text(t.to_string())),
                    Some((kind, _)) if kind == "stop" => {
                        if let Some(c) = current.take() { c.cancel(); }
                        None
                    }
                    _ => {
                        let _ = out.send(text(json!({ "type": "error", "stage": null, "message": "Unknown message: send {\"type\":\"text\",\"text\":…}, {\"type\":\"stop\"} or binary PCM audio." })));
                        None
                    }
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => None,
            },
            event = heard.recv() => match event {
                Some(ListenerEvent::SpeechStarted) => {
                    let _ = out.send(text(json!({ "type": "user_speech_started" })));
                    None
                }
                Some(ListenerEvent::BargeIn) => {
                    if let Some(c) = current.take() { c.cancel(); }
                    let _ = out.send(text(json!({ "type": "interrupted" })));
                    None
                }
                Some(ListenerEvent::Utterance(u)) => Some(TurnInput::Audio { samples: u.samples, sample_rate: 16_000 }),
                Some(_) => None,
                None => break,
            },
            Some(turn) = ended.recv() => {
                if turn == turns {
                    busy = false;
                    let _ = listener.send(Heard::Speaking(false));
                    if closing {
                        break;
                    }
                }
                None
            }
            () = state.draining.cancelled(), if !closing => {
                closing = true;
                let _ = out.send(text(json!({ "type": "closing", "message": "The server is shutting down: the reply in progress finishes, then this connection closes. Reconnect to go on (the conversation is kept)." })));
                if !busy {
                    break;
                }
                None
            }
        };
        let Some(input) = question else { continue };
        if state.draining.is_cancelled() {
            let _ = out.send(text(
                json!({ "type": "error", "stage": null, "message": "The server is shutting down: reconnect to go on (the conversation is kept)." }),
            ));
            break;
        }
        if let Some(c) = current.take() {
            c.cancel();
        }
        let question = Question { input, conversation_id: Some(conversation_id.clone()), customer: None, language: language.clone() };
        match turn::start(&state, question, true).await {
            Ok(running) => {
                current = Some(running.cancel.clone());
                turns += 1;
                busy = true;
                let _ = listener.send(Heard::Speaking(true));
                tokio::spawn(relay(state.clone(), running, out.clone(), (turns, ended_tx.clone())));
            }
            Err(e) => {
                let _ = out.send(text(json!({ "type": "error", "stage": null, "code": e.code, "message": e.message })));
            }
        }
    }
    if let Some(c) = current.take() {
        c.cancel();
    }
    drop(out);
    let _ = writer.await;
}

/// Sends one turn's events and audio; says when the turn is over.
async fn relay(state: Arc<State>, mut running: turn::Running, out: mpsc::UnboundedSender<Message>, (turn, ended): (u64, mpsc::UnboundedSender<u64>)) {
    let _in_flight = state.metrics.turn_started("websocket");
    let started = Instant::now();
    let mut rate = 0;
    let text = |v: serde_json::Value| Message::Text(v.to_string().into());
    while let Some(item) = running.items.recv().await {
        match item {
            Item::Event(e) => {
                if let Some((_, data)) = engine_event(&e) {
                    let _ = out.send(text(data));
                }
            }
            Item::Audio(pcm) => {
                if rate == 0 {
                    state.metrics.first_audio(started.elapsed().as_secs_f64());
                }
                if pcm.sample_rate != rate {
                    rate = pcm.sample_rate;
                    let _ = out.send(text(json!({ "type": "audio_format", "format": "pcm16", "sample_rate": rate })));
                }
                let bytes: Vec<u8> = pcm.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
                let _ = out.send(Message::Binary(bytes.into()));
            }
            Item::Done(done) => {
                // The turn ends once its audio has played out on the client's
                // clock (`output.rs`), so the listener may hear the user again.
                let _ = out.send(text(done_data(&running.conversation_id, &done)));
                let _ = ended.send(turn);
            }
        }
    }
}
