//! `POST /chat/completions` with `stream: true`: the reply as SSE chunks
//! (`choices[0].delta.content`), ended by `data: [DONE]`. Keep-alive comments,
//! usage-only chunks and split lines are taken in stride; a malformed event, an
//! error event or a stream that ends without `[DONE]` is an error, never a hang.

use super::OpenAi;
use crate::provider::sse::SseParser;
use crate::provider::{ChatEvent, ChatModel, ChatRequest, ErrorKind, ProviderError, ProviderStream};
use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::VecDeque;

#[async_trait]
impl ChatModel for OpenAi {
    async fn stream_chat(&self, request: ChatRequest<'_>) -> Result<ProviderStream<ChatEvent>, ProviderError> {
        let mut body = json!({ "model": request.model, "messages": request.messages, "stream": true });
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        let bytes = serde_json::to_vec(&body).expect("a chat request serializes");
        let len = bytes.len();
        let response = self
            .send(self.post("chat/completions").header("content-type", "application/json").body(bytes), len)
            .await?;
        let client = self.clone();
        let state = Reader { body: Box::pin(response.bytes_stream()), parser: SseParser::new(), pending: VecDeque::new(), done: false, client };
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
                    Ok(Some(e)) => {
                        if matches!(e, ChatEvent::Done { .. }) {
                            self.pending.push_back(e);
                            self.done = true;
                            break;
                        }
                        self.pending.push_back(e);
                    }
                    Ok(None) => {}
                    Err(e) => return self.fail(e),
                }
            }
        }
    }

    fn fail(&mut self, error: ProviderError) -> Option<Result<ChatEvent, ProviderError>> {
        self.done = true;
        self.pending.clear();
        Some(Err(error))
    }
}

/// One SSE data payload: text, the end, nothing of interest, or an error.
fn parse_chunk(data: &str) -> Result<Option<ChatEvent>, ProviderError> {
    if data.trim() == "[DONE]" {
        return Ok(Some(ChatEvent::Done { finish_reason: None }));
    }
    let value: Value = serde_json::from_str(data).map_err(|_| ProviderError::bad_response("a streamed chunk is not valid JSON"))?;
    if let Some(error) = value.get("error") {
        let message = error["message"].as_str().unwrap_or("unknown error");
        return Err(ProviderError::new(ErrorKind::Server, format!("The provider stopped the reply: {message}")));
    }
    let choice = &value["choices"][0];
    if let Some(text) = choice["delta"]["content"].as_str().filter(|t| !t.is_empty()) {
        return Ok(Some(ChatEvent::Text(text.to_string())));
    }
    // The finish chunk is not the end of the stream: `[DONE]` (and maybe a
    // usage chunk) still follow, so it is noted but not acted on.
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_parse_to_text_done_or_errors() {
        let text = r#"{"choices":[{"index":0,"delta":{"content":"안녕"},"finish_reason":null}]}"#;
        assert_eq!(parse_chunk(text), Ok(Some(ChatEvent::Text("안녕".into()))));
        assert_eq!(parse_chunk(r#"{"choices":[],"usage":{"total_tokens":3}}"#), Ok(None));
        assert_eq!(parse_chunk(r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#), Ok(None));
        assert_eq!(parse_chunk("[DONE]"), Ok(Some(ChatEvent::Done { finish_reason: None })));
        assert_eq!(parse_chunk(r#"{"id": "x", "choices": [{"#).unwrap_err().kind, ErrorKind::BadResponse);
        assert_eq!(parse_chunk(r#"{"error":{"message":"overloaded"}}"#).unwrap_err().kind, ErrorKind::Server);
    }
}
