//! The fake Google Speech-to-Text and Text-to-Speech over real HTTP with
//! reqwest, as Sori's client talks to it: recognition, synthesis, voices,
//! faults and steering, every reply checked against Google's discovery
//! documents; the helpers the credential tests (`google_auth`) share.

use super::google_auth::{assertion, exchange, key_file, JWT_BEARER};
use super::*;
use base64::Engine as _;
use reqwest::{Client, RequestBuilder};
use serde_json::json;
use sori_testkit::discovery::{check_response, Api};
use sori_testkit::script::default_transcript;
use sori_testkit::{Endpoint, Fault, LatencyModel, GOOGLE_TEST_API_KEY};
use std::time::{Duration, Instant};

pub(super) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Speech-like samples (not silent) from the testkit's synthesizer, sent as 16 kHz audio.
pub(super) fn speech_samples() -> Vec<i16> {
    sori_testkit::audio::synthesize("주문 확인", "ko", 1.0).iter().step_by(3).map(|s| s / 2).collect()
}

pub(super) fn recognize_body(audio: &[u8], config: Value) -> Value {
    json!({ "config": config, "audio": { "content": B64.encode(audio) } })
}

pub(super) fn raw(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

pub(super) fn korean() -> Value {
    json!({ "encoding": "LINEAR16", "sampleRateHertz": 16000, "languageCode": "ko-KR", "model": "latest_short",
            "enableAutomaticPunctuation": true, "speechContexts": [{ "phrases": ["주문"], "boost": 10 }] })
}

pub(super) fn post(s: &TestServer, path: &str) -> RequestBuilder {
    Client::new().post(format!("{}{path}", s.google_root()))
}

pub(super) fn with_key(r: RequestBuilder) -> RequestBuilder {
    r.header("x-goog-api-key", GOOGLE_TEST_API_KEY)
}

pub(super) async fn json_of(r: RequestBuilder) -> (u16, Value) {
    let response = r.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// Asserts Google's error shape with this HTTP status and `status` name; the body.
#[track_caller]
pub(super) fn assert_google_error(got: &(u16, Value), status: u16, name: &str) -> Value {
    let (code, body) = got;
    assert_eq!(*code, status, "{body:#}");
    assert_eq!(body["error"]["code"], status, "{body:#}");
    assert_eq!(body["error"]["status"], name, "{body:#}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body:#}");
    body.clone()
}

pub(super) fn synthesize_body(text: &str, audio_config: Value) -> Value {
    json!({ "input": { "text": text }, "voice": { "languageCode": "ko-KR", "name": "ko-KR-Standard-A", "ssmlGender": "FEMALE" }, "audioConfig": audio_config })
}

pub(super) async fn synthesize(s: &TestServer, body: Value) -> (u16, Value) {
    json_of(with_key(post(s, "/v1/text:synthesize")).json(&body)).await
}

pub(super) fn audio_of(body: &Value) -> Vec<u8> {
    check_response(Api::TextToSpeech, "SynthesizeSpeechResponse", body).unwrap();
    B64.decode(body["audioContent"].as_str().unwrap()).unwrap()
}

/// A JWT as Google's client libraries make it from the key file.
#[tokio::test]
async fn recognizes_korean_with_the_key_in_the_header_or_the_query() {
    let s = server();
    let samples = speech_samples();
    let body = recognize_body(&raw(&samples), korean());
    for request in [with_key(post(&s, "/v1/speech:recognize")), post(&s, &format!("/v1/speech:recognize?key={GOOGLE_TEST_API_KEY}"))] {
        let (status, v) = json_of(request.json(&body)).await;
        assert_eq!(status, 200, "{v:#}");
        check_response(Api::Speech, "RecognizeResponse", &v).unwrap();
        let result = &v["results"][0];
        assert_eq!(result["alternatives"][0]["transcript"], default_transcript(Some("ko")));
        assert_eq!(result["languageCode"], "ko-kr");
        let seconds = samples.len() as f64 / 16_000.0;
        assert_eq!(result["resultEndTime"], format!("{:.3}s", seconds));
        assert_eq!(v["totalBilledTime"], format!("{}s", seconds.ceil() as u64));
        assert!(v["requestId"].as_str().unwrap().bytes().all(|b| b.is_ascii_digit()));
    }
    let log = s.requests();
    assert!(log.iter().all(|r| r.endpoint == Endpoint::GoogleRecognize && r.api_key.as_deref() == Some(GOOGLE_TEST_API_KEY)));
    // The log keeps the audio's size and hash, not its base64.
    assert_eq!(log[0].body["audio"]["content"]["bytes"], samples.len() * 2);
    assert_eq!(log[0].body["config"]["languageCode"], "ko-KR");
    assert_eq!(s.uploaded_audio()[0], (samples, 16_000));
}

#[tokio::test]
async fn a_transcript_set_by_samples_is_heard_raw_or_in_a_wav() {
    let s = server();
    let samples = speech_samples();
    s.set_transcript_for_samples(&samples, "배송 조회해 주세요");
    let wav = sori_testkit::audio::encode::wav(&samples, 16_000).unwrap();
    // A WAV header is read for the rate: the config may leave rate and encoding out.
    let wav_config = json!({ "languageCode": "ko-KR" });
    for body in [recognize_body(&raw(&samples), korean()), recognize_body(&wav, wav_config)] {
        let (status, v) = json_of(with_key(post(&s, "/v1/speech:recognize")).json(&body)).await;
        assert_eq!(status, 200, "{v:#}");
        assert_eq!(v["results"][0]["alternatives"][0]["transcript"], "배송 조회해 주세요");
    }
    // English by default for an English request.
    let en = json!({ "encoding": "LINEAR16", "sampleRateHertz": 16000, "languageCode": "en-US" });
    let other: Vec<i16> = speech_samples().iter().map(|x| x / 2).collect();
    let (_, v) = json_of(with_key(post(&s, "/v1/speech:recognize")).json(&recognize_body(&raw(&other), en))).await;
    assert_eq!(v["results"][0]["alternatives"][0]["transcript"], default_transcript(Some("en")));
}

#[tokio::test]
async fn silence_has_no_results() {
    let s = server();
    let (status, v) = json_of(with_key(post(&s, "/v1/speech:recognize")).json(&recognize_body(&raw(&[3; 8000]), korean()))).await;
    assert_eq!(status, 200);
    check_response(Api::Speech, "RecognizeResponse", &v).unwrap();
    assert!(v.get("results").is_none(), "{v:#}");
    assert_eq!(v["totalBilledTime"], "1s");
}

#[tokio::test]
async fn bad_requests_get_googles_400() {
    let s = server();
    let audio = raw(&speech_samples());
    let mut config = korean();
    config["foo"] = json!(1);
    let v = assert_google_error(
        &json_of(with_key(post(&s, "/v1/speech:recognize")).json(&recognize_body(&audio, config))).await,
        400,
        "INVALID_ARGUMENT",
    );
    assert_eq!(v["error"]["message"], "Invalid JSON payload received. Unknown name \"foo\" at 'config': Cannot find field.");
    assert_eq!(v["error"]["details"][0]["fieldViolations"][0]["field"], "config");
    let cases = [
        (json!({ "encoding": "WAV", "languageCode": "ko-KR" }), "Invalid value at 'config.encoding'"),
        (json!({ "encoding": "FLAC", "languageCode": "ko-KR" }), "LINEAR16"),
        (json!({ "encoding": "LINEAR16", "sampleRateHertz": 16000, "languageCode": "ko-KR", "model": "chirp" }), "model"),
        (json!({ "encoding": "LINEAR16", "sampleRateHertz": 16000 }), "language"),
        (json!({ "encoding": "LINEAR16", "languageCode": "ko-KR" }), "sample rate"),
    ];
    for (config, needle) in cases {
        let got = json_of(with_key(post(&s, "/v1/speech:recognize")).json(&recognize_body(&audio, config))).await;
        let v = assert_google_error(&got, 400, "INVALID_ARGUMENT");
        assert!(v["error"]["message"].as_str().unwrap().contains(needle), "{v:#}");
    }
    let got = json_of(with_key(post(&s, "/v1/speech:recognize")).header("content-type", "application/json").body("{\"config\": ")).await;
    assert!(assert_google_error(&got, 400, "INVALID_ARGUMENT")["error"]["message"].as_str().unwrap().starts_with("Invalid JSON payload received."));
    let got = json_of(with_key(post(&s, "/v1/speech:recognize")).json(&json!({ "config": korean() }))).await;
    assert_eq!(assert_google_error(&got, 400, "INVALID_ARGUMENT")["error"]["message"], "RecognitionAudio not set.");
}

#[tokio::test]
async fn linear16_is_a_wav_at_the_asked_rate_that_grows_with_the_text() {
    let s = server();
    let mut lengths = Vec::new();
    for text in ["네.", "주문하신 상품은 내일 도착할 예정이에요. 다른 궁금한 점이 있으신가요?"] {
        let (status, v) = synthesize(&s, synthesize_body(text, json!({ "audioEncoding": "LINEAR16", "sampleRateHertz": 16000 }))).await;
        assert_eq!(status, 200, "{v:#}");
        let audio = audio_of(&v);
        assert_eq!(&audio[..4], b"RIFF");
        let mut wav = hound::WavReader::new(std::io::Cursor::new(audio)).unwrap();
        assert_eq!((wav.spec().sample_rate, wav.spec().channels, wav.spec().bits_per_sample), (16_000, 1, 16));
        let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
        assert!(samples.iter().any(|x| x.unsigned_abs() > 1000), "audible");
        lengths.push(samples.len());
    }
    assert!(lengths[1] > 5 * lengths[0], "{lengths:?}");
    // The voice's own rate when none is asked; faster speech is shorter.
    let (_, v) = synthesize(&s, synthesize_body("안녕하세요", json!({ "audioEncoding": "LINEAR16" }))).await;
    let normal = hound::WavReader::new(std::io::Cursor::new(audio_of(&v))).unwrap();
    assert_eq!(normal.spec().sample_rate, 24_000);
    let (_, v) = synthesize(&s, synthesize_body("안녕하세요", json!({ "audioEncoding": "LINEAR16", "speakingRate": 2.0 }))).await;
    let fast = hound::WavReader::new(std::io::Cursor::new(audio_of(&v))).unwrap();
    assert!((fast.duration() as f64 / normal.duration() as f64 - 0.5).abs() < 0.02);
    // MP3 and Ogg Opus are real files.
    let (_, v) = synthesize(&s, synthesize_body("안녕하세요", json!({ "audioEncoding": "MP3" }))).await;
    let mp3 = audio_of(&v);
    assert!(mp3[0] == 0xFF && mp3[1] & 0xE0 == 0xE0, "an MP3 frame sync");
    let (_, v) = synthesize(&s, synthesize_body("안녕하세요", json!({ "audioEncoding": "OGG_OPUS", "sampleRateHertz": 48000 }))).await;
    assert_eq!(&audio_of(&v)[..4], b"OggS");
}

#[tokio::test]
async fn bad_synthesis_requests_get_googles_400() {
    let s = server();
    let linear = json!({ "audioEncoding": "LINEAR16" });
    let mut wrong_voice = synthesize_body("네", linear.clone());
    wrong_voice["voice"]["name"] = json!("ko-KR-Standard-Z");
    let mut wrong_language = synthesize_body("네", linear.clone());
    wrong_language["voice"]["languageCode"] = json!("en-US");
    let mut both = synthesize_body("네", linear.clone());
    both["input"]["ssml"] = json!("<speak>네</speak>");
    let cases = [
        (synthesize_body("네", json!({ "audioEncoding": "LINEAR16", "pitch": 25.0 })), "pitch"),
        (synthesize_body("네", json!({ "audioEncoding": "LINEAR16", "speakingRate": 4.5 })), "speaking_rate"),
        (wrong_voice, "Voice 'ko-KR-Standard-Z' does not exist. Is it misspelled?"),
        (wrong_language, "Voice 'ko-KR-Standard-A' does not exist. Is it misspelled?"),
        (both, "input.ssml"),
        (synthesize_body(&"가".repeat(1700), linear.clone()), "longer than the limit of 5000 bytes"),
        (
            synthesize_body("네", json!({ "audioEncoding": "LINEAR16", "bitrate": 64 })),
            "Unknown name \"bitrate\" at 'audio_config': Cannot find field.",
        ),
    ];
    for (body, needle) in cases {
        let v = assert_google_error(&synthesize(&s, body).await, 400, "INVALID_ARGUMENT");
        assert!(v["error"]["message"].as_str().unwrap().contains(needle), "{needle}: {v:#}");
    }
}

#[tokio::test]
async fn truncated_audio_is_a_wav_cut_mid_sample() {
    let s = server();
    s.push_fault(Endpoint::GoogleSynthesize, Fault::TruncatedAudio);
    let body = synthesize_body("주문하신 상품은 내일 도착해요.", json!({ "audioEncoding": "LINEAR16" }));
    let (status, v) = synthesize(&s, body.clone()).await;
    assert_eq!(status, 200, "valid JSON, corrupt audio");
    let cut = audio_of(&v);
    let (_, v) = synthesize(&s, body).await;
    let whole = audio_of(&v);
    assert_eq!((cut.len() - 44) % 2, 1, "ends inside a sample");
    assert!(cut.len() < whole.len() * 2 / 3 && cut.len() > whole.len() / 3);
    assert_eq!(&cut[..44], &whole[..44], "the header still claims the whole length");
}

#[tokio::test]
async fn voices_are_filtered_by_language() {
    let s = server();
    let list = |q: &str| with_key(Client::new().get(format!("{}/v1/voices{q}", s.google_root())));
    let (status, all) = json_of(list("")).await;
    assert_eq!(status, 200);
    check_response(Api::TextToSpeech, "ListVoicesResponse", &all).unwrap();
    let (_, korean) = json_of(list("?languageCode=ko-KR")).await;
    check_response(Api::TextToSpeech, "ListVoicesResponse", &korean).unwrap();
    let voices = korean["voices"].as_array().unwrap();
    assert_eq!(voices.len(), 11);
    assert!(all["voices"].as_array().unwrap().len() > voices.len());
    // A language alone takes its regions; a part of a code is no language (Google leaves out an empty list).
    assert_eq!(json_of(list("?languageCode=ko")).await.1["voices"].as_array().map(Vec::len), Some(11));
    assert_eq!(json_of(list("?languageCode=k")).await, (200, json!({})));
    assert!(voices.iter().all(|v| v["languageCodes"] == json!(["ko-KR"]) && v["naturalSampleRateHertz"] == 24000));
    let gender = |name: &str| voices.iter().find(|v| v["name"] == name).map(|v| v["ssmlGender"].clone()).unwrap();
    assert_eq!((gender("ko-KR-Standard-A"), gender("ko-KR-Standard-C"), gender("ko-KR-Neural2-C")), (json!("FEMALE"), json!("MALE"), json!("MALE")));
}

#[tokio::test]
async fn each_fault_has_googles_status() {
    let s = server();
    let cases = [
        (Fault::Unauthorized, 403, "PERMISSION_DENIED"),
        (Fault::RateLimited { retry_after_secs: 7 }, 429, "RESOURCE_EXHAUSTED"),
        (Fault::QuotaExceeded, 403, "PERMISSION_DENIED"),
        (Fault::ServerError, 500, "INTERNAL"),
        (Fault::Overloaded, 503, "UNAVAILABLE"),
    ];
    let body = recognize_body(&raw(&speech_samples()), korean());
    for (fault, status, name) in cases {
        s.push_fault(Endpoint::GoogleRecognize, fault.clone());
        let response = with_key(post(&s, "/v1/speech:recognize")).json(&body).send().await.unwrap();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let v = assert_google_error(&(response.status().as_u16(), response.json().await.unwrap()), status, name);
        match fault {
            Fault::RateLimited { .. } => {
                assert_eq!((retry_after.as_deref(), &v["error"]["details"][0]["reason"]), (Some("7"), &json!("RATE_LIMIT_EXCEEDED")))
            }
            Fault::QuotaExceeded => assert_eq!(v["error"]["details"][0]["reason"], "BILLING_DISABLED"),
            _ => assert_eq!(retry_after, None),
        }
    }
    assert_eq!(json_of(with_key(post(&s, "/v1/speech:recognize")).json(&body)).await.0, 200, "the queue is empty again");

    // The token endpoint answers in OAuth's words.
    let jwt = assertion(&key_file(&s), |_| {});
    for (fault, status, error) in [
        (Fault::Unauthorized, 400, "invalid_grant"),
        (Fault::ServerError, 500, "internal_failure"),
        (Fault::RateLimited { retry_after_secs: 2 }, 429, "rate_limit_exceeded"),
    ] {
        s.push_fault(Endpoint::GoogleToken, fault);
        let (got, v) = exchange(&s, JWT_BEARER, &jwt).await;
        assert_eq!((got, &v["error"]), (status, &json!(error)));
    }

    // A slow first byte, then a connection dropped mid-body.
    s.push_fault(Endpoint::GoogleVoices, Fault::SlowFirstByte { ms: 300 });
    let started = Instant::now();
    assert_eq!(json_of(with_key(Client::new().get(format!("{}/v1/voices", s.google_root())))).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    s.push_fault(Endpoint::GoogleSynthesize, Fault::DropMidBody { after_bytes: 100 });
    let response =
        with_key(post(&s, "/v1/text:synthesize")).json(&synthesize_body("네", json!({ "audioEncoding": "LINEAR16" }))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the body ends early");
}

#[tokio::test]
async fn recognition_takes_the_modelled_time() {
    let s = server();
    s.set_latency(LatencyModel { stt_base_ms: 300.0, ..LatencyModel::instant() });
    let started = Instant::now();
    let (status, _) = json_of(with_key(post(&s, "/v1/speech:recognize")).json(&recognize_body(&raw(&speech_samples()), korean()))).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_control_api_steers_the_fake_google() {
    let s = server();
    let control = |method: reqwest::Method, path: &str| Client::new().request(method, format!("{}/__testkit{path}", s.google_root()));
    let file: Value = control(reqwest::Method::GET, "/google/service-account").send().await.unwrap().json().await.unwrap();
    assert_eq!(file["token_uri"], s.google_token_uri());
    let put = control(reqwest::Method::PUT, "/google").json(&json!({ "token_ttl_secs": 5, "api_key": "from-js" })).send().await.unwrap();
    assert_eq!(put.status(), 204);
    assert_eq!(s.google_api_key().as_deref(), Some("from-js"));
    let fault = json!({ "endpoint": "google_synthesize", "fault": { "kind": "server_error" } });
    assert_eq!(control(reqwest::Method::POST, "/faults").json(&fault).send().await.unwrap().status(), 204);
    let (_, v) = exchange(&s, JWT_BEARER, &assertion(&file, |_| {})).await;
    assert_eq!(v["expires_in"], 5);
    let got =
        json_of(post(&s, "/v1/text:synthesize").header("x-goog-api-key", "from-js").json(&synthesize_body("네", json!({ "audioEncoding": "MP3" }))))
            .await;
    assert_google_error(&got, 500, "INTERNAL");
    let state: Value = control(reqwest::Method::GET, "/google").send().await.unwrap().json().await.unwrap();
    assert_eq!((state["tokens_issued"].clone(), state["token_ttl_secs"].clone()), (json!(1), json!(5)));
    let log: Value = control(reqwest::Method::GET, "/requests").send().await.unwrap().json().await.unwrap();
    let endpoints: Vec<&str> = log.as_array().unwrap().iter().map(|r| r["endpoint"].as_str().unwrap()).collect();
    assert_eq!(endpoints, ["google_token", "google_synthesize"]);
}
