use super::*;
use sori_testkit::audio::encode::wav;
use sori_testkit::{Endpoint, Fault, LatencyModel};
use std::time::Duration;

/// One second of a 16 kHz voiced tone: stands in for an utterance.
fn utterance(seconds: f64, seed: u32) -> Vec<u8> {
    let n = (16_000.0 * seconds) as usize;
    let samples: Vec<i16> = (0..n).map(|i| ((i as f64 * (0.05 + seed as f64 * 0.001)).sin() * 8000.0) as i16).collect();
    wav(&samples, 16_000).unwrap()
}

#[test]
fn a_registered_transcript_comes_back_as_json() {
    let s = server();
    let audio = utterance(1.0, 1);
    s.set_transcript(&audio, "주문한 상품이 언제 도착하나요?");
    let r = post_multipart(&s, &[("model", "gpt-4o-transcribe"), ("language", "ko")], Some(("speech.wav", "audio/wav", &audio)));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_schema("CreateTranscriptionResponseJson", &v);
    assert_eq!(v["text"], "주문한 상품이 언제 도착하나요?");
    assert_eq!(v["usage"]["type"], "tokens");
    // The request was recorded field by field.
    let req = &s.requests()[0];
    assert_eq!(req.body["model"], "gpt-4o-transcribe");
    assert_eq!(req.body["file"]["filename"], "speech.wav");
    assert_eq!(req.body["file"]["bytes"], audio.len());
}

#[test]
fn transcripts_can_be_chosen_by_samples_and_default_by_language() {
    let s = server();
    let samples: Vec<i16> = (0..8000).map(|i| ((i as f64 * 0.07).sin() * 9000.0) as i16).collect();
    s.set_transcript_for_samples(&samples, "refund please");
    let audio = wav(&samples, 16_000).unwrap();
    let text = |lang: &str, audio: &[u8]| {
        post_multipart(&s, &[("model", "whisper-1"), ("language", lang)], Some(("a.wav", "audio/wav", audio))).json()["text"].clone()
    };
    assert_eq!(text("en", &audio), "refund please");
    assert_eq!(text("ko", &utterance(1.0, 2)), "주문한 상품이 언제 도착하나요?");
    assert_eq!(text("en", &utterance(1.0, 3)), "When will my order arrive?");
    // Silence transcribes to nothing, as a quiet room should.
    assert_eq!(text("en", &wav(&vec![0i16; 16_000], 16_000).unwrap()), "");
}

#[test]
fn every_response_format_has_its_shape() {
    let s = server();
    let audio = utterance(2.0, 4);
    s.set_transcript(&audio, "Hello Sori");
    let ask = |model: &str, format: &str| post_multipart(&s, &[("model", model), ("response_format", format)], Some(("a.wav", "audio/wav", &audio)));
    let r = ask("gpt-4o-mini-transcribe", "text");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.text(), "Hello Sori\n");
    let v = ask("whisper-1", "verbose_json").json();
    assert_schema("CreateTranscriptionResponseVerboseJson", &v);
    assert_eq!(v["duration"], 2.0);
    assert_eq!(v["usage"], serde_json::json!({"type": "duration", "seconds": 2}));
    assert!(ask("whisper-1", "srt").text().starts_with("1\n00:00:00,000 --> 00:00:02,000\nHello Sori"));
    assert!(ask("whisper-1", "vtt").text().starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello Sori"));
    // gpt-4o models only speak json and text.
    assert_api_error(&ask("gpt-4o-transcribe", "verbose_json"), 400, "invalid_request_error", None);
}

#[test]
fn a_streamed_transcript_is_delta_events_then_done() {
    let s = server();
    let audio = utterance(1.0, 5);
    s.set_transcript(&audio, "네, 환불해 주세요.");
    let r = post_multipart(&s, &[("model", "gpt-4o-transcribe"), ("stream", "true")], Some(("a.wav", "audio/wav", &audio)));
    assert_eq!(r.header("content-type"), Some("text/event-stream; charset=utf-8"));
    let events: Vec<Value> = r.sse_data().iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    let (last, deltas) = events.split_last().unwrap();
    for d in deltas {
        assert_schema("TranscriptTextDeltaEvent", d);
    }
    assert_schema("TranscriptTextDoneEvent", last);
    assert_eq!(deltas.iter().map(|d| d["delta"].as_str().unwrap()).collect::<String>(), "네, 환불해 주세요.");
    assert_eq!(last["text"], "네, 환불해 주세요.");
}

#[test]
fn malformed_uploads_get_400() {
    let s = server();
    let audio = utterance(0.5, 6);
    let missing_file = post_multipart(&s, &[("model", "whisper-1")], None);
    assert!(assert_api_error(&missing_file, 400, "invalid_request_error", None)["error"]["message"].as_str().unwrap().contains("file"));
    assert_api_error(
        &post_multipart(&s, &[("model", "whisper-1"), ("colour", "red")], Some(("a.wav", "audio/wav", &audio))),
        400,
        "invalid_request_error",
        None,
    );
    assert_api_error(&post_multipart(&s, &[("model", "whisper-1")], Some(("a.txt", "text/plain", b"hello"))), 400, "invalid_request_error", None);
    assert_api_error(
        &post_multipart(&s, &[("model", "whisper-1")], Some(("a.wav", "audio/wav", b"RIFF garbage"))),
        400,
        "invalid_request_error",
        None,
    );
    assert_api_error(
        &post_multipart(&s, &[("model", "whisper-1"), ("temperature", "warm")], Some(("a.wav", "audio/wav", &audio))),
        400,
        "invalid_request_error",
        None,
    );
}

#[test]
fn transcription_time_grows_with_the_audio() {
    let s = server();
    s.set_latency(LatencyModel { stt_base_ms: 100.0, stt_ms_per_audio_second: 100.0, ..Default::default() });
    let r = post_multipart(&s, &[("model", "whisper-1")], Some(("a.wav", "audio/wav", &utterance(3.0, 7))));
    assert!(r.first_byte >= Duration::from_millis(400), "{:?}", r.first_byte);
}

#[test]
fn malformed_sse_and_drops_reach_transcripts_too() {
    let s = server();
    let audio = utterance(1.0, 8);
    s.push_fault(Endpoint::Transcriptions, Fault::MalformedSse);
    let r = post_multipart(&s, &[("model", "gpt-4o-transcribe"), ("stream", "true")], Some(("a.wav", "audio/wav", &audio)));
    assert_eq!(r.sse_data().iter().filter(|d| serde_json::from_str::<Value>(d).is_err()).count(), 1);
    s.push_fault(Endpoint::Transcriptions, Fault::DropMidBody { after_bytes: 5 });
    let r = post_multipart(&s, &[("model", "whisper-1")], Some(("a.wav", "audio/wav", &audio)));
    assert!(!r.complete && r.body.len() == 5);
}

#[test]
fn a_client_that_hangs_up_while_waiting_is_logged_as_cancelled() {
    use std::io::Write;
    let s = server();
    s.set_latency(LatencyModel { stt_base_ms: 800.0, ..Default::default() });
    let (content_type, body) = multipart(&[("model", "whisper-1")], Some(("a.wav", "audio/wav", &utterance(1.0, 9))));
    let mut stream = std::net::TcpStream::connect(s.addr()).unwrap();
    let head = format!(
        "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nAuthorization: {BEARER}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(stream);
    std::thread::sleep(Duration::from_millis(1200));
    assert!(s.requests()[0].cancelled, "the server saw its client go before it answered");
    // One that waits for its answer is not.
    let r = post_multipart(&s, &[("model", "whisper-1")], Some(("a.wav", "audio/wav", &utterance(1.0, 9))));
    assert_eq!(r.status, 200);
    assert!(!s.requests()[1].cancelled);
}
