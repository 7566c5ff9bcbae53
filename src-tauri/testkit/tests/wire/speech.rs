use super::*;
use serde_json::json;
use sori_testkit::audio::{synthesize, SPEECH_RATE};
use sori_testkit::{Endpoint, Fault, LatencyModel};
use std::time::Duration;

const TEXT: &str = "Your order ships today. 주문하신 상품은 오늘 출발해요.";

fn say(s: &TestServer, format: &str) -> RawResponse {
    post_json(
        s,
        "/v1/audio/speech",
        &json!({"model": "gpt-4o-mini-tts", "input": TEXT, "voice": "coral",
        "instructions": "Warm and calm.", "response_format": format}),
    )
}

fn pcm_samples(bytes: &[u8]) -> Vec<i16> {
    bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

/// Decodes MP3 with symphonia: (sample rate, frames decoded).
fn decode_mp3(bytes: &[u8]) -> (u32, usize) {
    use symphonia::core::{codecs::DecoderOptions, formats::FormatOptions, io::MediaSourceStream, meta::MetadataOptions, probe::Hint};
    let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let mut format = symphonia::default::get_probe().format(&hint, mss, &FormatOptions::default(), &MetadataOptions::default()).unwrap().format;
    let track = format.default_track().unwrap().clone();
    let mut decoder = symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions::default()).unwrap();
    let mut frames = 0;
    while let Ok(packet) = format.next_packet() {
        if let Ok(decoded) = decoder.decode(&packet) {
            frames += decoded.frames();
        }
    }
    (track.codec_params.sample_rate.unwrap(), frames)
}

/// Decodes Ogg Opus with libopus: (header packets seen, samples decoded at 24 kHz, final granule).
fn decode_opus(bytes: &[u8]) -> (Vec<String>, usize, u64) {
    let mut reader = ogg::PacketReader::new(std::io::Cursor::new(bytes.to_vec()));
    let mut decoder = opus::Decoder::new(SPEECH_RATE, opus::Channels::Mono).unwrap();
    let mut heads = Vec::new();
    let (mut samples, mut granule) = (0, 0);
    let mut out = vec![0i16; 5760];
    while let Ok(Some(packet)) = reader.read_packet() {
        if heads.len() < 2 {
            heads.push(String::from_utf8_lossy(&packet.data[..8]).to_string());
            continue;
        }
        samples += decoder.decode(&packet.data, &mut out, false).unwrap();
        granule = packet.absgp_page();
    }
    (heads, samples, granule)
}

#[test]
fn pcm_is_the_synthesized_speech_streamed_in_chunks() {
    let s = server();
    let r = say(&s, "pcm");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("audio/pcm"));
    assert!(r.chunked && r.complete && r.header("content-length").is_none());
    assert!(r.arrivals.len() > 1 || r.body.len() > 4800, "streamed in pieces");
    let expected = synthesize(TEXT, "coral", 1.0);
    assert_eq!(pcm_samples(&r.body), expected);
    // A longer text is longer audio, in proportion.
    let seconds = expected.len() as f64 / SPEECH_RATE as f64;
    assert!((2.5..6.0).contains(&seconds), "{seconds}");
}

#[test]
fn wav_mp3_and_opus_decode_to_the_same_length() {
    let s = server();
    let n = synthesize(TEXT, "coral", 1.0).len();

    let r = say(&s, "wav");
    assert_eq!(r.header("content-type"), Some("audio/wav"));
    let mut wav = hound::WavReader::new(std::io::Cursor::new(r.body.clone())).unwrap();
    assert_eq!(wav.spec().sample_rate, SPEECH_RATE);
    assert_eq!(wav.samples::<i16>().map(Result::unwrap).collect::<Vec<_>>(), synthesize(TEXT, "coral", 1.0));

    let r = say(&s, "mp3");
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    let (rate, frames) = decode_mp3(&r.body);
    assert_eq!(rate, SPEECH_RATE);
    assert!(frames.abs_diff(n) < 3 * 1152, "mp3 decoded {frames} samples, expected about {n}");

    let r = say(&s, "opus");
    assert_eq!(r.header("content-type"), Some("audio/ogg"));
    let (heads, samples, granule) = decode_opus(&r.body);
    assert_eq!(heads, ["OpusHead", "OpusTags"]);
    assert!(samples.abs_diff(n) < 480, "opus decoded {samples} samples, expected about {n}");
    assert!(granule >= n as u64 * 2, "granule {granule} counts 48 kHz samples");
}

#[test]
fn sse_speech_is_base64_audio_deltas_then_done() {
    let s = server();
    let r = post_json(
        &s,
        "/v1/audio/speech",
        &json!({"model": "gpt-4o-mini-tts", "input": TEXT, "voice": "coral", "response_format": "pcm", "stream_format": "sse"}),
    );
    let events: Vec<Value> = r.sse_data().iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    let (done, deltas) = events.split_last().unwrap();
    assert_schema("SpeechAudioDoneEvent", done);
    use base64::Engine as _;
    let mut audio = Vec::new();
    for d in deltas {
        assert_schema("SpeechAudioDeltaEvent", d);
        audio.extend(base64::engine::general_purpose::STANDARD.decode(d["audio"].as_str().unwrap()).unwrap());
    }
    assert_eq!(pcm_samples(&audio), synthesize(TEXT, "coral", 1.0));
}

#[test]
fn malformed_sse_reaches_speech_events_too() {
    let s = server();
    s.push_fault(Endpoint::Speech, Fault::MalformedSse);
    let r = post_json(
        &s,
        "/v1/audio/speech",
        &json!({"model": "gpt-4o-mini-tts", "input": TEXT, "voice": "coral", "response_format": "pcm", "stream_format": "sse"}),
    );
    let data = r.sse_data();
    assert_eq!(data.iter().filter(|d| serde_json::from_str::<Value>(d).is_err()).count(), 1, "{data:?}");
}

#[test]
fn speed_and_voice_change_the_audio() {
    let s = server();
    let fast = post_json(&s, "/v1/audio/speech", &json!({"model": "tts-1", "input": TEXT, "voice": "onyx", "response_format": "pcm", "speed": 2.0}));
    assert_eq!(pcm_samples(&fast.body), synthesize(TEXT, "onyx", 2.0));
    assert_ne!(synthesize(TEXT, "onyx", 2.0), synthesize(TEXT, "coral", 2.0));
}

#[test]
fn requests_the_real_api_refuses_are_refused() {
    let s = server();
    let bad = |body: Value| assert_api_error(&post_json(&s, "/v1/audio/speech", &body), 400, "invalid_request_error", None);
    bad(json!({"model": "tts-1", "input": "hi"}));
    bad(json!({"model": "tts-1", "input": "hi", "voice": "alloy", "speed": 5.0}));
    bad(json!({"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": "aiff"}));
    bad(json!({"model": "tts-1", "input": "", "voice": "alloy"}));
    bad(json!({"model": "tts-1", "input": "x".repeat(4097), "voice": "alloy"}));
    // Voices and style instructions differ by model.
    bad(json!({"model": "tts-1", "input": "hi", "voice": "ballad"}));
    bad(json!({"model": "tts-1-hd", "input": "hi", "voice": "alloy", "instructions": "cheerful"}));
    bad(json!({"model": "tts-1", "input": "hi", "voice": "alloy", "stream_format": "sse"}));
    assert_eq!(
        post_json(&s, "/v1/audio/speech", &json!({"model": "gpt-4o-mini-tts", "input": "hi", "voice": "ballad", "instructions": "cheerful"})).status,
        200
    );
}

#[test]
fn audio_is_paced_by_the_latency_model() {
    let s = server();
    s.set_latency(LatencyModel { tts_first_byte_ms: 150.0, tts_realtime_factor: 8.0, ..Default::default() });
    let r = say(&s, "pcm");
    let seconds = synthesize(TEXT, "coral", 1.0).len() as f64 / SPEECH_RATE as f64;
    let first = r.arrivals.first().unwrap().0;
    let last = r.arrivals.last().unwrap().0;
    assert!(first >= Duration::from_millis(150), "{first:?}");
    let paced = Duration::from_secs_f64(0.150 + (seconds - 0.1) / 8.0);
    assert!(last >= paced, "last byte at {last:?}, model says not before {paced:?}");
}

#[test]
fn truncated_audio_is_cut_mid_frame() {
    let s = server();
    let full = say(&s, "pcm").body.len();
    s.push_fault(Endpoint::Speech, Fault::TruncatedAudio);
    let cut = say(&s, "pcm");
    assert!(cut.complete, "the HTTP body itself ends properly");
    assert!(cut.body.len() % 2 == 1 && cut.body.len() < full * 6 / 10, "{} of {full}", cut.body.len());

    let full_mp3 = decode_mp3(&say(&s, "mp3").body).1;
    s.push_fault(Endpoint::Speech, Fault::TruncatedAudio);
    let cut_mp3 = decode_mp3(&say(&s, "mp3").body).1;
    assert!(cut_mp3 < full_mp3 * 6 / 10, "{cut_mp3} of {full_mp3}");
}

#[test]
fn a_dropped_connection_cuts_the_audio() {
    let s = server();
    s.push_fault(Endpoint::Speech, Fault::DropMidBody { after_bytes: 10_000 });
    let r = say(&s, "pcm");
    assert!(!r.complete);
    assert_eq!(r.body.len(), 10_000);
}
