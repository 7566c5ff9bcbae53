//! The OpenAI-compatible clients against the local testkit server over real
//! HTTP: what they send (as the server recorded it), what they make of every
//! reply, and every fault.

use futures_util::StreamExt;
use sori_core::provider::openai::OpenAi;
use sori_core::provider::retry::{with_retries, RetryPolicy};
use sori_core::provider::*;
use sori_core::secrets::ApiKey;
use sori_testkit::script::default_reply;
use sori_testkit::{audio::synthesize, Endpoint, Fault, ServerConfig, TestServer, TEST_API_KEY};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn server() -> TestServer {
    TestServer::start_in_background(ServerConfig::default()).unwrap()
}

fn client(s: &TestServer) -> OpenAi {
    OpenAi::new(&s.base_url(), ApiKey::new(TEST_API_KEY)).unwrap()
}

fn tone(seconds: f64) -> Vec<i16> {
    (0..(16_000.0 * seconds) as usize).map(|i| ((i as f64 * 0.06).sin() * 7000.0) as i16).collect()
}

fn stt<'a>(samples: &'a [i16], language: Option<&'a str>) -> SttRequest<'a> {
    SttRequest { samples, sample_rate: 16_000, model: "gpt-4o-transcribe", language, prompt: Some("Sori, 소리") }
}

fn ask(text: &str) -> Vec<ChatMessage> {
    vec![ChatMessage::new(Role::System, "You are Sori."), ChatMessage::new(Role::User, text)]
}

async fn chat_text(c: &OpenAi, messages: &[ChatMessage]) -> Result<String, ProviderError> {
    let mut stream = c.stream_chat(ChatRequest::new("gpt-4o-mini", messages)).await?;
    let mut text = String::new();
    let mut done = false;
    while let Some(event) = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("the stream never hangs") {
        match event? {
            ChatEvent::Text(t) => text.push_str(&t),
            ChatEvent::ToolCallDelta(d) => panic!("no tools were offered, yet {d:?}"),
            ChatEvent::Done { .. } => done = true,
        }
    }
    assert!(done, "a stream that ends well ends with Done");
    Ok(text)
}

fn speech<'a>(text: &'a str, model: &'a str, format: AudioFormat) -> SpeechRequest<'a> {
    SpeechRequest { text, model, voice: "coral", instructions: Some("Warm and calm."), speed: 1.0, pitch: 0.0, format }
}

async fn speak(c: &OpenAi, request: SpeechRequest<'_>) -> Result<(Vec<i16>, usize), ProviderError> {
    let mut stream = c.synthesize(request).await?;
    let (mut samples, mut pieces) = (Vec::new(), 0);
    while let Some(pcm) = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("never hangs") {
        let pcm = pcm?;
        assert_eq!(pcm.sample_rate, 24_000);
        samples.extend(pcm.samples);
        pieces += 1;
    }
    Ok((samples, pieces))
}

#[tokio::test]
async fn transcription_uploads_a_wav_with_the_settings() {
    let s = server();
    let audio = tone(1.0);
    s.set_transcript_for_samples(&audio, "주문한 상품이 언제 도착하나요?");
    let c = client(&s);
    assert_eq!(c.transcribe(stt(&audio, Some("ko"))).await.unwrap(), "주문한 상품이 언제 도착하나요?");
    let sent = &s.requests()[0];
    assert_eq!(sent.authorization.as_deref(), Some("Bearer sori-test-key-0123"));
    assert_eq!(sent.body["model"], "gpt-4o-transcribe");
    assert_eq!(sent.body["language"], "ko");
    assert_eq!(sent.body["prompt"], "Sori, 소리");
    assert_eq!(sent.body["file"]["bytes"], 44 + audio.len() * 2);
    // "auto" sends no language; silence transcribes to nothing.
    assert_eq!(c.transcribe(stt(&vec![0; 16_000], Some("auto"))).await.unwrap(), "");
    assert!(s.requests()[1].body.get("language").is_none());
    assert!(c.transfer().totals().0 > 64_000);
}

#[tokio::test]
async fn chat_streams_the_reply_in_korean_and_english() {
    let s = server();
    let c = client(&s);
    assert_eq!(chat_text(&c, &ask("배송 언제 와요?")).await.unwrap(), default_reply("배송 언제 와요?"));
    assert_eq!(chat_text(&c, &ask("Where is my order?")).await.unwrap(), default_reply("Where is my order?"));
    let sent = &s.requests()[0].body;
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["messages"][0]["role"], "system");
}

#[tokio::test]
async fn tool_calls_stream_in_pieces_and_come_out_whole_with_the_finish_reason() {
    let s = server();
    let c = client(&s);
    let tools = [ToolSpec {
        name: "lookup_order".into(),
        description: "Look up the customer's order.".into(),
        parameters: serde_json::json!({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}),
    }];
    let messages = ask("Please lookup order A-1001");
    let request = ChatRequest { tools: &tools, ..ChatRequest::new("gpt-4o-mini", &messages) };
    let mut stream = c.stream_chat(request).await.unwrap();
    let (mut calls, mut pieces, mut finish) = (ToolCallAssembler::default(), 0, None);
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            ChatEvent::ToolCallDelta(d) => {
                pieces += 1;
                calls.push(d);
            }
            ChatEvent::Text(t) => panic!("a tool call has no text here, got {t:?}"),
            ChatEvent::Done { finish_reason } => finish = finish_reason,
        }
    }
    assert!(pieces > 2, "the arguments came in pieces ({pieces})");
    assert_eq!(finish, Some(FinishReason::ToolCalls));
    let calls = calls.finish();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "lookup_order");
    assert!(calls[0].id.starts_with("call_"));
    let args: serde_json::Value = serde_json::from_str(&calls[0].arguments).unwrap();
    assert_eq!(args["query"], "Please lookup order A-1001");
    let sent = &s.requests()[0].body;
    assert_eq!(sent["tools"][0]["function"]["name"], "lookup_order");
    // The call and its result go back in the shape the API takes (the server validates it).
    let mut next = messages.clone();
    next.push(ChatMessage::assistant_calling("", calls.clone()));
    next.push(ChatMessage::tool_result(&calls[0].id, r#"{"status":"shipped"}"#));
    let answer = chat_text(&c, &next).await.unwrap();
    assert!(answer.contains("shipped"), "{answer}");
}

#[tokio::test]
async fn the_length_limit_goes_as_max_tokens_and_a_cut_reply_says_length() {
    let s = server();
    let c = client(&s);
    let messages = ask("Where is my order?");
    let request = ChatRequest { max_tokens: Some(5), ..ChatRequest::new("gpt-4o-mini", &messages) };
    let mut stream = c.stream_chat(request).await.unwrap();
    let mut events = Vec::new();
    while let Some(e) = stream.next().await {
        events.push(e.unwrap());
    }
    assert_eq!(events.iter().filter(|e| matches!(e, ChatEvent::Text(_))).count(), 5);
    assert_eq!(events.last(), Some(&ChatEvent::Done { finish_reason: Some(FinishReason::Length) }));
    assert_eq!(s.requests()[0].body["max_tokens"], 5);
}

#[tokio::test]
async fn chat_faults_become_clear_errors() {
    let s = server();
    let c = client(&s);
    s.push_fault(Endpoint::Chat, Fault::MalformedSse);
    assert_eq!(chat_text(&c, &ask("hi")).await.unwrap_err().kind, ErrorKind::BadResponse);
    s.push_fault(Endpoint::Chat, Fault::DropMidBody { after_bytes: 700 });
    assert_eq!(chat_text(&c, &ask("hi")).await.unwrap_err().kind, ErrorKind::Network);
    s.push_fault(Endpoint::Chat, Fault::RateLimited { retry_after_secs: 4 });
    let e = chat_text(&c, &ask("hi")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after_ms: Some(4000) });
    assert_eq!(e.status, Some(429));
    s.push_fault(Endpoint::Chat, Fault::QuotaExceeded);
    assert_eq!(chat_text(&c, &ask("hi")).await.unwrap_err().kind, ErrorKind::Quota);
    s.push_fault(Endpoint::Chat, Fault::Overloaded);
    assert_eq!(chat_text(&c, &ask("hi")).await.unwrap_err().kind, ErrorKind::Server);
    assert!(chat_text(&c, &ask("hi")).await.is_ok(), "faults are one-offs");
}

#[tokio::test]
async fn a_wrong_key_is_an_auth_error_that_never_shows_the_key() {
    let s = server();
    let c = OpenAi::new(&s.base_url(), ApiKey::new("wrong-key-abcdef123456")).unwrap();
    let e = c.list_models().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("Check the key"), "{}", e.message);
    assert!(!e.message.contains("wrong-key-abcdef123456"));
    assert!(client(&s).list_models().await.unwrap().contains(&"whisper-1".to_string()));
}

#[tokio::test]
async fn speech_streams_pcm_exactly_and_sends_style_only_where_supported() {
    let s = server();
    let c = client(&s);
    let text = "네, 고객님, 확인해 드릴게요.";
    let (samples, pieces) = speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Pcm)).await.unwrap();
    assert_eq!(samples, synthesize(text, "coral", 1.0));
    assert!(pieces > 1, "pcm is yielded as it arrives");
    assert_eq!(s.requests()[0].body["instructions"], "Warm and calm.");
    assert_eq!(s.requests()[0].body["response_format"], "pcm");
    // tts-1 takes no instructions: none are sent, so the request succeeds.
    let (samples, _) = speak(&c, speech(text, "tts-1", AudioFormat::Pcm)).await.unwrap();
    assert_eq!(samples, synthesize(text, "coral", 1.0));
    assert!(s.requests()[1].body.get("instructions").is_none());
}

#[tokio::test]
async fn speech_in_wav_mp3_and_opus_decodes_to_the_same_length() {
    let s = server();
    let c = client(&s);
    let text = "Your order ships today.";
    let n = synthesize(text, "coral", 1.0).len();
    assert_eq!(speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Wav)).await.unwrap().0, synthesize(text, "coral", 1.0));
    let mp3 = speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Mp3)).await.unwrap().0;
    assert!(mp3.len().abs_diff(n) < 3 * 1152);
    let opus = speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Opus)).await.unwrap().0;
    assert!(opus.len().abs_diff(n) < 960);
}

#[tokio::test]
async fn broken_speech_audio_is_an_error_after_what_was_good() {
    let s = server();
    let c = client(&s);
    let text = "A sentence long enough to need several chunks of audio.";
    s.push_fault(Endpoint::Speech, Fault::TruncatedAudio);
    assert_eq!(speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Pcm)).await.unwrap_err().kind, ErrorKind::BadResponse);
    s.push_fault(Endpoint::Speech, Fault::TruncatedAudio);
    assert_eq!(speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Wav)).await.unwrap_err().kind, ErrorKind::BadResponse);
    s.push_fault(Endpoint::Speech, Fault::DropMidBody { after_bytes: 9_000 });
    let mut stream = c.synthesize(speech(text, "gpt-4o-mini-tts", AudioFormat::Pcm)).await.unwrap();
    let mut good = 0;
    let error = loop {
        match stream.next().await.expect("an error ends the stream") {
            Ok(pcm) => good += pcm.samples.len(),
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind, ErrorKind::Network);
    assert_eq!(good, 4_500, "the audio before the break was delivered");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn retries_honour_retry_after_then_succeed() {
    let s = server();
    let c = client(&s);
    s.push_fault(Endpoint::Chat, Fault::RateLimited { retry_after_secs: 1 });
    s.push_fault(Endpoint::Chat, Fault::ServerError);
    let started = Instant::now();
    let mut retries = vec![];
    let messages = ask("hi");
    let stream = with_retries(
        RetryPolicy::default(),
        &CancellationToken::new(),
        |attempt, wait, e| retries.push((attempt, wait, e.kind.clone())),
        || c.stream_chat(ChatRequest::new("gpt-4o-mini", &messages)),
    )
    .await;
    assert!(stream.is_ok());
    assert_eq!(retries.len(), 2);
    assert_eq!(retries[0].1, Duration::from_secs(1));
    assert!(started.elapsed() >= Duration::from_millis(1300));
    // Auth failures are not retried.
    s.push_faults(Endpoint::Chat, Fault::Unauthorized, 3);
    let r = with_retries(
        RetryPolicy::default(),
        &CancellationToken::new(),
        |_, _, _| panic!("no retry for 401"),
        || c.stream_chat(ChatRequest::new("gpt-4o-mini", &messages)),
    )
    .await;
    assert_eq!(r.err().unwrap().kind, ErrorKind::Auth);
}

#[tokio::test]
async fn an_unreachable_server_is_a_network_error() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let c = OpenAi::new(&format!("http://{addr}/v1"), None).unwrap();
    let e = c.list_models().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network);
    assert!(e.message.contains("Cannot reach 127.0.0.1"), "{}", e.message);
}

#[tokio::test]
async fn a_server_that_makes_one_format_is_understood_whatever_was_asked() {
    use sori_testkit::audio::AudioFormat as Made;
    let s = server();
    let c = client(&s);
    let text = "Your order ships today.";
    let n = synthesize(text, "coral", 1.0).len();
    s.set_speech_only_format(Some(Made::Wav));
    assert_eq!(speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Pcm)).await.unwrap().0, synthesize(text, "coral", 1.0));
    s.set_speech_only_format(Some(Made::Mp3));
    assert!(speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Pcm)).await.unwrap().0.len().abs_diff(n) < 3 * 1152);
    s.set_speech_only_format(Some(Made::Opus));
    assert!(speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Wav)).await.unwrap().0.len().abs_diff(n) < 960);
    s.set_speech_only_format(Some(Made::Pcm));
    assert_eq!(speak(&c, speech(text, "gpt-4o-mini-tts", AudioFormat::Mp3)).await.unwrap().0, synthesize(text, "coral", 1.0));
}

#[tokio::test]
async fn a_key_check_says_works_rejected_or_unreachable() {
    use sori_core::app::{check_key, KeyCheck};
    let s = server();
    assert_eq!(check_key(&s.base_url(), ApiKey::new(TEST_API_KEY)).await, KeyCheck::Works { models: 9 });
    match check_key(&s.base_url(), ApiKey::new("not-the-key-000")).await {
        KeyCheck::Rejected { message } => {
            assert!(message.contains("did not accept the API key") && !message.contains("not-the-key-000"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    assert!(matches!(check_key(&format!("http://{closed}/v1"), ApiKey::new(TEST_API_KEY)).await, KeyCheck::Unreachable { .. }));
    assert!(
        matches!(check_key("http://192.168.7.7/v1", ApiKey::new(TEST_API_KEY)).await, KeyCheck::Failed { .. }),
        "no key over plain http to another machine"
    );
}
