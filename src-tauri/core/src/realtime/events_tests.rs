//! Every client event Sori builds is valid under its schema in the vendored
//! OpenAPI spec; the spec's own example server events (checked against the
//! spec first, so the test data is faithful) parse into what Sori reads; an
//! unknown event is kept as `Other`, a broken known one is an error.

use super::*;
use serde_json::json;
use sori_testkit::spec;

fn id(n: u32) -> String {
    format!("sori_{n}")
}

#[test]
fn every_client_event_matches_the_spec() {
    let mut session = SessionConfig::spoken(
        "You are Sori, a customer-service agent.",
        "marin",
        Some(TurnDetection::SemanticVad { eagerness: "auto", create_response: true, interrupt_response: true }),
    );
    session.audio.input.transcription = Some(Transcription { model: "gpt-4o-mini-transcribe".into(), language: Some("ko".into()) });
    session.audio.input.noise_reduction = Some(json!({ "type": "far_field" }));
    session.tools.push(FunctionTool::new(
        "lookup_order",
        "Looks an order up by its number.",
        json!({ "type": "object", "properties": { "order_number": { "type": "string" } }, "required": [] }),
    ));
    let push_to_talk = SessionConfig::spoken("", "cedar", None);
    let server_vad = SessionConfig::spoken(
        "x",
        "alloy",
        Some(TurnDetection::ServerVad {
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 500,
            create_response: true,
            interrupt_response: true,
        }),
    );
    let events = [
        ("RealtimeClientEventSessionUpdate", ClientEvent::SessionUpdate { event_id: id(1), session: Box::new(session) }),
        ("RealtimeClientEventSessionUpdate", ClientEvent::SessionUpdate { event_id: id(2), session: Box::new(push_to_talk) }),
        ("RealtimeClientEventSessionUpdate", ClientEvent::SessionUpdate { event_id: id(3), session: Box::new(server_vad) }),
        ("RealtimeClientEventInputAudioBufferAppend", ClientEvent::Append { event_id: id(4), audio: "AAAA".into() }),
        ("RealtimeClientEventInputAudioBufferCommit", ClientEvent::Commit { event_id: id(5) }),
        ("RealtimeClientEventInputAudioBufferClear", ClientEvent::Clear { event_id: id(6) }),
        ("RealtimeClientEventConversationItemCreate", ClientEvent::CreateItem { event_id: id(7), item: Item::user_text("배송 언제 와요?") }),
        ("RealtimeClientEventConversationItemCreate", ClientEvent::CreateItem { event_id: id(8), item: Item::assistant_text("내일 도착해요.") }),
        (
            "RealtimeClientEventConversationItemCreate",
            ClientEvent::CreateItem {
                event_id: id(9),
                item: Item::FunctionCallOutput { call_id: "call_1".into(), output: r#"{"status":"shipped"}"#.into() },
            },
        ),
        (
            "RealtimeClientEventConversationItemTruncate",
            ClientEvent::Truncate { event_id: id(10), item_id: "item_2".into(), content_index: 0, audio_end_ms: 1500 },
        ),
        ("RealtimeClientEventConversationItemDelete", ClientEvent::DeleteItem { event_id: id(11), item_id: "item_3".into() }),
        ("RealtimeClientEventResponseCreate", ClientEvent::CreateResponse { event_id: id(12) }),
        ("RealtimeClientEventResponseCancel", ClientEvent::CancelResponse { event_id: id(13) }),
    ];
    for (schema, event) in events {
        let value = serde_json::to_value(&event).unwrap();
        spec::check(schema, &value).unwrap_or_else(|e| panic!("{e}\n{value:#}"));
        spec::check("RealtimeClientEvent", &value).unwrap_or_else(|e| panic!("{e}\n{value:#}"));
    }
    // Push-to-talk must say `null`, or the server keeps its own VAD on.
    let ptt =
        serde_json::to_value(ClientEvent::SessionUpdate { event_id: id(2), session: Box::new(SessionConfig::spoken("", "cedar", None)) }).unwrap();
    assert!(ptt["session"]["audio"]["input"].as_object().unwrap().get("turn_detection").is_some_and(Value::is_null), "{ptt}");
    // A wrong shape is caught by the same check (it can fail).
    let mut bad = serde_json::to_value(ClientEvent::Truncate { event_id: id(1), item_id: "i".into(), content_index: 0, audio_end_ms: 5 }).unwrap();
    bad["audio_end_ms"] = json!("five");
    assert!(spec::check("RealtimeClientEventConversationItemTruncate", &bad).is_err());
}

/// The spec's example events (research file §A5), as the server sends them.
const SERVER_EXAMPLES: &[(&str, &str)] = &[
    (
        "RealtimeServerEventInputAudioBufferSpeechStarted",
        r#"{"type":"input_audio_buffer.speech_started","event_id":"event_1516","audio_start_ms":1000,"item_id":"msg_003"}"#,
    ),
    (
        "RealtimeServerEventInputAudioBufferSpeechStopped",
        r#"{"type":"input_audio_buffer.speech_stopped","event_id":"event_1718","audio_end_ms":2000,"item_id":"msg_003"}"#,
    ),
    (
        "RealtimeServerEventInputAudioBufferCommitted",
        r#"{"type":"input_audio_buffer.committed","event_id":"event_1121","previous_item_id":"msg_001","item_id":"msg_002"}"#,
    ),
    (
        "RealtimeServerEventConversationItemInputAudioTranscriptionCompleted",
        r#"{"type":"conversation.item.input_audio_transcription.completed","event_id":"event_2122","item_id":"item_CCXG","content_index":0,"transcript":"Hey, can you hear me?","usage":{"type":"tokens","total_tokens":22,"input_tokens":13,"input_token_details":{"text_tokens":0,"audio_tokens":13},"output_tokens":9}}"#,
    ),
    (
        "RealtimeServerEventResponseAudioDelta",
        r#"{"type":"response.output_audio.delta","event_id":"event_4950","response_id":"resp_001","item_id":"msg_008","output_index":0,"content_index":0,"delta":"Base64EncodedAudioDelta"}"#,
    ),
    (
        "RealtimeServerEventResponseAudioTranscriptDelta",
        r#"{"type":"response.output_audio_transcript.delta","event_id":"event_4546","response_id":"resp_001","item_id":"msg_008","output_index":0,"content_index":0,"delta":"Hello, how can I a"}"#,
    ),
    (
        "RealtimeServerEventResponseFunctionCallArgumentsDone",
        r#"{"type":"response.function_call_arguments.done","event_id":"event_5556","response_id":"resp_002","item_id":"fc_001","output_index":0,"call_id":"call_001","name":"get_weather","arguments":"{\"location\": \"San Francisco\"}"}"#,
    ),
    (
        "RealtimeServerEventResponseDone",
        r#"{"type":"response.done","event_id":"event_3132","response":{"object":"realtime.response","id":"resp_1","status":"completed","output":[{"id":"item_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_audio","transcript":"Loud and clear!"}]}],"conversation_id":"conv_1","output_modalities":["audio"],"max_output_tokens":"inf","audio":{"output":{"format":{"type":"audio/pcm","rate":24000},"voice":"marin"}},"usage":{"total_tokens":253,"input_tokens":132,"output_tokens":121,"input_token_details":{"text_tokens":119,"audio_tokens":13,"image_tokens":0,"cached_tokens":64,"cached_tokens_details":{"text_tokens":64,"audio_tokens":0,"image_tokens":0}},"output_token_details":{"text_tokens":30,"audio_tokens":91}},"metadata":null}}"#,
    ),
    (
        "RealtimeServerEventConversationItemTruncated",
        r#"{"type":"conversation.item.truncated","event_id":"event_2526","item_id":"msg_004","content_index":0,"audio_end_ms":1500}"#,
    ),
    (
        "RealtimeServerEventError",
        r#"{"type":"error","event_id":"event_890","error":{"type":"invalid_request_error","code":"invalid_event","message":"The 'type' field is missing.","param":null,"event_id":"event_567"}}"#,
    ),
    (
        "RealtimeServerEventRateLimitsUpdated",
        r#"{"type":"rate_limits.updated","event_id":"event_5758","rate_limits":[{"name":"requests","limit":1000,"remaining":999,"reset_seconds":60},{"name":"tokens","limit":50000,"remaining":49950,"reset_seconds":60}]}"#,
    ),
];

#[test]
fn the_specs_server_events_parse_into_what_sori_reads() {
    for (schema, text) in SERVER_EXAMPLES {
        let value: Value = serde_json::from_str(text).unwrap();
        spec::check(schema, &value).unwrap_or_else(|e| panic!("the example itself: {e}"));
        let event = ServerEvent::parse(text).unwrap_or_else(|e| panic!("{schema}: {e}"));
        assert!(!matches!(event, ServerEvent::Other { .. }), "{schema} is read, not passed over");
    }
    let parse = |i: usize| ServerEvent::parse(SERVER_EXAMPLES[i].1).unwrap();
    assert_eq!(parse(1), ServerEvent::SpeechStopped { item_id: "msg_003".into(), audio_end_ms: 2000 });
    assert_eq!(parse(3), ServerEvent::UserTranscript { item_id: "item_CCXG".into(), transcript: "Hey, can you hear me?".into() });
    assert!(matches!(parse(4), ServerEvent::AudioDelta { item_id, content_index: 0, .. } if item_id == "msg_008"));
    assert!(matches!(parse(6), ServerEvent::FunctionCall { call_id, name, .. } if call_id == "call_001" && name == "get_weather"));
    match parse(7) {
        ServerEvent::ResponseDone { response } => {
            assert_eq!((response.id.as_str(), response.status.as_str()), ("resp_1", "completed"));
            assert_eq!(response.usage.unwrap()["output_token_details"]["audio_tokens"], 91);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(parse(9), ServerEvent::Error { error } if error.code.as_deref() == Some("invalid_event") && error.event_id.as_deref() == Some("event_567"))
    );
    assert!(matches!(parse(10), ServerEvent::RateLimits { rate_limits } if rate_limits[1].remaining == 49950));
}

#[test]
fn unknown_events_are_kept_and_broken_known_ones_are_errors() {
    let added = r#"{"type":"conversation.item.added","event_id":"e","previous_item_id":null,"item":{"id":"item_1","type":"message","status":"completed","role":"user","content":[{"type":"input_text","text":"hi"}]}}"#;
    assert!(
        matches!(ServerEvent::parse(added).unwrap(), ServerEvent::Other { kind, raw } if kind == "conversation.item.added" && raw["item"]["id"] == "item_1")
    );
    assert!(matches!(ServerEvent::parse(r#"{"type":"output_audio_buffer.started"}"#).unwrap(), ServerEvent::Other { .. }));
    assert!(
        matches!(ServerEvent::parse(r#"{"type":"response.output_audio.delta","item_id":"x"}"#), Err(EventError::Malformed { kind, .. }) if kind == "response.output_audio.delta")
    );
    assert!(matches!(ServerEvent::parse(r#"{"event_id":"e"}"#), Err(EventError::NoType)));
    assert!(matches!(ServerEvent::parse("not json"), Err(EventError::NotJson(_))));
}
