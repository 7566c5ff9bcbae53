//! What the customer wants, per turn: an order's status, a general
//! inquiry, a complaint, or something else, as Dialogflow's intents sort a
//! contact center's calls. A chat model that keeps to a JSON schema is asked
//! alongside the reply (never before it); otherwise, or when it fails, the
//! tool the agent chose tells, and keyword rules in Korean and English are
//! the last word. The result is a chip in the window, a field in history
//! and exports, and a count in the history view.

use crate::provider::{ChatEvent, ChatMessage, ChatModel, ChatRequest, Role};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::{Arc, LazyLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    OrderStatus,
    GeneralInquiry,
    Complaint,
    Other,
}

impl RequestType {
    pub const ALL: [RequestType; 4] = [RequestType::OrderStatus, RequestType::GeneralInquiry, RequestType::Complaint, RequestType::Other];

    pub fn name(self) -> &'static str {
        match self {
            RequestType::OrderStatus => "order_status",
            RequestType::GeneralInquiry => "general_inquiry",
            RequestType::Complaint => "complaint",
            RequestType::Other => "other",
        }
    }
}

/// Who decided a turn's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassifiedBy {
    Model,
    Tools,
    Rules,
}

/// The structured-output schema the model answers to.
pub static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "type": "object",
        "properties": { "request_type": { "type": "string", "enum": RequestType::ALL.map(RequestType::name) } },
        "required": ["request_type"],
        "additionalProperties": false
    })
});

const INSTRUCTIONS: &str = "Classify the customer's message to a shop's customer service. \
order_status: where an order is, when it arrives, its delivery or tracking. \
general_inquiry: questions about policies, refunds, returns, exchanges, payment, membership or products. \
complaint: the customer is unhappy or reports a problem (damaged, wrong or late item, bad service). \
other: greetings, thanks, small talk, anything else. The message may be Korean or English.";

/// Asks `chat` for the type of `text`; `None` if it failed or said something else.
pub async fn by_model(chat: Arc<dyn ChatModel>, model: String, text: String) -> Option<RequestType> {
    let messages = [ChatMessage::new(Role::System, INSTRUCTIONS), ChatMessage::new(Role::User, text)];
    let request = ChatRequest {
        temperature: Some(0.0),
        max_tokens: Some(20),
        json_schema: Some(("request_type", &SCHEMA)),
        ..ChatRequest::new(&model, &messages)
    };
    let mut stream = chat.stream_chat(request).await.ok()?;
    let mut reply = String::new();
    while let Some(event) = stream.next().await {
        match event.ok()? {
            ChatEvent::Text(t) => reply.push_str(&t),
            ChatEvent::Done { .. } => break,
            ChatEvent::ToolCallDelta(_) => {}
        }
    }
    let value: Value = serde_json::from_str(reply.trim()).ok()?;
    serde_json::from_value(value["request_type"].clone()).ok()
}

/// The type the agent's tools imply, from the first that tells.
pub fn by_tools<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<RequestType> {
    names.into_iter().find_map(|name| match name {
        "lookup_order" => Some(RequestType::OrderStatus),
        "search_faq" => Some(RequestType::GeneralInquiry),
        "file_complaint" => Some(RequestType::Complaint),
        _ => None,
    })
}

/// Word starts that mark each type (lowercase). Korean is matched inside
/// words (its endings vary); English as word starts.
const COMPLAINT: &[&str] = &[
    "불만",
    "화가",
    "화나",
    "짜증",
    "최악",
    "실망",
    "고장",
    "파손",
    "깨져",
    "깨졌",
    "불량",
    "엉망",
    "항의",
    "민원",
    "아직도",
    "왜 이렇게",
    "잘못 왔",
    "잘못 배송",
    "누락",
    "너무 늦",
    "complain",
    "angry",
    "upset",
    "terrible",
    "awful",
    "worst",
    "unacceptable",
    "broken",
    "damaged",
    "defective",
    "disappoint",
    "ridiculous",
    "never arrived",
    "still hasn't",
    "still haven't",
    "wrong item",
    "missing",
    "frustrat",
];
const ORDER: &[&str] = &[
    "주문",
    "배송",
    "도착",
    "언제 와",
    "언제 오",
    "택배",
    "송장",
    "출고",
    "발송",
    "order",
    "deliver",
    "arriv",
    "shipping",
    "shipped",
    "tracking",
    "package",
    "parcel",
];
const INQUIRY: &[&str] = &[
    "환불",
    "반품",
    "교환",
    "정책",
    "어떻게",
    "방법",
    "가능",
    "되나요",
    "있나요",
    "영업",
    "회원",
    "등급",
    "포인트",
    "쿠폰",
    "결제",
    "비용",
    "얼마",
    "알려",
    "refund",
    "return",
    "exchange",
    "policy",
    "how do",
    "how can",
    "how long",
    "can i",
    "is it possible",
    "do you",
    "hours",
    "membership",
    "points",
    "coupon",
    "payment",
    "price",
    "cost",
    "what is",
    "tell me",
];

fn mentions(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| {
        if w.is_ascii() {
            // An English word start: "order" in "orders", not in "border".
            text.match_indices(w).any(|(i, _)| i == 0 || !text[..i].chars().next_back().is_some_and(char::is_alphanumeric))
        } else {
            text.contains(w)
        }
    })
}

/// The type by keyword rules: a complaint first (an angry question about an
/// order is a complaint), then an order, then an inquiry.
pub fn by_rules(text: &str) -> RequestType {
    let text = text.to_lowercase();
    if mentions(&text, COMPLAINT) {
        RequestType::Complaint
    } else if mentions(&text, ORDER) {
        RequestType::OrderStatus
    } else if mentions(&text, INQUIRY) {
        RequestType::GeneralInquiry
    } else {
        RequestType::Other
    }
}

/// The model's answer when there is one; else the rules' complaint, the
/// tools' hint, and the rules, in that order.
pub fn decide(model: Option<RequestType>, tools: Option<RequestType>, text: &str) -> (RequestType, ClassifiedBy) {
    let rules = by_rules(text);
    match (model, tools) {
        (Some(kind), _) => (kind, ClassifiedBy::Model),
        (None, Some(kind)) if rules != RequestType::Complaint => (kind, ClassifiedBy::Tools),
        _ => (rules, ClassifiedBy::Rules),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_wins_then_a_complaint_then_the_tools() {
        let late = "배송이 너무 늦어요, 최악이에요.";
        assert_eq!(decide(Some(RequestType::OrderStatus), None, late), (RequestType::OrderStatus, ClassifiedBy::Model));
        assert_eq!(decide(None, Some(RequestType::OrderStatus), late), (RequestType::Complaint, ClassifiedBy::Rules));
        assert_eq!(decide(None, Some(RequestType::GeneralInquiry), "Hi there"), (RequestType::GeneralInquiry, ClassifiedBy::Tools));
        assert_eq!(decide(None, None, "Hi there"), (RequestType::Other, ClassifiedBy::Rules));
        assert_eq!(by_tools(["echo", "lookup_order"]), Some(RequestType::OrderStatus));
    }

    #[test]
    fn english_words_match_at_their_start() {
        assert_eq!(by_rules("Where are my orders?"), RequestType::OrderStatus);
        assert_eq!(by_rules("The border is nice"), RequestType::Other);
    }
}
