use super::*;
use serde_json::json;
use sori_testkit::script::{default_reply, tokenize};
use sori_testkit::{Endpoint, Fault, LatencyModel};
use std::time::Duration;

fn ask(text: &str, stream: bool) -> Value {
    json!({"model": "gpt-4o-mini", "stream": stream,
           "messages": [{"role": "system", "content": "You are Sori."}, {"role": "user", "content": text}]})
}

/// Parses an SSE chat stream: every chunk must match the spec; returns the
/// chunks (without `[DONE]`) after checking that `[DONE]` ends the stream.
fn chunks(r: &RawResponse) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/event-stream; charset=utf-8"));
    assert!(r.chunked && r.complete);
    let data = r.sse_data();
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    data[..data.len() - 1]
        .iter()
        .map(|d| {
            let v: Value = serde_json::from_str(d).unwrap();
            assert_schema("CreateChatCompletionStreamResponse", &v);
            v
        })
        .collect()
}

fn content(chunks: &[Value]) -> String {
    chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect()
}

#[test]
fn a_plain_reply_matches_the_spec() {
    let s = server();
    let r = post_json(&s, "/v1/chat/completions", &ask("When will my order arrive?", false));
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_schema("CreateChatCompletionResponse", &v);
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["content"], default_reply("When will my order arrive?"));
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], tokenize(&default_reply("When will my order arrive?")).len());
}

#[test]
fn a_streamed_reply_is_sse_chunks_then_done() {
    let s = server();
    let r = post_json(&s, "/v1/chat/completions", &ask("배송은 언제 되나요?", true));
    let chunks = chunks(&r);
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk" && c["id"] == chunks[0]["id"]));
    let text = content(&chunks);
    assert!(text.starts_with("네, 고객님"), "{text}");
    assert_eq!(text, default_reply("배송은 언제 되나요?"));
    // One content chunk per token, then the finish chunk.
    assert_eq!(chunks.len(), 1 + tokenize(&text).len() + 1);
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "stop");
}

#[test]
fn usage_comes_last_when_asked_for() {
    let s = server();
    let mut req = ask("Hi", true);
    req["stream_options"] = json!({"include_usage": true});
    let chunks = chunks(&post_json(&s, "/v1/chat/completions", &req));
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert!(last["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert!(chunks[..chunks.len() - 1].iter().all(|c| c["usage"].is_null()));
}

#[test]
fn tools_are_called_streamed_and_plain() {
    let s = server();
    let mut req = ask("Please look up order status for A-1001", true);
    req["tools"] = json!([{"type": "function", "function": {"name": "order_status", "description": "Looks up an order",
        "parameters": {"type": "object", "properties": {"order": {"type": "string"}}, "required": ["order"]}}}]);
    let chunks = chunks(&post_json(&s, "/v1/chat/completions", &req));
    let first = &chunks[0]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(first["function"]["name"], "order_status");
    assert!(first["id"].as_str().unwrap().starts_with("call_"));
    let args: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str()).collect();
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap()["order"], "Please look up order status for A-1001");
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "tool_calls");

    req["stream"] = json!(false);
    let v = post_json(&s, "/v1/chat/completions", &req).json();
    assert_schema("CreateChatCompletionResponse", &v);
    assert_eq!(v["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "order_status");
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");

    // The tool's result comes back; the model answers with it.
    let call = v["choices"][0]["message"].clone();
    let mut follow = ask("Please look up order status for A-1001", false);
    follow["tools"] = req["tools"].clone();
    follow["messages"].as_array_mut().unwrap().extend([call, json!({"role": "tool", "tool_call_id": first["id"], "content": "Shipped today."})]);
    let v = post_json(&s, "/v1/chat/completions", &follow).json();
    assert_eq!(v["choices"][0]["message"]["content"], "Here is what I found. Shipped today.");
}

#[test]
fn requests_that_break_the_spec_get_400() {
    let s = server();
    let r = post_json(&s, "/v1/chat/completions", &json!({"model": "gpt-4o-mini"}));
    let v = assert_api_error(&r, 400, "invalid_request_error", None);
    assert!(v["error"]["message"].as_str().unwrap().contains("messages"), "{v}");
    let r = raw::request(s.addr(), "POST", "/v1/chat/completions", &[("Authorization", BEARER), ("Content-Type", "application/json")], b"{not json");
    assert_api_error(&r, 400, "invalid_request_error", None);
}

#[test]
fn tokens_are_paced_by_the_latency_model() {
    let s = server();
    s.set_latency(LatencyModel { chat_first_token_ms: 200.0, chat_tokens_per_second: 50.0, ..Default::default() });
    let r = post_json(&s, "/v1/chat/completions", &ask("Hello there", true));
    let n = tokenize(&default_reply("Hello there")).len();
    let first = r.arrivals.first().unwrap().0;
    let last = r.arrivals.last().unwrap().0;
    assert!(first >= Duration::from_millis(200), "first token at {first:?}");
    assert!(last >= Duration::from_millis(200 + 20 * (n as u64 - 1)), "last token at {last:?} for {n} tokens");
}

#[test]
fn malformed_sse_is_one_bad_event_among_good_ones() {
    let s = server();
    s.push_fault(Endpoint::Chat, Fault::MalformedSse);
    let r = post_json(&s, "/v1/chat/completions", &ask("Hi", true));
    let data = r.sse_data();
    let bad: Vec<&String> = data.iter().filter(|d| *d != "[DONE]" && serde_json::from_str::<Value>(d).is_err()).collect();
    assert_eq!(bad.len(), 1, "{data:?}");
    assert_eq!(data.last().unwrap(), "[DONE]");
}
