//! Tool calls for a chat model on this computer, in the Hermes format the
//! Qwen2.5 models were trained on (and most small open models follow): the
//! tools' signatures go into the system message inside `<tools>`, the model
//! answers a call as `<tool_call>{"name": …, "arguments": {…}}</tool_call>`,
//! and a result comes back as the user's `<tool_response>`. llama.cpp's
//! template API takes only roles and text, so the prompt is written here and
//! the calls are read out of the streamed text here, holding back any text
//! that might be the start of a tag.

use crate::provider::{ChatMessage, Role, ToolCallDelta, ToolSpec};
use serde_json::{json, Value};

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";

/// The system message's tools block.
pub fn tools_block(tools: &[ToolSpec]) -> String {
    let signatures: Vec<String> = tools
        .iter()
        .map(|t| json!({ "type": "function", "function": { "name": t.name, "description": t.description, "parameters": t.parameters } }).to_string())
        .collect();
    format!(
        "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n\
         You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{}\n</tools>\n\n\
         For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n\
         <tool_call>\n{{\"name\": <function-name>, \"arguments\": <args-json-object>}}\n</tool_call>",
        signatures.join("\n")
    )
}

/// A message as the model reads it: calls and results in their tags.
pub fn message_text(m: &ChatMessage) -> (Role, String) {
    match m.role {
        Role::Assistant if !m.tool_calls.is_empty() => {
            let calls: Vec<String> = m
                .tool_calls
                .iter()
                .map(|c| {
                    let arguments = serde_json::from_str::<Value>(&c.arguments).unwrap_or(Value::String(c.arguments.clone()));
                    format!("{OPEN}\n{}\n{CLOSE}", json!({ "name": c.name, "arguments": arguments }))
                })
                .collect();
            let text = if m.content.trim().is_empty() { calls.join("\n") } else { format!("{}\n{}", m.content.trim(), calls.join("\n")) };
            (Role::Assistant, text)
        }
        Role::Tool => (Role::User, format!("<tool_response>\n{}\n</tool_response>", m.content)),
        role => (role, m.content.clone()),
    }
}

/// What came out of the model's text.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Call(ToolCallDelta),
}

/// Reads calls out of streamed text.
#[derive(Debug, Default)]
pub struct CallReader {
    /// Text not yet given out: the possible start of a tag, or a call's inside.
    held: String,
    in_call: bool,
    calls: u32,
}

impl CallReader {
    /// How many calls were read.
    pub fn calls(&self) -> u32 {
        self.calls
    }

    pub fn push(&mut self, text: &str) -> Vec<Piece> {
        self.held.push_str(text);
        let mut out = Vec::new();
        loop {
            if self.in_call {
                let Some(end) = self.held.find(CLOSE) else { return out };
                let inside: String = self.held.drain(..end + CLOSE.len()).collect();
                self.in_call = false;
                out.extend(self.call(&inside[..end]));
            } else if let Some(start) = self.held.find(OPEN) {
                let before: String = self.held.drain(..start + OPEN.len()).collect();
                push_text(&mut out, &before[..start]);
                self.in_call = true;
            } else {
                // Keep back what could still become "<tool_call>".
                let keep = (1..OPEN.len()).rev().find(|&n| {
                    self.held.len() >= n && self.held.is_char_boundary(self.held.len() - n) && OPEN.starts_with(&self.held[self.held.len() - n..])
                });
                let cut = self.held.len() - keep.unwrap_or(0);
                let text: String = self.held.drain(..cut).collect();
                push_text(&mut out, &text);
                return out;
            }
        }
    }

    /// The reply ended: what is held is text, or a call the model did not close.
    pub fn finish(&mut self) -> Vec<Piece> {
        let held = std::mem::take(&mut self.held);
        if self.in_call {
            self.in_call = false;
            return self.call(&held).into_iter().collect();
        }
        let mut out = Vec::new();
        push_text(&mut out, &held);
        out
    }

    /// One call's JSON; not a call (nothing to run) when it cannot be read.
    fn call(&mut self, inside: &str) -> Option<Piece> {
        let value: Value = serde_json::from_str(inside.trim()).ok()?;
        let name = value["name"].as_str()?.to_string();
        let arguments = match &value["arguments"] {
            Value::String(s) => s.clone(),
            Value::Null => "{}".to_string(),
            other => other.to_string(),
        };
        let index = self.calls;
        self.calls += 1;
        Some(Piece::Call(ToolCallDelta { index, id: Some(format!("call_local_{index}")), name: Some(name), arguments }))
    }
}

fn push_text(out: &mut Vec<Piece>, text: &str) {
    if !text.is_empty() {
        out.push(Piece::Text(text.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ToolCall;

    fn read(pieces: &[&str]) -> (String, Vec<(String, String)>) {
        let mut reader = CallReader::default();
        let mut out: Vec<Piece> = pieces.iter().flat_map(|p| reader.push(p)).collect();
        out.extend(reader.finish());
        let text = out.iter().filter_map(|p| if let Piece::Text(t) = p { Some(t.as_str()) } else { None }).collect();
        let calls =
            out.iter().filter_map(|p| if let Piece::Call(c) = p { Some((c.name.clone().unwrap(), c.arguments.clone())) } else { None }).collect();
        (text, calls)
    }

    #[test]
    fn calls_are_read_out_of_text_split_anywhere() {
        let reply =
            "잠시만요, 확인해 볼게요.\n<tool_call>\n{\"name\": \"lookup_order\", \"arguments\": {\"order_number\": \"A-1001\"}}\n</tool_call>";
        // Every split point, byte-wise where it is a char boundary, as tokens may fall.
        for cut in (1..reply.len()).filter(|&i| reply.is_char_boundary(i)) {
            let (text, calls) = read(&[&reply[..cut], &reply[cut..]]);
            assert_eq!(text.trim_end(), "잠시만요, 확인해 볼게요.", "cut at {cut}");
            assert_eq!(calls, [("lookup_order".to_string(), r#"{"order_number":"A-1001"}"#.to_string())], "cut at {cut}");
        }
    }

    #[test]
    fn text_that_only_looks_like_a_tag_is_text_and_a_broken_call_is_dropped() {
        assert_eq!(read(&["a < b and <tool", "s> are fine"]), ("a < b and <tools> are fine".into(), vec![]));
        assert_eq!(read(&["<tool_call>{not json}</tool_call>ok"]).0, "ok");
        // Two calls, one left open at the end (the model stopped there).
        let (_, calls) =
            read(&["<tool_call>{\"name\":\"a\",\"arguments\":{}}</tool_call>\n<tool_call>{\"name\":\"b\",\"arguments\":\"{\\\"x\\\":1}\"}"]);
        assert_eq!(calls, [("a".into(), "{}".into()), ("b".into(), r#"{"x":1}"#.into())]);
    }

    #[test]
    fn calls_and_results_are_written_as_the_model_was_taught() {
        let call = ToolCall { id: "c1".into(), name: "lookup_order".into(), arguments: r#"{"order_number":"A-1"}"#.into() };
        let (role, text) = message_text(&ChatMessage::assistant_calling("확인해 볼게요.", vec![call]));
        assert_eq!(role, Role::Assistant);
        assert_eq!(text, "확인해 볼게요.\n<tool_call>\n{\"arguments\":{\"order_number\":\"A-1\"},\"name\":\"lookup_order\"}\n</tool_call>");
        let (role, text) = message_text(&ChatMessage::tool_result("c1", r#"{"found":false}"#));
        assert_eq!((role, text.as_str()), (Role::User, "<tool_response>\n{\"found\":false}\n</tool_response>"));
        let spec = ToolSpec { name: "lookup_order".into(), description: "Looks an order up.".into(), parameters: json!({"type": "object"}) };
        let block = tools_block(&[spec]);
        assert!(block.contains("<tools>\n{\"function\":{\"description\":\"Looks an order up.\",\"name\":\"lookup_order\""), "{block}");
    }
}
