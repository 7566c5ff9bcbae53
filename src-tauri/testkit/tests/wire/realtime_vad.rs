//! The fake Realtime server's voice activity detection over a real WebSocket:
//! a hands-free turn (its events in order, `audio_start_ms` with the prefix
//! padding, `audio_end_ms` as the speech's end plus the silence), speech over
//! a response cancelling it, `create_response: false`, semantic VAD's
//! eagerness, quiet audio, commit and clear while detection is on, and the
//! idle timeout.

use super::realtime::{bearer, connect, next, send, until, Socket};
use serde_json::{json, Value};
use sori_testkit::script::Script;
use sori_testkit::{LatencyModel, ServerConfig, TestServer};
use std::time::{Duration, Instant};

/// `ms` of a 300 Hz sine of `amplitude` at 24 kHz (0 is digital silence).
fn tone(ms: usize, amplitude: f64) -> Vec<u8> {
    (0..ms * 24).map(|i| ((i as f64 * 2.0 * std::f64::consts::PI * 300.0 / 24_000.0).sin() * amplitude) as i16).flat_map(i16::to_le_bytes).collect()
}

fn silence(ms: usize) -> Vec<u8> {
    tone(ms, 0.0)
}

fn speech(ms: usize) -> Vec<u8> {
    tone(ms, 8000.0)
}

/// Appends `audio` as a microphone would, in chunks of 20 to 100 ms.
async fn append(socket: &mut Socket, audio: &[u8]) {
    use base64::Engine;
    let sizes = [20, 70, 100, 40, 30];
    let mut rest = audio;
    for ms in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, after) = rest.split_at((ms * 48).min(rest.len()));
        let audio = base64::engine::general_purpose::STANDARD.encode(chunk);
        send(socket, json!({ "type": "input_audio_buffer.append", "audio": audio })).await;
        rest = after;
    }
}

/// A session with `audio.input` set to `input`, its `session.updated` read.
async fn hands_free(server: &TestServer, input: Value) -> Socket {
    let mut s = connect(server, &[("authorization", bearer().as_str())]).await.unwrap();
    assert_eq!(next(&mut s).await["type"], "session.created");
    send(&mut s, json!({ "type": "session.update", "session": { "type": "realtime", "audio": { "input": input } } })).await;
    let updated = next(&mut s).await;
    assert_eq!(updated["type"], "session.updated", "{updated}");
    s
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn position(events: &[Value], what: impl Fn(&Value) -> bool) -> usize {
    events.iter().position(what).unwrap_or_else(|| panic!("not in {:?}", kinds(events)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hands_free_turn_is_detected_committed_and_answered() {
    let server = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let vad = json!({ "type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 500 });
    let mut s = hands_free(&server, json!({ "turn_detection": vad })).await;
    // Speech from 500 to 1300 ms, then 600 ms of silence.
    append(&mut s, &[silence(500), speech(800), silence(600)].concat()).await;
    let turn = until(&mut s, "response.done").await;
    let kinds = kinds(&turn);
    assert_eq!(
        &kinds[..5],
        [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.added",
            "response.created"
        ],
        "{kinds:?}"
    );
    let item = turn[0]["item_id"].as_str().unwrap();
    // The start less 300 ms of padding; the end of the speech plus 500 ms of silence.
    assert_eq!(turn[0]["audio_start_ms"], 200, "{}", turn[0]);
    assert_eq!((turn[1]["audio_end_ms"].as_u64(), turn[1]["item_id"].as_str()), (Some(1800), Some(item)), "{}", turn[1]);
    assert_eq!(turn[2]["item_id"], item);
    assert_eq!((turn[3]["item"]["id"].as_str(), turn[3]["item"]["role"].as_str()), (Some(item), Some("user")), "{}", turn[3]);
    assert!(kinds.contains(&"response.output_audio.delta"), "{kinds:?}");
    assert_eq!(turn.last().unwrap()["response"]["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speech_over_a_response_cancels_it() {
    let server = TestServer::start_in_background(ServerConfig { latency: LatencyModel::typical(), ..Default::default() }).unwrap();
    let mut s = hands_free(&server, json!({ "turn_detection": { "type": "server_vad" } })).await;
    append(&mut s, &[silence(500), speech(800), silence(600)].concat()).await;
    let first = until(&mut s, "response.output_audio.delta").await;
    let answering = first.iter().find(|e| e["type"] == "response.created").expect("a response")["response"]["id"].as_str().unwrap().to_string();
    // The user speaks over the answer: speech from 1900 ms, the buffer starting at 1800.
    append(&mut s, &[speech(800), silence(600)].concat()).await;
    let mut events = until(&mut s, "input_audio_buffer.speech_stopped").await;
    events.extend(until(&mut s, "response.created").await);
    let started = position(&events, |e| e["type"] == "input_audio_buffer.speech_started");
    let cancelled = position(&events, |e| e["type"] == "response.done");
    let stopped = position(&events, |e| e["type"] == "input_audio_buffer.speech_stopped");
    assert!(started < cancelled && cancelled < stopped, "{:?}", kinds(&events));
    let done = &events[cancelled]["response"];
    assert_eq!(
        (done["id"].as_str(), done["status"].as_str(), done["status_details"]["reason"].as_str()),
        (Some(answering.as_str()), Some("cancelled"), Some("turn_detected")),
        "{done}"
    );
    assert!(events[cancelled + 1..].iter().all(|e| e["response_id"] != answering.as_str()), "nothing of the cancelled response after its done");
    assert_eq!(events[started]["audio_start_ms"], 1800, "the padding stops at the buffer's start");
    assert_eq!(events[stopped]["audio_end_ms"], 3200);
    let item = &events[started]["item_id"];
    let after: Vec<&str> = events[stopped..].iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(after, ["input_audio_buffer.speech_stopped", "input_audio_buffer.committed", "conversation.item.added", "response.created"]);
    assert_eq!((&events[stopped + 1]["item_id"], &events[stopped + 2]["item"]["id"]), (item, item));
    assert_ne!(events.last().unwrap()["response"]["id"], answering.as_str(), "a new response");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_create_response_a_turn_is_committed_but_not_answered() {
    let server = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let input = json!({ "transcription": { "model": "gpt-4o-mini-transcribe", "language": "en" },
        "turn_detection": { "type": "server_vad", "create_response": false } });
    let mut s = hands_free(&server, input).await;
    append(&mut s, &[silence(500), speech(800), silence(600)].concat()).await;
    let turn = until(&mut s, "conversation.item.input_audio_transcription.completed").await;
    assert_eq!(
        kinds(&turn),
        [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.input_audio_transcription.completed"
        ]
    );
    let item = &turn[0]["item_id"];
    assert_eq!((&turn[4]["item_id"], turn[4]["usage"]["seconds"].as_f64()), (item, Some(2.0)), "1600 ms of audio: {}", turn[4]);
    // No response follows.
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(&mut s, json!({ "type": "input_audio_buffer.clear" })).await;
    assert_eq!(next(&mut s).await["type"], "input_audio_buffer.cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantic_vad_replaces_server_vad_and_waits_by_its_eagerness() {
    let server = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let mut s = connect(&server, &[("authorization", bearer().as_str())]).await.unwrap();
    next(&mut s).await;
    let semantic = json!({ "type": "semantic_vad", "eagerness": "auto", "create_response": false, "interrupt_response": true });
    send(&mut s, json!({ "type": "session.update", "session": { "type": "realtime", "audio": { "input": { "turn_detection": semantic } } } })).await;
    let updated = next(&mut s).await;
    assert_eq!(updated["session"]["audio"]["input"]["turn_detection"], semantic, "no server VAD fields left behind");
    // `auto` waits 1000 ms of silence in the fake: speech ends at 1300 ms.
    append(&mut s, &[silence(500), speech(800), silence(1100)].concat()).await;
    let turn = until(&mut s, "conversation.item.added").await;
    assert_eq!(
        kinds(&turn),
        ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed", "conversation.item.added"]
    );
    assert_eq!((turn[0]["audio_start_ms"].as_u64(), turn[1]["audio_end_ms"].as_u64()), (Some(200), Some(2300)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_audio_is_no_speech_and_commit_and_clear_still_work() {
    let server = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let mut s = hands_free(&server, json!({ "turn_detection": { "type": "server_vad" } })).await;
    append(&mut s, &tone(1000, 30.0)).await;
    send(&mut s, json!({ "type": "input_audio_buffer.commit" })).await;
    let committed = next(&mut s).await;
    assert_eq!((committed["type"].as_str(), committed["item_id"].as_str()), (Some("input_audio_buffer.committed"), Some("item_0001")), "{committed}");
    assert_eq!(next(&mut s).await["type"], "conversation.item.added");
    // A commit during speech takes the item speech_started named; no stop follows it.
    append(&mut s, &[silence(200), speech(300)].concat()).await;
    let started = next(&mut s).await;
    assert_eq!((started["type"].as_str(), started["audio_start_ms"].as_u64()), (Some("input_audio_buffer.speech_started"), Some(1000)), "{started}");
    send(&mut s, json!({ "type": "input_audio_buffer.commit" })).await;
    let committed = next(&mut s).await;
    assert_eq!((committed["type"].as_str(), &committed["item_id"]), (Some("input_audio_buffer.committed"), &started["item_id"]), "{committed}");
    assert_eq!(next(&mut s).await["type"], "conversation.item.added");
    // Speech cut off by a clear never stops either.
    append(&mut s, &[silence(600), speech(300)].concat()).await;
    assert_eq!(next(&mut s).await["type"], "input_audio_buffer.speech_started");
    send(&mut s, json!({ "type": "input_audio_buffer.clear" })).await;
    assert_eq!(next(&mut s).await["type"], "input_audio_buffer.cleared");
    append(&mut s, &silence(600)).await;
    send(&mut s, json!({ "type": "input_audio_buffer.clear" })).await;
    assert_eq!(next(&mut s).await["type"], "input_audio_buffer.cleared", "no speech_stopped after a clear");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_timeout_answers_a_silence() {
    let mut script = Script::default();
    script.add_reply("Hello", "Hi.");
    script.add_reply("When will my order arrive", "Still there?");
    let server = TestServer::start_in_background(ServerConfig { script, ..Default::default() }).unwrap();
    let mut s = hands_free(&server, json!({ "turn_detection": { "type": "server_vad", "idle_timeout_ms": 5000 } })).await;
    append(&mut s, &silence(100)).await;
    let hello = json!({ "type": "conversation.item.create", "item": { "type": "message", "role": "user", "content": [{ "type": "input_text", "text": "Hello" }] } });
    send(&mut s, hello).await;
    next(&mut s).await;
    let asked = Instant::now();
    send(&mut s, json!({ "type": "response.create" })).await;
    let answer = until(&mut s, "response.done").await;
    let playback_ms: u64 = answer
        .iter()
        .filter(|e| e["type"] == "response.output_audio.delta")
        .map(|e| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(e["delta"].as_str().unwrap()).unwrap().len() as u64 / 48
        })
        .sum();
    append(&mut s, &silence(200)).await;
    let timeout = next(&mut s).await;
    // The timer starts when the response ends and runs for its audio plus the timeout.
    let waited = asked.elapsed().as_millis() as u64;
    assert_eq!(timeout["type"], "input_audio_buffer.timeout_triggered", "{timeout}");
    assert!((5000 + playback_ms..5000 + playback_ms + 2000).contains(&waited), "fired after {waited} ms for {playback_ms} ms of audio");
    assert_eq!((timeout["audio_start_ms"].as_u64(), timeout["audio_end_ms"].as_u64()), (Some(100), Some(300)), "{timeout}");
    let rest = until(&mut s, "response.done").await;
    assert_eq!(&kinds(&rest)[..3], ["input_audio_buffer.committed", "conversation.item.added", "response.created"]);
    assert_eq!(rest[0]["item_id"], timeout["item_id"]);
    assert_eq!(rest.last().unwrap()["response"]["status"], "completed");
}
