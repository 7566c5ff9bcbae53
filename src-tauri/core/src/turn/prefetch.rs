//! Looking things up for a chat model that cannot call tools (a small model
//! on this computer): the question's request type, by the keyword rules,
//! says which built-in tool answers it (an order's status, the help pages),
//! and that tool runs before the model is asked; its call and result go into
//! the turn as if the model had asked, so the model answers from real data
//! instead of making it up, and the history and the inspector show it.

use super::Emitter;
use crate::event::Event;
use crate::provider::{ChatMessage, ToolCall};
use crate::request_type::{by_rules, RequestType};
use crate::tools::Tools;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The call the question implies, if a tool for it is offered.
pub fn implied_call(question: &str, tools: &Tools) -> Option<ToolCall> {
    let (name, arguments) = match by_rules(question) {
        RequestType::OrderStatus | RequestType::Complaint if tools.has("lookup_order") => {
            let arguments = match order_number(question) {
                Some(number) => json!({ "order_number": number }),
                None => json!({}),
            };
            ("lookup_order", arguments)
        }
        RequestType::GeneralInquiry if tools.has("search_faq") => ("search_faq", json!({ "question": question })),
        _ => return None,
    };
    Some(ToolCall { id: "call_prefetch_0".into(), name: name.into(), arguments: arguments.to_string() })
}

/// An order number as people write or say it: `A-1001`, `a1001`, or four or more digits.
pub fn order_number(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .map(|w| w.trim_matches('-'))
        .find(|w| {
            // One letter, maybe a dash, three or more digits; or four or more digits alone (not a date's "12-08").
            let mut chars = w.chars();
            let lettered = chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && {
                let rest = chars.as_str().trim_start_matches('-');
                rest.len() >= 3 && rest.chars().all(|c| c.is_ascii_digit())
            };
            lettered || (w.len() >= 4 && w.chars().all(|c| c.is_ascii_digit()))
        })
        .map(str::to_string)
}

/// Runs the implied call and adds it and its result to `messages`.
pub async fn prefetch(question: &str, tools: &Tools, messages: &mut Vec<ChatMessage>, emit: &Emitter, cancel: &CancellationToken) {
    let Some(call) = implied_call(question, tools) else { return };
    emit.send(Event::ToolStarted { turn: emit.turn, id: call.id.clone(), name: call.name.clone(), arguments: call.arguments.clone() });
    let run = tools.run(&call, cancel).await;
    super::agent::finished(emit, &run);
    messages.push(ChatMessage::assistant_calling("", vec![call]));
    messages.push(ChatMessage::tool_result(run.call.id, run.result));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_as_people_say_them() {
        assert_eq!(order_number("Where is my order A-1001?").as_deref(), Some("A-1001"));
        assert_eq!(order_number("주문번호 a1002 배송 언제 와요?").as_deref(), Some("a1002"));
        assert_eq!(order_number("1003번 주문이요").as_deref(), Some("1003"));
        assert_eq!(order_number("When will my order arrive?"), None);
        assert_eq!(order_number("I ordered 2 items on 12-08"), None);
    }
}
