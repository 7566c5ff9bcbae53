//! The WebSocket at `/v1/voice`: a client streams its microphone in real
//! time (20 ms of 16 kHz PCM at a time, silence between questions); the
//! server's voice detection finds the question, the reply comes back as
//! events and audio, and speaking over it interrupts it: the reply stops,
//! the client is told, the conversation keeps only what the client had time
//! to play, and the words that interrupted are the next question.

mod common;

use common::served::{fresh_dir, Served};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use sori_testkit::{ServerConfig, TestServer};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A microphone: silence, or the clip it is given, 20 ms every 20 ms.
fn microphone(
    mut sink: impl SinkExt<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin + Send + 'static,
) -> mpsc::UnboundedSender<Vec<i16>> {
    let (tx, mut clips) = mpsc::unbounded_channel::<Vec<i16>>();
    tokio::spawn(async move {
        let mut queued: Vec<i16> = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tick.tick().await;
            while let Ok(clip) = clips.try_recv() {
                queued.extend(clip);
            }
            let frame: Vec<i16> = if queued.is_empty() { vec![0; 320] } else { queued.drain(..320.min(queued.len())).collect() };
            let bytes: Vec<u8> = frame.iter().flat_map(|s| s.to_le_bytes()).collect();
            if sink.send(Message::Binary(bytes.into())).await.is_err() {
                break;
            }
        }
    });
    tx
}

fn speech(text: &str) -> Vec<i16> {
    let (samples, rate) = read_wav(&espeak_wav(text, "en", 0.0, 0.0).unwrap()).unwrap();
    assert_eq!(rate, 16_000);
    samples
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_microphone_is_answered_and_speaking_over_the_reply_interrupts_it() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = fresh_dir("ws");
    let served = Served::start(&dir, &kit.base_url(), &[]);
    let token = served.add_token("phone-bridge");
    let ws_url = served.url.replace("http://", "ws://") + "/v1/voice?sample_rate=16000&language=en";
    // As a browser must: the token as a subprotocol, beside the protocol's name.
    let mut request = ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", format!("sori.v1, sori-token.{token}").parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async(request).await.expect("the WebSocket opens");
    assert_eq!(response.headers()["sec-websocket-protocol"], "sori.v1");
    let (sink, mut incoming) = socket.split();
    let mic = microphone(sink);

    let mut next = async || -> Value {
        loop {
            match tokio::time::timeout(Duration::from_secs(20), incoming.next()).await.expect("the server goes on talking").unwrap().unwrap() {
                Message::Text(t) => return serde_json::from_str(&t).unwrap(),
                Message::Binary(b) => return serde_json::json!({ "type": "binary", "bytes": b.len() }),
                _ => {}
            }
        }
    };
    let session = next().await;
    assert_eq!(session["type"], "session");
    let conversation = session["conversation_id"].as_str().unwrap().to_string();

    // The first question, then silence.
    mic.send(speech("When will my order arrive?")).unwrap();
    let mut seen = Vec::new();
    let mut first_audio = None;
    while first_audio.is_none() {
        let e = next().await;
        if e["type"] == "binary" {
            first_audio = Some(Instant::now());
        }
        seen.push(e["type"].as_str().unwrap().to_string());
    }
    let at = |name: &str| seen.iter().position(|n| n == name).unwrap_or_else(|| panic!("no {name} in {seen:?}"));
    assert!(
        at("user_speech_started") < at("user_transcript") && at("user_transcript") < at("audio_format") && at("audio_format") < at("binary"),
        "{seen:?}"
    );

    // A second of the reply plays, then the caller speaks over it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let spoke = Instant::now();
    mic.send(speech("Wait, what about my refund?")).unwrap();
    let mut interrupted_at = None;
    let done = loop {
        let e = next().await;
        if e["type"] == "interrupted" {
            interrupted_at = Some(spoke.elapsed());
        }
        if e["type"] == "done" {
            break e;
        }
    };
    let cut = interrupted_at.expect("the server says the reply was interrupted");
    assert!(cut < Duration::from_millis(600), "cut {cut:?} after the caller began");
    assert_eq!(done["interrupted"], true, "{done}");
    let (heard, reply) = (done["heard"].as_str().unwrap(), done["reply"].as_str().unwrap());
    assert!(!heard.is_empty() && heard.len() < reply.len(), "kept what was played, not the whole reply:\nheard {heard:?}\nreply {reply:?}");

    // The words that interrupted are the next question, answered in full.
    let second = loop {
        let e = next().await;
        if e["type"] == "done" {
            break e;
        }
    };
    assert_eq!(second["interrupted"], false, "{second}");
    assert!(second["user_text"].as_str().is_some_and(|t| !t.is_empty()), "{second}");

    // A typed question, from another socket on the same conversation.
    let typed = serde_json::json!({ "type": "text", "text": "And can I change the address?" }).to_string();
    let _ = typed_question(&served, &token, &conversation, &typed).await;
    let client = reqwest::Client::new();
    let kept: Value =
        client.get(format!("{}/v1/conversations/{conversation}", served.url)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let turns = kept["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 3, "{kept}");
    assert_eq!(turns[2][0]["content"], "And can I change the address?");
    assert_eq!(turns[0].as_array().unwrap().last().unwrap()["content"], heard.trim(), "the conversation keeps what was heard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_without_a_token_is_refused() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = fresh_dir("ws-auth");
    let served = Served::start(&dir, &kit.base_url(), &[]);
    let ws_url = served.url.replace("http://", "ws://") + "/v1/voice";
    match tokio_tungstenite::connect_async(ws_url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected a 401, got {:?}", other.map(|(_, r)| r.status())),
    }
}

/// A typed question on a second socket to the same conversation: answered,
/// and kept after the spoken turns.
async fn typed_question(served: &Served, token: &str, conversation: &str, message: &str) -> Value {
    let url = served.url.replace("http://", "ws://") + &format!("/v1/voice?conversation_id={conversation}");
    let mut request = url.as_str().into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket.send(Message::Text(message.to_string().into())).await.unwrap();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(20), socket.next()).await.unwrap().unwrap().unwrap();
        if let Message::Text(t) = m {
            let e: Value = serde_json::from_str(&t).unwrap();
            if e["type"] == "session" {
                assert_eq!(e["conversation_id"], conversation, "the socket goes on with the conversation named");
            }
            if e["type"] == "done" {
                assert_eq!(e["interrupted"], false, "{e}");
                return e;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_websocket_reply_finish_then_closes_the_socket() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = fresh_dir("ws-stop");
    let mut served = Some(Served::start(&dir, &kit.base_url(), &["--no-auth"]));
    let url = served.as_ref().unwrap().url.replace("http://", "ws://") + "/v1/voice";
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    socket.send(Message::Text(r#"{"type":"text","text":"When will my order arrive?"}"#.into())).await.unwrap();
    let mut seen = Vec::new();
    let mut stopping = None;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next()).await.expect("the socket goes on until it closes");
        match message {
            Some(Ok(Message::Binary(_))) if stopping.is_none() => {
                // The reply is under way: stop the server.
                let mut server = served.take().unwrap();
                stopping = Some(tokio::task::spawn_blocking(move || (server.stop(), server)));
            }
            Some(Ok(Message::Text(t))) => seen.push(serde_json::from_str::<Value>(&t).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            _ => {}
        }
    }
    let kinds: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let done = seen.iter().find(|e| e["type"] == "done").unwrap_or_else(|| panic!("the reply finished: {kinds:?}"));
    assert_eq!(done["interrupted"], false, "{done}");
    assert!(kinds.contains(&"closing"), "{kinds:?}");
    let (status, _served) = stopping.expect("audio came").await.unwrap();
    assert!(status.success(), "{status:?}");
}
