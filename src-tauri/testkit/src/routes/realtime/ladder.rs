//! One response of the fake Realtime server, as the real one sends it: the
//! ladder of events (`response.created`, the item, its content part, the
//! transcript and audio deltas interleaved, the `.done`s, `response.done`
//! with usage), paced by the latency model: text at the chat model's token
//! rate, audio at the speech model's real-time factor. Audio is the testkit's
//! synthetic speech at 24 kHz, as long as the words, so a truncation can be
//! checked against it exactly. A function call replaces the content part.

use crate::audio::synthesize;
use crate::latency::LatencyModel;
use crate::script::{tokenize, Call, Reply};
use base64::Engine;
use serde_json::{json, Value};
use std::time::Duration;

/// One event and when it is due, from the start of the response.
pub struct Due {
    pub at: Duration,
    pub event: Value,
}

/// Audio sent per delta: 100 ms at 24 kHz.
const CHUNK: usize = 2400;

/// The assistant items a response made: each audio item's id with the
/// milliseconds of its audio sent so far (the sender counts them), and the calls.
pub struct Made {
    pub audio_items: Vec<(String, u64)>,
    pub calls: Vec<String>,
}

/// The whole ladder for `reply`, in order of time.
pub fn ladder(response_id: &str, item_seq: &mut u64, reply: &Reply, latency: &LatencyModel, voice: &str) -> (Vec<Due>, Made) {
    let mut out = Vec::new();
    let mut made = Made { audio_items: Vec::new(), calls: Vec::new() };
    let at0 = Duration::ZERO;
    out.push(Due { at: at0, event: json!({ "type": "response.created", "response": response(response_id, "in_progress", &[], None) }) });
    let (text, calls) = match reply {
        Reply::Text(t) => (t.clone(), Vec::new()),
        Reply::Calls { preamble, calls } => (preamble.clone(), calls.clone()),
    };
    let mut outputs = Vec::new();
    let mut output_index = 0;
    let mut end = Duration::ZERO;
    if !text.trim().is_empty() {
        *item_seq += 1;
        let item_id = format!("item_{item_seq:04}");
        let (events, last) = spoken_item(response_id, &item_id, output_index, &text, latency, voice);
        out.extend(events);
        end = end.max(last);
        made.audio_items.push((item_id.clone(), 0));
        outputs.push(json!({ "id": item_id, "type": "message", "status": "completed", "role": "assistant", "content": [{ "type": "output_audio", "transcript": text }] }));
        output_index += 1;
    }
    for call in &calls {
        *item_seq += 1;
        let item_id = format!("item_{item_seq:04}");
        let at = end.max(latency.chat_token_at(tokenize(&call.arguments).len()));
        out.extend(call_item(response_id, &item_id, output_index, call, at));
        end = at;
        made.calls.push(call.id.clone());
        outputs.push(json!({ "id": item_id, "type": "function_call", "status": "completed", "call_id": call.id, "name": call.name, "arguments": call.arguments }));
        output_index += 1;
    }
    let usage = json!({ "total_tokens": 200, "input_tokens": 120, "output_tokens": 80,
        "input_token_details": { "text_tokens": 100, "audio_tokens": 20, "image_tokens": 0, "cached_tokens": 0 },
        "output_token_details": { "text_tokens": 20, "audio_tokens": 60 } });
    out.push(Due { at: end, event: json!({ "type": "response.done", "response": response(response_id, "completed", &outputs, Some(usage)) }) });
    // The account's limits after the response, as the real server reports them.
    let limits = json!([{ "name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 60 },
        { "name": "tokens", "limit": 50000, "remaining": 49800, "reset_seconds": 60 }]);
    out.push(Due { at: end, event: json!({ "type": "rate_limits.updated", "rate_limits": limits }) });
    out.sort_by_key(|d| d.at);
    (out, made)
}

/// `response.done` (or `.created`) for this response.
pub fn response(id: &str, status: &str, output: &[Value], usage: Option<Value>) -> Value {
    let mut r = json!({ "object": "realtime.response", "id": id, "status": status, "output": output, "conversation_id": "conv_testkit",
        "output_modalities": ["audio"], "max_output_tokens": "inf", "metadata": null });
    if let Some(u) = usage {
        r["usage"] = u;
    }
    r
}

/// A cancelled response's `response.done`.
pub fn cancelled(id: &str, reason: &str) -> Value {
    let mut r = response(id, "cancelled", &[], None);
    r["status_details"] = json!({ "type": "cancelled", "reason": reason });
    json!({ "type": "response.done", "response": r })
}

/// A failed response's `response.done`, as the server reports its own trouble.
pub fn failed(id: &str) -> Value {
    let mut r = response(id, "failed", &[], None);
    r["status_details"] = json!({ "type": "failed", "error": { "type": "server_error", "code": "server_error", "message": "The server had an error while processing your request." } });
    json!({ "type": "response.done", "response": r })
}

fn spoken_item(response_id: &str, item_id: &str, output_index: usize, text: &str, latency: &LatencyModel, voice: &str) -> (Vec<Due>, Duration) {
    let ids = json!({ "response_id": response_id, "item_id": item_id, "output_index": output_index });
    let with = |kind: &str, extra: Value| {
        let mut e = ids.clone();
        e["type"] = json!(kind);
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    let mut out = vec![
        Due {
            at: Duration::ZERO,
            event: with(
                "response.output_item.added",
                json!({ "item": { "id": item_id, "object": "realtime.item", "type": "message", "status": "in_progress", "role": "assistant", "content": [] } }),
            ),
        },
        Due {
            at: Duration::ZERO,
            event: with("response.content_part.added", json!({ "content_index": 0, "part": { "type": "audio", "transcript": "" } })),
        },
    ];
    for (i, token) in tokenize(text).iter().enumerate() {
        out.push(Due {
            at: latency.chat_token_at(i),
            event: with("response.output_audio_transcript.delta", json!({ "content_index": 0, "delta": token })),
        });
    }
    let audio = synthesize(text, voice, 1.0);
    let first_words = latency.chat_token_at(tokenize(text).len().min(4));
    for (i, chunk) in audio.chunks(CHUNK).enumerate() {
        let bytes: Vec<u8> = chunk.iter().flat_map(|s| s.to_le_bytes()).collect();
        let at = first_words + latency.tts_audio_at(i as f64 * CHUNK as f64 / 24_000.0);
        out.push(Due {
            at,
            event: with(
                "response.output_audio.delta",
                json!({ "content_index": 0, "delta": base64::engine::general_purpose::STANDARD.encode(bytes) }),
            ),
        });
    }
    let end = out.iter().map(|d| d.at).max().unwrap_or_default();
    out.push(Due { at: end, event: with("response.output_audio.done", json!({ "content_index": 0 })) });
    out.push(Due { at: end, event: with("response.output_audio_transcript.done", json!({ "content_index": 0, "transcript": text })) });
    out.push(Due {
        at: end,
        event: with("response.content_part.done", json!({ "content_index": 0, "part": { "type": "audio", "transcript": text } })),
    });
    out.push(Due { at: end, event: with("response.output_item.done", json!({ "item": { "id": item_id, "object": "realtime.item", "type": "message", "status": "completed", "role": "assistant", "content": [{ "type": "output_audio", "transcript": text }] } })) });
    (out, end)
}

fn call_item(response_id: &str, item_id: &str, output_index: usize, call: &Call, at: Duration) -> Vec<Due> {
    let item = json!({ "id": item_id, "object": "realtime.item", "type": "function_call", "status": "completed", "call_id": call.id, "name": call.name, "arguments": call.arguments });
    vec![
        Due {
            at,
            event: json!({ "type": "response.output_item.added", "response_id": response_id, "output_index": output_index, "item": { "id": item_id, "object": "realtime.item", "type": "function_call", "status": "in_progress", "call_id": call.id, "name": call.name, "arguments": "" } }),
        },
        Due {
            at,
            event: json!({ "type": "response.function_call_arguments.delta", "response_id": response_id, "item_id": item_id, "output_index": output_index, "call_id": call.id, "delta": call.arguments }),
        },
        Due {
            at,
            event: json!({ "type": "response.function_call_arguments.done", "response_id": response_id, "item_id": item_id, "output_index": output_index, "call_id": call.id, "name": call.name, "arguments": call.arguments }),
        },
        Due { at, event: json!({ "type": "response.output_item.done", "response_id": response_id, "output_index": output_index, "item": item }) },
    ]
}
