//! `sori-cli serve` over HTTP against the testkit: the tutorial's own request
//! (multipart `audio`, an MP3) gets spoken MP3 back; every accepted format
//! reaches speech-to-text whole; bad input gets a clear 4xx JSON error and
//! the server goes on; the streamed form's events come in the documented
//! order; a conversation goes on across requests.

mod common;

use common::served::{form, fresh_dir, parse_sse, Served};
use serde_json::Value;
use sori_core::audio::recording::decode_recording;
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use sori_testkit::{Endpoint, ServerConfig, TestServer};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(600);

/// `wav` turned into `ext` by ffmpeg (test files only: the server decodes with symphonia).
fn convert(wav: &[u8], dir: &Path, ext: &str, codec: &[&str]) -> Vec<u8> {
    let (input, output) = (dir.join("in.wav"), dir.join(format!("question.{ext}")));
    std::fs::write(&input, wav).unwrap();
    let out = Command::new("ffmpeg").args(["-y", "-loglevel", "error", "-i"]).arg(&input).args(codec).arg(&output).output().expect("ffmpeg");
    assert!(out.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(output).unwrap()
}

fn seconds(samples: usize, rate: u32) -> f64 {
    samples as f64 / f64::from(rate)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tutorials_request_gets_spoken_mp3_and_every_format_reaches_speech_to_text() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = fresh_dir("formats");
    let served = Served::start(&dir, &kit.base_url(), &["--no-auth"]);
    let wav = espeak_wav("Where is my order? I ordered it last week.", "en", 0.3, 0.3).unwrap();
    let (samples, rate) = read_wav(&wav).unwrap();
    let spoken = seconds(samples.len(), rate);
    let client = reqwest::Client::new();
    let uploads = [
        ("mp3", "audio/mpeg", convert(&wav, &dir, "mp3", &["-c:a", "libmp3lame", "-b:a", "64k"])),
        ("wav", "audio/wav", wav.clone()),
        ("m4a", "audio/mp4", convert(&wav, &dir, "m4a", &["-c:a", "aac", "-b:a", "64k"])),
        ("ogg", "audio/ogg", convert(&wav, &dir, "ogg", &["-c:a", "libopus"])),
        ("webm", "audio/webm", convert(&wav, &dir, "webm", &["-c:a", "libopus"])),
    ];
    for (ext, mime, bytes) in uploads {
        let reply = client.post(format!("{}/voice-chat", served.url)).multipart(form(bytes, &format!("question.{ext}"), mime)).send().await.unwrap();
        assert_eq!(reply.status(), 200, "{ext}: {}", reply.text().await.unwrap_or_default());
        let header = |name: &str| reply.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert_eq!(header("content-type"), "audio/mpeg", "{ext}");
        assert_eq!(header("content-disposition"), "inline; filename=reply.mp3", "{ext}");
        assert!(header("x-conversation-id").starts_with("c_"), "{ext}");
        let mp3 = reply.bytes().await.unwrap();
        let speech = decode_recording(&mp3, Some("reply.mp3"), None, LONG).unwrap_or_else(|e| panic!("{ext}: the reply is not MP3: {e}"));
        assert!(seconds(speech.samples.len(), speech.sample_rate) > 2.0, "{ext}: a spoken reply");
        assert!(speech.samples.iter().filter(|s| s.unsigned_abs() > 2000).count() > speech.samples.len() / 20, "{ext}: speech, not silence");
        // The question reached speech-to-text whole: as long as it was spoken
        // (give or take a codec's framing: AAC adds 1024 samples of priming
        // and pads its last frame, which symphonia 0.5 keeps for MP4).
        let (heard, heard_rate) = kit.uploaded_audio().pop().unwrap();
        let length = seconds(heard.len(), heard_rate);
        assert!((length - spoken).abs() < 0.15, "{ext}: {length:.3} s reached speech-to-text of {spoken:.3} s spoken");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_json_error_and_the_server_goes_on() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = fresh_dir("bad");
    let served = Served::start(&dir, &kit.base_url(), &["--no-auth"]);
    let url = format!("{}/voice-chat", served.url);
    let client = reqwest::Client::new();
    let wav = espeak_wav("Where is my order?", "en", 0.2, 0.2).unwrap();
    let mp3 = convert(&wav, &dir, "mp3", &["-c:a", "libmp3lame", "-b:a", "64k"]);
    // Cut inside a frame: ten bytes after a frame header past the middle.
    let sync = (mp3.len() / 2..mp3.len() - 1).find(|&i| mp3[i] == 0xFF && mp3[i + 1] & 0xE0 == 0xE0).unwrap();
    let cut = mp3[..sync + 10].to_vec();
    let twenty_minutes = sori_testkit::audio::encode::wav(&vec![0i16; 8_000 * 60 * 20], 8_000).unwrap();
    let no_audio = reqwest::multipart::Form::new().text("conversation_id", "").text("question", "where is it?");
    let cases: Vec<(&str, reqwest::multipart::Form, u16, &str)> = vec![
        ("no audio field", no_audio, 400, "missing_audio"),
        ("a text file", form("주문 내역을 확인하고 싶어요.\n".repeat(20).into_bytes(), "question.txt", "text/plain"), 422, "unsupported_audio"),
        ("a truncated mp3", form(cut, "question.mp3", "audio/mpeg"), 422, "truncated_audio"),
        ("a 20-minute recording", form(twenty_minutes, "long.wav", "audio/wav"), 413, "audio_too_long"),
    ];
    for (what, body, status, code) in cases {
        let reply = client.post(&url).multipart(body).send().await.unwrap();
        assert_eq!(reply.status().as_u16(), status, "{what}");
        assert_eq!(reply.headers()["content-type"], "application/json", "{what}");
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 20, "{what}: says what to do: {body}");
    }
    // 100 MB, as curl sends it (`Expect: 100-continue`): refused from its
    // headers, before any of the body is sent.
    let refusal = expect_continue(&served.url, 100_000_000).await;
    assert!(refusal.starts_with("HTTP/1.1 413"), "{refusal}");
    assert!(refusal.contains(r#"{"error":{"code":"too_large","message":"The upload is larger than 25 MB"#), "{refusal}");
    // Sent whole without waiting (reqwest streams a form of unknown length,
    // chunked): refused once 25 MB have come. A client still writing may see
    // the connection close before it reads the answer; either way nothing
    // past the limit is read.
    let huge = reqwest::Body::wrap_stream(futures_util::stream::iter((0..100).map(|_| Ok::<_, std::io::Error>(vec![0u8; 1_000_000]))));
    let streamed = reqwest::multipart::Form::new().part("audio", reqwest::multipart::Part::stream(huge).file_name("huge.wav"));
    match client.post(&url).multipart(streamed).send().await {
        Ok(reply) => {
            assert_eq!(reply.status(), 413);
            assert_eq!(reply.json::<Value>().await.unwrap()["error"]["code"], "too_large");
        }
        Err(e) => assert!(format!("{e:?}").contains("BrokenPipe") || format!("{e:?}").contains("ConnectionReset"), "{e:?}"),
    }
    // None of it reached a provider, and the server still answers.
    assert!(kit.requests().iter().all(|r| r.endpoint != Endpoint::Transcriptions), "bad input never reaches speech-to-text");
    let good = client.post(&url).multipart(form(wav, "question.wav", "audio/wav")).send().await.unwrap();
    assert_eq!(good.status(), 200);
    assert!(decode_recording(&good.bytes().await.unwrap(), None, None, LONG).is_ok());
    let health: Value = client.get(format!("{}/healthz", served.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let metrics = client.get(format!("{}/metrics", served.url)).send().await.unwrap().text().await.unwrap();
    for code in ["missing_audio", "unsupported_audio", "truncated_audio", "audio_too_long"] {
        assert!(metrics.contains(&format!("sori_errors_total{{code=\"{code}\"}} 1")), "{code} counted: {metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streamed_form_sends_events_in_order_and_a_conversation_goes_on() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = fresh_dir("sse");
    let served = Served::start(&dir, &kit.base_url(), &["--no-auth"]);
    let client = reqwest::Client::new();
    let wav = espeak_wav("When will my order arrive?", "en", 0.2, 0.2).unwrap();
    let ask = |url: String, accept: bool, extra: Option<String>| {
        let mut body = form(wav.clone(), "question.wav", "audio/wav");
        if let Some(id) = extra {
            body = body.text("conversation_id", id);
        }
        let request = client.post(url).multipart(body);
        if accept {
            request.header("accept", "text/event-stream")
        } else {
            request
        }
    };
    let reply = ask(format!("{}/voice-chat", served.url), true, None).send().await.unwrap();
    assert_eq!(reply.headers()["content-type"], "text/event-stream");
    let events = parse_sse(&reply.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let at = |name: &str| names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("no {name} in {names:?}"));
    let last_at = |name: &str| names.iter().rposition(|n| *n == name).unwrap();
    assert_eq!(at("conversation"), 0, "{names:?}");
    assert!(at("user_transcript") < at("assistant_delta") && at("user_transcript") < at("audio"), "{names:?}");
    assert!(last_at("audio") < at("turn_ended") && at("request_classified") < at("turn_ended"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    assert_eq!(names.iter().filter(|n| **n == "done").count(), 1);
    let id = events[0].1["conversation_id"].as_str().unwrap().to_string();
    let done = &events.last().unwrap().1;
    assert_eq!(
        (done["conversation_id"].as_str(), done["kept"].as_bool(), done["interrupted"].as_bool()),
        (Some(id.as_str()), Some(true), Some(false))
    );
    let reply_text: String = events.iter().filter(|(n, _)| n == "assistant_delta").map(|(_, v)| v["text"].as_str().unwrap()).collect();
    assert_eq!(done["reply"].as_str().unwrap(), reply_text);
    // The audio: base64 16-bit PCM at the rate it says, about as long as a spoken reply.
    let pcm: usize = events
        .iter()
        .filter(|(n, _)| n == "audio")
        .map(|(_, v)| {
            assert_eq!(v["format"], "pcm16");
            base64_len(v["data"].as_str().unwrap()) / 2
        })
        .sum();
    let rate = events.iter().find(|(n, _)| n == "audio").unwrap().1["sample_rate"].as_u64().unwrap() as f64;
    assert!(pcm as f64 / rate > 2.0, "{} s of audio", pcm as f64 / rate);

    // `?stream=true` is the same form; the id sent back goes on with the conversation.
    let again = ask(format!("{}/voice-chat?stream=true", served.url), false, Some(id.clone())).send().await.unwrap();
    let events = parse_sse(&again.text().await.unwrap());
    assert_eq!(events[0].1["conversation_id"], id.as_str());
    let chats: Vec<Value> =
        kit.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat && r.body.get("response_format").is_none()).map(|r| r.body).collect();
    let history = chats.last().unwrap()["messages"].as_array().unwrap();
    assert!(history.len() >= 4, "persona, the first turn's question and answer, and the new question: {history:?}");
    let kept: Value = client.get(format!("{}/v1/conversations/{id}", served.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(kept["turns"].as_array().unwrap().len(), 2, "{kept}");
    // An id the server never made.
    let unknown = ask(format!("{}/voice-chat", served.url), false, Some("c_AAAAAAAAAAAAAAAA".into())).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.json::<Value>().await.unwrap()["error"]["code"], "not_found");
}

/// Sends only the headers of a multipart upload of `length` bytes with
/// `Expect: 100-continue`, as curl does, and returns what the server says.
async fn expect_continue(base: &str, length: u64) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /voice-chat HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_string(&mut answer)).await.expect("an answer without the body").unwrap();
    answer
}

fn base64_len(b64: &str) -> usize {
    let pad = b64.bytes().rev().take_while(|&c| c == b'=').count();
    b64.len() / 4 * 3 - pad
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_conversation_keeps_their_context_and_their_orders_across_requests() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let dir = fresh_dir("customer");
    let served = Served::start(&dir, &kit.base_url(), &["--no-auth"]);
    let client = reqwest::Client::new();
    let ask = |text: &str, field: (&'static str, String)| {
        let body = reqwest::multipart::Form::new().text("text", text.to_string()).text(field.0, field.1);
        client.post(format!("{}/voice-chat?stream=true", served.url)).multipart(body).send()
    };
    let first = parse_sse(&ask("Can you lookup order status for me?", ("customer", "C-001".into())).await.unwrap().text().await.unwrap());
    let done = &first.last().unwrap().1;
    assert!(first.iter().any(|(n, v)| n == "tool_started" && v["name"] == "lookup_order"), "{first:?}");
    assert!(done["reply"].as_str().unwrap().contains("2026-12-08"), "the sample shop's order for 김민지: {done}");
    let id = first[0].1["conversation_id"].as_str().unwrap().to_string();
    let system = |kit: &TestServer| {
        let chats: Vec<Value> = kit.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat).map(|r| r.body).collect();
        chats.last().unwrap()["messages"][0]["content"].as_str().unwrap().to_string()
    };
    assert!(system(&kit).contains("김민지 (customer id C-001), Gold member"), "{}", system(&kit));
    // The next request names only the conversation: the customer goes on with it.
    let second = parse_sse(&ask("Please lookup order status once more.", ("conversation_id", id)).await.unwrap().text().await.unwrap());
    assert!(second.last().unwrap().1["reply"].as_str().unwrap().contains("2026-12-08"), "{:?}", second.last());
    assert!(system(&kit).contains("customer id C-001"));
    // A customer the shop does not know.
    let unknown = ask("Hello", ("customer", "C-999".into())).await.unwrap();
    assert_eq!(unknown.status(), 400);
    assert_eq!(unknown.json::<Value>().await.unwrap()["error"]["code"], "unknown_customer");
}
