//! What the server says: transcripts chosen per uploaded audio (by hash),
//! predictable chat replies in Korean and English, tool calls, and the
//! tokenizer that paces streamed replies (benchmarks count with it too).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Hex SHA-256 of some bytes: the key for choosing a transcript per audio.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

/// Whether a text is Korean (has any Hangul).
pub fn is_korean(text: &str) -> bool {
    text.chars().any(is_hangul)
}

/// Splits text into model-like tokens: a word with its leading space, Hangul in
/// runs of up to two syllables, each punctuation mark alone. Concatenating the
/// tokens gives back the text exactly.
/// How many of the testkit's tokens of `text` it takes to have written
/// `prefix` (a chunk or sentence `text` starts with): what a latency bound
/// counts to the first words spoken.
pub fn tokens_through(text: &str, prefix: &str) -> usize {
    let mut seen = String::new();
    let tokens = tokenize(text);
    for (i, t) in tokens.iter().enumerate() {
        seen.push_str(t);
        if seen.trim_end().len() >= prefix.trim().len() {
            return i + 1;
        }
    }
    tokens.len()
}

pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut hangul_run = 0;
    let flush = |current: &mut String, tokens: &mut Vec<String>| {
        if !current.is_empty() {
            tokens.push(std::mem::take(current));
        }
    };
    for c in text.chars() {
        let starts_new = if c.is_whitespace() {
            !current.chars().all(char::is_whitespace)
        } else if is_hangul(c) {
            let prev_is_hangul = current.chars().last().is_some_and(is_hangul);
            !prev_is_hangul && !current.chars().all(char::is_whitespace) || prev_is_hangul && hangul_run >= 2
        } else if c.is_alphanumeric() {
            current.chars().last().is_some_and(|p| (!p.is_alphanumeric() || is_hangul(p)) && !p.is_whitespace())
        } else {
            !current.chars().all(char::is_whitespace)
        };
        if starts_new {
            flush(&mut current, &mut tokens);
            hangul_run = 0;
        }
        if is_hangul(c) {
            hangul_run += 1;
        }
        current.push(c);
    }
    flush(&mut current, &mut tokens);
    tokens
}

/// The default transcript when an upload has none registered.
pub fn default_transcript(language: Option<&str>) -> &'static str {
    match language {
        Some(l) if l.starts_with("ko") => "주문한 상품이 언제 도착하나요?",
        _ => "When will my order arrive?",
    }
}

/// A reply the chat endpoint will give.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Text(String),
    /// Tool calls, after the words said first (the preamble, maybe empty).
    Calls {
        preamble: String,
        calls: Vec<Call>,
    },
}

/// One tool call as the model writes it (`arguments` need not be JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// A scripted tool turn: the user's words that start it, the preamble, and
/// the calls (name, raw arguments).
type ToolRule = (String, String, Vec<(String, String)>);

/// Registered transcripts and reply rules.
#[derive(Debug, Default, Clone)]
pub struct Script {
    transcripts: HashMap<String, String>,
    replies: Vec<(String, String)>,
    tool_replies: Vec<ToolRule>,
    tool_answers: Vec<(String, String)>,
    structured: Vec<(String, Value)>,
}

impl Script {
    /// The transcript for uploads whose bytes (or decoded samples) hash to `sha256`.
    pub fn set_transcript(&mut self, sha256: impl Into<String>, text: impl Into<String>) {
        self.transcripts.insert(sha256.into(), text.into());
    }

    pub fn transcript(&self, sha256: &str) -> Option<&str> {
        self.transcripts.get(sha256).map(String::as_str)
    }

    /// Replies `reply` whenever the last user message contains `needle`; later
    /// rules win over earlier ones.
    pub fn add_reply(&mut self, needle: impl Into<String>, reply: impl Into<String>) {
        self.replies.push((needle.into(), reply.into()));
    }

    /// When the last user message contains `needle` and tools are offered,
    /// says `preamble` and calls `calls` (name, raw arguments) in parallel,
    /// whatever their names; later rules win.
    pub fn add_tool_reply(&mut self, needle: impl Into<String>, preamble: impl Into<String>, calls: &[(&str, &str)]) {
        let calls = calls.iter().map(|(n, a)| (n.to_string(), a.to_string())).collect();
        self.tool_replies.push((needle.into(), preamble.into(), calls));
    }

    /// After tool results, when the user's words contain `needle`: answers
    /// `template` with each `{key}` filled from the results (the first value
    /// of that key anywhere in them), as a model reads what it looked up.
    pub fn add_tool_answer(&mut self, needle: impl Into<String>, template: impl Into<String>) {
        self.tool_answers.push((needle.into(), template.into()));
    }

    /// Answers a structured-output request (`response_format` of type
    /// `json_schema`) whose last user message contains `needle` with `value`.
    pub fn add_structured_reply(&mut self, needle: impl Into<String>, value: Value) {
        self.structured.push((needle.into(), value));
    }

    /// The reply to a chat request body (messages, tools, tool_choice).
    pub fn reply(&self, request: &Value) -> Reply {
        let messages = request["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
        let last = messages.last();
        if last.is_some_and(|m| m["role"] == "tool") {
            // Every result of the last round of calls, in order.
            let round = messages.iter().rev().take_while(|m| m["role"] == "tool").collect::<Vec<_>>();
            let result = round.iter().rev().map(|m| text_of(&m["content"])).collect::<Vec<_>>().join(" ");
            let user = messages.iter().rev().find(|m| m["role"] == "user").map(|m| text_of(&m["content"])).unwrap_or_default();
            if let Some((_, template)) = self.tool_answers.iter().rev().find(|(needle, _)| user.contains(needle.as_str())) {
                let results: Vec<Value> = round.iter().filter_map(|m| serde_json::from_str(&text_of(&m["content"])).ok()).collect();
                return Reply::Text(fill(template, &results));
            }
            let korean = is_korean(&user);
            return Reply::Text(if korean {
                format!("조회 결과를 알려 드릴게요. {result}")
            } else {
                format!("Here is what I found. {result}")
            });
        }
        let user = messages.iter().rev().find(|m| m["role"] == "user").map(|m| text_of(&m["content"])).unwrap_or_default();
        if request["response_format"]["type"] == "json_schema" {
            let scripted = self.structured.iter().rev().find(|(needle, _)| user.contains(needle.as_str())).map(|(_, v)| v.clone());
            let value = scripted.unwrap_or_else(|| instance_of(&request["response_format"]["json_schema"]["schema"]));
            return Reply::Text(value.to_string());
        }
        if let Some(calls) = self.scripted_calls(request, &user) {
            return calls;
        }
        if let Some(call) = self.tool_call(request, &user) {
            return call;
        }
        if let Some((_, reply)) = self.replies.iter().rev().find(|(needle, _)| user.contains(needle.as_str())) {
            return Reply::Text(reply.clone());
        }
        Reply::Text(default_reply(&user))
    }

    /// A call to the forced function, or to the first offered one whose name
    /// (with `_` read as a space) the user said.
    fn tool_call(&self, request: &Value, user: &str) -> Option<Reply> {
        let tools = request["tools"].as_array()?;
        let choice = &request["tool_choice"];
        if choice == "none" {
            return None;
        }
        let forced = choice["function"]["name"].as_str();
        let lower = user.to_lowercase();
        let tool = tools.iter().find(|t| {
            let name = t["function"]["name"].as_str().unwrap_or_default();
            forced == Some(name) || (forced.is_none() && !name.is_empty() && lower.contains(&name.replace('_', " ").to_lowercase()))
        })?;
        let name = tool["function"]["name"].as_str()?.to_string();
        let mut args = serde_json::Map::new();
        let params = &tool["function"]["parameters"];
        for key in params["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let value = match params["properties"][key]["type"].as_str() {
                Some("number") | Some("integer") => json!(1),
                Some("boolean") => json!(true),
                _ => json!(user),
            };
            args.insert(key.to_string(), value);
        }
        let id = call_id(&name, user, 0);
        Some(Reply::Calls { preamble: String::new(), calls: vec![Call { id, name, arguments: Value::Object(args).to_string() }] })
    }

    /// The scripted calls for what the user said, when tools are offered.
    fn scripted_calls(&self, request: &Value, user: &str) -> Option<Reply> {
        if request["tools"].as_array().is_none_or(|t| t.is_empty()) || request["tool_choice"] == "none" {
            return None;
        }
        let (_, preamble, calls) = self.tool_replies.iter().rev().find(|(needle, _, _)| user.contains(needle.as_str()))?;
        let calls = calls.iter().enumerate().map(|(i, (name, arguments))| Call {
            id: call_id(name, user, i),
            name: name.clone(),
            arguments: arguments.clone(),
        });
        Some(Reply::Calls { preamble: preamble.clone(), calls: calls.collect() })
    }
}

/// `template` with each `{key}` replaced by the first value of `key` found in `values`.
fn fill(template: &str, values: &[Value]) -> String {
    fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
        match v {
            Value::Object(map) => map.get(key).or_else(|| map.values().find_map(|v| find(v, key))),
            Value::Array(items) => items.iter().find_map(|v| find(v, key)),
            _ => None,
        }
    }
    let mut out = template.to_string();
    while let Some(start) = out.find('{') {
        let Some(len) = out[start..].find('}') else { break };
        let key = out[start + 1..start + len].to_string();
        let value = values.iter().find_map(|v| find(v, &key)).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        out.replace_range(start..start + len + 1, &value.unwrap_or_else(|| format!("({key}?)")));
    }
    out
}

fn call_id(name: &str, user: &str, index: usize) -> String {
    format!("call_{}", &sha256_hex(format!("{name}{user}{index}").as_bytes())[..24])
}

/// A value that satisfies a simple JSON Schema: each required property's
/// first enum value, or an empty string, zero, false, empty list.
fn instance_of(schema: &Value) -> Value {
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match schema["type"].as_str() {
        Some("object") => {
            let props = schema["properties"].as_object().cloned().unwrap_or_default();
            Value::Object(props.iter().map(|(k, v)| (k.clone(), instance_of(v))).collect())
        }
        Some("array") => json!([]),
        Some("number") | Some("integer") => json!(0),
        Some("boolean") => json!(false),
        _ => json!(""),
    }
}

/// Message content as plain text: a string, or the text parts of an array.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" "),
        _ => String::new(),
    }
}

/// The friendly customer-service answer, in the user's language, quoting them.
pub fn default_reply(user: &str) -> String {
    let quoted: String = user.trim().chars().take(80).collect();
    if is_korean(user) {
        format!(
            "네, 고객님, 문의 주셔서 감사합니다. 말씀하신 내용은 \"{quoted}\"로 확인했어요. \
             주문하신 상품은 내일 오후에 도착할 예정입니다. 더 궁금하신 점이 있으면 편하게 말씀해 주세요."
        )
    } else {
        format!(
            "Sure, thanks for reaching out. I heard: \"{quoted}\". \
             Your order is on its way and should arrive tomorrow afternoon. Is there anything else I can help you with?"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_rebuild_the_text() {
        for text in ["Hello, world! It's 3.5 km.", "네, 고객님. 주문하신 상품은 내일 도착합니다.", "  mixed 한국어 text  "] {
            assert_eq!(tokenize(text).concat(), text);
        }
    }

    #[test]
    fn tokens_look_like_a_models() {
        assert_eq!(tokenize("Hello, big world."), ["Hello", ",", " big", " world", "."]);
        assert_eq!(tokenize("고객님, 안녕하세요"), ["고객", "님", ",", " 안녕", "하세", "요"]);
    }

    #[test]
    fn replies_follow_language_rules_and_tools() {
        let mut script = Script::default();
        let ask = |text: &str| json!({"messages": [{"role": "system", "content": "x"}, {"role": "user", "content": text}]});
        assert!(matches!(script.reply(&ask("배송 언제 와요?")), Reply::Text(t) if t.starts_with("네, 고객님")));
        assert!(matches!(script.reply(&ask("Where is it?")), Reply::Text(t) if t.starts_with("Sure")));
        script.add_reply("refund", "Your refund is on its way.");
        assert_eq!(script.reply(&ask("I want a refund")), Reply::Text("Your refund is on its way.".into()));

        let mut req = ask("please check order status for me");
        req["tools"] = json!([{"type": "function", "function": {"name": "order_status",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}]);
        match script.reply(&req) {
            Reply::Calls { preamble, calls } => {
                assert_eq!((preamble.as_str(), calls.len(), calls[0].name.as_str()), ("", 1, "order_status"));
                assert_eq!(serde_json::from_str::<Value>(&calls[0].arguments).unwrap()["query"], "please check order status for me");
            }
            other => panic!("expected a tool call, got {other:?}"),
        }
        script.add_tool_reply("two things", "잠시만요.", &[("order_status", "{}"), ("nope", "{not json")]);
        req["messages"][1]["content"] = json!("two things please");
        match script.reply(&req) {
            Reply::Calls { preamble, calls } => {
                assert_eq!(preamble, "잠시만요.");
                let names: Vec<_> = calls.iter().map(|c| (c.name.as_str(), c.arguments.as_str())).collect();
                assert_eq!(names, [("order_status", "{}"), ("nope", "{not json")]);
                assert_ne!(calls[0].id, calls[1].id);
            }
            other => panic!("expected calls, got {other:?}"),
        }
        req["tool_choice"] = json!("none");
        assert!(matches!(script.reply(&req), Reply::Text(_)));
    }

    #[test]
    fn a_tool_answer_reads_its_values_from_the_results() {
        let mut script = Script::default();
        script.add_tool_answer("도착", "{number}은 {expected_on}에 도착해요. {missing}");
        let req = json!({"messages": [{"role": "user", "content": "언제 도착해요?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "lookup_order", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c", "content": r#"{"found":true,"recent_orders":[{"number":"A-1001","expected_on":"2026-12-08"}]}"#}]});
        assert_eq!(script.reply(&req), Reply::Text("A-1001은 2026-12-08에 도착해요. (missing?)".into()));
    }

    #[test]
    fn structured_requests_get_a_scripted_or_valid_json_value() {
        let mut script = Script::default();
        let schema = json!({"type": "object", "properties": {"kind": {"type": "string", "enum": ["order_status", "other"]}}, "required": ["kind"]});
        let req = json!({"messages": [{"role": "user", "content": "I'm angry"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": schema}}});
        assert_eq!(script.reply(&req), Reply::Text(r#"{"kind":"order_status"}"#.into()));
        script.add_structured_reply("angry", json!({"kind": "other"}));
        assert_eq!(script.reply(&req), Reply::Text(r#"{"kind":"other"}"#.into()));
    }
}
