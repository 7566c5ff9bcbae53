//! The fake Realtime server over a real WebSocket: the key checked before
//! the upgrade, the beta header refused with close 4000, a push-to-talk turn
//! (the 100 ms rule, the user's transcript, a response ladder whose audio
//! matches its words), cancel, truncate checked against the audio sent, a
//! tool round trip, and bad client events answered with `invalid_event`.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sori_testkit::{LatencyModel, ServerConfig, TestServer, TEST_API_KEY};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(server: &TestServer, headers: &[(&'static str, &str)]) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{}/v1/realtime?model=gpt-realtime", server.addr()).into_client_request().unwrap();
    for (k, v) in headers {
        request.headers_mut().insert(*k, v.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.map(|(s, _)| s)
}

pub async fn next(socket: &mut Socket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("an event in time").expect("open").unwrap() {
            Message::Text(t) => {
                let e: Value = serde_json::from_str(&t).unwrap();
                // The account's limits follow each response; these tests read the rest.
                if e["type"] != "rate_limits.updated" {
                    return e;
                }
            }
            Message::Close(frame) => return json!({ "type": "closed", "code": frame.map(|f| u16::from(f.code)) }),
            _ => {}
        }
    }
}

/// Events until one of type `until`, which is the last.
pub async fn until(socket: &mut Socket, until: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let e = next(socket).await;
        let done = e["type"] == until;
        seen.push(e);
        if done {
            return seen;
        }
    }
}

pub async fn send(socket: &mut Socket, event: Value) {
    socket.send(Message::Text(event.to_string().into())).await.unwrap();
}

fn append(ms: usize) -> Value {
    use base64::Engine;
    let samples: Vec<u8> = (0..ms * 24).flat_map(|i| (((i as f64 * 0.05).sin() * 5000.0) as i16).to_le_bytes()).collect();
    json!({ "type": "input_audio_buffer.append", "audio": base64::engine::general_purpose::STANDARD.encode(samples) })
}

pub fn bearer() -> String {
    format!("Bearer {TEST_API_KEY}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_checked_before_the_upgrade_and_the_beta_is_refused() {
    let server = TestServer::start_in_background(ServerConfig::default()).unwrap();
    match connect(&server, &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    let mut beta = connect(&server, &[("authorization", bearer().as_str()), ("openai-beta", "realtime=v1")]).await.unwrap();
    let e = next(&mut beta).await;
    assert_eq!(e["error"]["code"], "beta_api_shape_disabled", "{e}");
    assert_eq!(next(&mut beta).await["code"], 4000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_to_talk_turn_a_cancel_and_truncation() {
    let server = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let mut s = connect(&server, &[("authorization", bearer().as_str())]).await.unwrap();
    let created = next(&mut s).await;
    assert_eq!(created["session"]["audio"]["input"]["turn_detection"]["type"], "server_vad", "server VAD by default");
    send(
        &mut s,
        json!({ "type": "session.update", "event_id": "sori_1", "session": { "type": "realtime",
        "audio": { "input": { "turn_detection": null, "transcription": { "model": "gpt-4o-mini-transcribe", "language": "en" } } } } }),
    )
    .await;
    let updated = next(&mut s).await;
    assert!(
        updated["session"]["audio"]["input"]["turn_detection"].is_null() && updated["session"]["audio"]["output"]["voice"] == "marin",
        "{updated}"
    );
    // 50 ms is too little to commit.
    send(&mut s, append(50)).await;
    send(&mut s, json!({ "type": "input_audio_buffer.commit", "event_id": "sori_2" })).await;
    let e = next(&mut s).await;
    assert_eq!((e["error"]["code"].as_str(), e["error"]["event_id"].as_str()), (Some("input_audio_buffer_commit_empty"), Some("sori_2")), "{e}");
    send(&mut s, append(1000)).await;
    send(&mut s, json!({ "type": "input_audio_buffer.commit" })).await;
    let committed = until(&mut s, "conversation.item.input_audio_transcription.completed").await;
    assert_eq!(
        committed.iter().map(|e| e["type"].as_str().unwrap()).collect::<Vec<_>>(),
        ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.input_audio_transcription.completed"]
    );
    assert_eq!(committed[2]["transcript"], "When will my order arrive?");
    send(&mut s, json!({ "type": "response.create" })).await;
    let ladder = until(&mut s, "response.done").await;
    let kinds: Vec<&str> = ladder.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..3], ["response.created", "response.output_item.added", "response.content_part.added"], "{kinds:?}");
    assert_eq!(ladder.last().unwrap()["response"]["status"], "completed");
    let transcript: String =
        ladder.iter().filter(|e| e["type"] == "response.output_audio_transcript.delta").map(|e| e["delta"].as_str().unwrap()).collect();
    assert!(transcript.contains("When will my order arrive?"), "{transcript}");
    let audio_ms: usize = ladder
        .iter()
        .filter(|e| e["type"] == "response.output_audio.delta")
        .map(|e| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(e["delta"].as_str().unwrap()).unwrap().len() / 48
        })
        .sum();
    assert!(audio_ms > transcript.split_whitespace().count() * 150, "{audio_ms} ms of audio for {transcript:?}");
    let item = ladder[1]["item"]["id"].as_str().unwrap().to_string();
    // Nothing to cancel now; a truncation within the audio, and one past it.
    send(&mut s, json!({ "type": "response.cancel", "event_id": "sori_3" })).await;
    assert_eq!(next(&mut s).await["error"]["code"], "response_cancel_not_active");
    send(&mut s, json!({ "type": "conversation.item.truncate", "item_id": item, "content_index": 0, "audio_end_ms": 500 })).await;
    let t = next(&mut s).await;
    assert_eq!((t["type"].as_str(), t["audio_end_ms"].as_u64()), (Some("conversation.item.truncated"), Some(500)), "{t}");
    send(&mut s, json!({ "type": "conversation.item.truncate", "item_id": item, "content_index": 0, "audio_end_ms": audio_ms + 1000 })).await;
    let e = next(&mut s).await;
    assert!(e["error"]["message"].as_str().unwrap().contains("is already shorter than"), "{e}");
    // A client event the spec does not allow.
    send(&mut s, json!({ "type": "conversation.item.truncate", "event_id": "sori_9", "item_id": item, "content_index": 0, "audio_end_ms": "soon" }))
        .await;
    let e = next(&mut s).await;
    assert_eq!((e["error"]["code"].as_str(), e["error"]["event_id"].as_str()), (Some("invalid_event"), Some("sori_9")), "{e}");
    assert!(
        server.realtime_events().iter().any(|e| e["type"] == "conversation.item.truncate" && e["audio_end_ms"] == 500),
        "client events are recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_is_cancelled_midway_and_a_tool_call_goes_round() {
    let server = TestServer::start_in_background(ServerConfig { latency: LatencyModel::typical(), ..Default::default() }).unwrap();
    let mut s = connect(&server, &[("authorization", bearer().as_str())]).await.unwrap();
    next(&mut s).await;
    let tool = json!({ "type": "function", "name": "lookup_order", "description": "Looks an order up.", "parameters": { "type": "object", "properties": {}, "required": [] } });
    send(&mut s, json!({ "type": "session.update", "session": { "type": "realtime", "tools": [tool] } })).await;
    next(&mut s).await;
    let user = |text: &str| json!({ "type": "conversation.item.create", "item": { "type": "message", "role": "user", "content": [{ "type": "input_text", "text": text }] } });
    send(&mut s, user("Hello there, tell me about your shop.")).await;
    next(&mut s).await;
    send(&mut s, json!({ "type": "response.create" })).await;
    until(&mut s, "response.output_audio.delta").await;
    send(&mut s, json!({ "type": "response.cancel" })).await;
    let done = until(&mut s, "response.done").await.pop().unwrap();
    assert_eq!(
        (done["response"]["status"].as_str(), done["response"]["status_details"]["reason"].as_str()),
        (Some("cancelled"), Some("client_cancelled")),
        "{done}"
    );

    send(&mut s, user("Can you lookup order status for me?")).await;
    next(&mut s).await;
    send(&mut s, json!({ "type": "response.create" })).await;
    let calls = until(&mut s, "response.done").await;
    let call = calls.iter().find(|e| e["type"] == "response.function_call_arguments.done").expect("a function call");
    assert_eq!(call["name"], "lookup_order");
    let wrong = json!({ "type": "conversation.item.create", "item": { "type": "function_call_output", "call_id": "call_nope", "output": "{}" } });
    send(&mut s, wrong).await;
    assert_eq!(next(&mut s).await["error"]["code"], "invalid_value");
    let result = json!({ "type": "conversation.item.create", "item": { "type": "function_call_output", "call_id": call["call_id"], "output": "{\"expected_on\":\"2026-12-08\"}" } });
    send(&mut s, result).await;
    next(&mut s).await;
    send(&mut s, json!({ "type": "response.create" })).await;
    let answer = until(&mut s, "response.done").await;
    let said = answer.iter().find(|e| e["type"] == "response.output_audio_transcript.done").unwrap()["transcript"].as_str().unwrap().to_string();
    assert!(said.contains("2026-12-08"), "{said}");
}
