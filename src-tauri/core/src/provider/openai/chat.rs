//! `POST /chat/completions` with `stream: true`: the reply as SSE chunks,
//! ended by `data: [DONE]`. Chunks are read into typed structs that ignore
//! unknown fields and tolerate what OpenAI-compatible servers leave out
//! (`index`, `id`, `choices`), so text, tool-call pieces and the finish
//! reason all come through. Keep-alive comments, usage-only chunks and split
//! lines are taken in stride; a malformed event, an error event or a stream
//! that ends before it is finished is an error, never a hang.

use super::OpenAi;
use crate::provider::sse::SseParser;
use crate::provider::{ChatEvent, ChatMessage, ChatModel, ChatRequest, ErrorKind, FinishReason, ProviderError, ProviderStream, ToolCallDelta};
use async_trait::async_trait;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::VecDeque;

/// A message as the API takes it: `content` is null for an assistant message
/// that only calls tools, and tool calls nest their function.
fn wire_message(m: &ChatMessage) -> Value {
    let mut v = json!({ "role": m.role, "content": m.content });
    if !m.tool_calls.is_empty() {
        let calls: Vec<Value> = m
            .tool_calls
            .iter()
            .map(|c| json!({ "id": c.id, "type": "function", "function": { "name": c.name, "arguments": c.arguments } }))
            .collect();
        v["tool_calls"] = Value::Array(calls);
        if m.content.is_empty() {
            v["content"] = Value::Null;
        }
    }
    if let Some(id) = &m.tool_call_id {
        v["tool_call_id"] = json!(id);
    }
    v
}

/// The request body. OpenAI's own API wants `max_completion_tokens` (its
/// reasoning models refuse `max_tokens`, and it refuses both at once); the
/// other OpenAI-compatible servers know `max_tokens`.
fn body(request: &ChatRequest<'_>, openai_itself: bool) -> Value {
    let messages: Vec<Value> = request.messages.iter().map(wire_message).collect();
    let mut body = json!({ "model": request.model, "messages": messages, "stream": true });
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(n) = request.max_tokens {
        body[if openai_itself { "max_completion_tokens" } else { "max_tokens" }] = json!(n);
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| json!({ "type": "function", "function": { "name": t.name, "description": t.description, "parameters": t.parameters } }))
            .collect();
        body["tools"] = Value::Array(tools);
    }
    if let Some((name, schema)) = request.json_schema {
        body["response_format"] = json!({ "type": "json_schema", "json_schema": { "name": name, "strict": true, "schema": schema } });
    }
    body
}

#[async_trait]
impl ChatModel for OpenAi {
    /// OpenAI and the servers that copy it (Ollama, vLLM, llama.cpp's server) take `response_format`.
    fn structured_output(&self) -> bool {
        true
    }

    async fn stream_chat(&self, request: ChatRequest<'_>) -> Result<ProviderStream<ChatEvent>, ProviderError> {
        let bytes = serde_json::to_vec(&body(&request, self.is_openai())).expect("a chat request serializes");
        let len = bytes.len();
        let response = self.send(self.post("chat/completions").header("content-type", "application/json").body(bytes), len).await?;
        let client = self.clone();
        let state =
            // Fused: the body is polled once more after it ended, to tell `[DONE]` from a cut.
            Reader { body: Box::pin(response.bytes_stream().fuse()), parser: SseParser::new(), pending: VecDeque::new(), finish: None, done: false, client };
        Ok(Box::pin(futures_util::stream::unfold(state, |mut s| async move {
            let item = s.next_event().await?;
            Some((item, s))
        })))
    }
}

struct Reader {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    parser: SseParser,
    pending: VecDeque<ChatEvent>,
    /// The finish reason, once a chunk gave it; `Done` carries it at the end.
    finish: Option<FinishReason>,
    done: bool,
    client: OpenAi,
}

impl Reader {
    /// The next event, `None` after `Done` or an error.
    async fn next_event(&mut self) -> Option<Result<ChatEvent, ProviderError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            let events = match self.body.next().await {
                Some(Ok(bytes)) => {
                    self.client.count_down(bytes.len());
                    self.parser.push(&bytes)
                }
                Some(Err(e)) => return self.fail(self.client.transport_error(&e)),
                None => match self.parser.finish() {
                    Ok(Some(last)) => Ok(vec![last]),
                    // Some servers end a finished reply without `[DONE]`.
                    Ok(None) if self.finish.is_some() => return self.end(),
                    Ok(None) => {
                        let error = ProviderError::new(ErrorKind::Network, "The reply stream ended before it was complete.");
                        return self.fail(error);
                    }
                    Err(e) => Err(e),
                },
            };
            let events = match events {
                Ok(events) => events,
                Err(e) => return self.fail(ProviderError::bad_response(e)),
            };
            for event in events {
                match parse_chunk(&event.data) {
                    Ok(Parsed::Done) => return self.end(),
                    Ok(Parsed::Chunk { events, finish }) => {
                        self.pending.extend(events);
                        if finish.is_some() {
                            self.finish = finish;
                        }
                    }
                    Err(e) => return self.fail(e),
                }
            }
        }
    }

    fn end(&mut self) -> Option<Result<ChatEvent, ProviderError>> {
        self.done = true;
        self.pending.push_back(ChatEvent::Done { finish_reason: self.finish.take() });
        self.pending.pop_front().map(Ok)
    }

    fn fail(&mut self, error: ProviderError) -> Option<Result<ChatEvent, ProviderError>> {
        self.done = true;
        self.pending.clear();
        Some(Err(error))
    }
}

/// One streamed chunk, as far as Sori reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Chunk {
    choices: Option<Vec<Choice>>,
    /// An error in the stream: OpenAI's `{"message": …}`, or a bare string from some servers.
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Choice {
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Delta {
    content: Option<String>,
    /// A refusal is what the model says instead of an answer: it is spoken.
    refusal: Option<String>,
    tool_calls: Option<Vec<ToolCallChunk>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ToolCallChunk {
    index: Option<u32>,
    id: Option<String>,
    function: Option<FunctionChunk>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FunctionChunk {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Debug, PartialEq)]
enum Parsed {
    /// The events of a chunk, and its finish reason if it gave one.
    Chunk { events: Vec<ChatEvent>, finish: Option<FinishReason> },
    /// `[DONE]`.
    Done,
}

/// One SSE data payload.
fn parse_chunk(data: &str) -> Result<Parsed, ProviderError> {
    if data.trim() == "[DONE]" {
        return Ok(Parsed::Done);
    }
    let chunk: Chunk = serde_json::from_str(data).map_err(|_| ProviderError::bad_response("a streamed chunk is not valid JSON"))?;
    if let Some(error) = chunk.error.filter(|e| !e.is_null()) {
        let message = error.as_str().or(error["message"].as_str()).unwrap_or("unknown error").to_string();
        return Err(ProviderError::new(ErrorKind::Server, format!("The provider stopped the reply: {message}")));
    }
    let mut events = Vec::new();
    let mut finish = None;
    // Sori asks for one reply (n = 1): the first choice is it.
    if let Some(choice) = chunk.choices.unwrap_or_default().into_iter().next() {
        let delta = choice.delta.unwrap_or_default();
        for text in [delta.content, delta.refusal].into_iter().flatten().filter(|t| !t.is_empty()) {
            events.push(ChatEvent::Text(text));
        }
        for (position, call) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
            let function = call.function.unwrap_or_default();
            events.push(ChatEvent::ToolCallDelta(ToolCallDelta {
                index: call.index.unwrap_or(position as u32),
                id: call.id,
                name: function.name,
                arguments: function.arguments.unwrap_or_default(),
            }));
        }
        finish = choice.finish_reason.as_deref().map(FinishReason::parse);
    }
    Ok(Parsed::Chunk { events, finish })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Role, ToolCall};

    fn chunk(events: Vec<ChatEvent>, finish: Option<FinishReason>) -> Result<Parsed, ProviderError> {
        Ok(Parsed::Chunk { events, finish })
    }

    #[test]
    fn chunks_parse_to_text_tool_calls_finish_or_errors() {
        let text = r#"{"choices":[{"index":0,"delta":{"content":"안녕"},"finish_reason":null}],"new_field":{"x":1}}"#;
        assert_eq!(parse_chunk(text), chunk(vec![ChatEvent::Text("안녕".into())], None));
        assert_eq!(parse_chunk(r#"{"choices":[],"usage":{"total_tokens":3}}"#), chunk(vec![], None));
        assert_eq!(parse_chunk(r#"{"choices":null}"#), chunk(vec![], None));
        assert_eq!(parse_chunk(r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#), chunk(vec![], None));
        assert_eq!(parse_chunk(r#"{"choices":[{"delta":{},"finish_reason":"length"}]}"#), chunk(vec![], Some(FinishReason::Length)));
        assert_eq!(parse_chunk(r#"{"choices":[{"delta":null,"finish_reason":"content_filter"}]}"#), chunk(vec![], Some(FinishReason::ContentFilter)));
        assert_eq!(parse_chunk("[DONE]"), Ok(Parsed::Done));
        assert_eq!(parse_chunk(r#"{"id": "x", "choices": [{"#).unwrap_err().kind, ErrorKind::BadResponse);
        assert_eq!(parse_chunk(r#"{"error":{"message":"overloaded"}}"#).unwrap_err().kind, ErrorKind::Server);
        let bare = parse_chunk(r#"{"error":"model crashed"}"#).unwrap_err();
        assert_eq!((bare.kind, bare.message.contains("model crashed")), (ErrorKind::Server, true));
    }

    #[test]
    fn tool_call_pieces_come_through_even_without_index_or_id() {
        let first = r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup_order","arguments":""}}]}}]}"#;
        let expected = ToolCallDelta { index: 0, id: Some("call_1".into()), name: Some("lookup_order".into()), arguments: String::new() };
        assert_eq!(parse_chunk(first), chunk(vec![ChatEvent::ToolCallDelta(expected)], None));
        // No index and no id (Gemini's and some proxies' way): the position stands in.
        let bare = r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{}"}},{"function":{"name":"b","arguments":"{"}}]},"finish_reason":"tool_calls"}]}"#;
        let Ok(Parsed::Chunk { events, finish }) = parse_chunk(bare) else { panic!() };
        assert_eq!(finish, Some(FinishReason::ToolCalls));
        assert_eq!(events[1], ChatEvent::ToolCallDelta(ToolCallDelta { index: 1, id: None, name: Some("b".into()), arguments: "{".into() }));
    }

    #[test]
    fn messages_go_out_in_the_apis_shape() {
        let call = ToolCall { id: "call_1".into(), name: "lookup_order".into(), arguments: "{}".into() };
        let messages = [
            ChatMessage::new(Role::User, "주문 어디 있어요?"),
            ChatMessage::assistant_calling("", vec![call]),
            ChatMessage::tool_result("call_1", "{\"status\":\"shipped\"}"),
        ];
        let mut request = ChatRequest::new("m", &messages);
        request.max_tokens = Some(300);
        let b = body(&request, false);
        assert_eq!(b["messages"][1]["content"], Value::Null);
        assert_eq!(b["messages"][1]["tool_calls"][0]["function"]["name"], "lookup_order");
        assert_eq!(b["messages"][2]["role"], "tool");
        assert_eq!(b["messages"][2]["tool_call_id"], "call_1");
        assert_eq!((b["max_tokens"].clone(), b.get("max_completion_tokens")), (json!(300), None));
        let b = body(&request, true);
        assert_eq!((b["max_completion_tokens"].clone(), b.get("max_tokens")), (json!(300), None));
    }
}
