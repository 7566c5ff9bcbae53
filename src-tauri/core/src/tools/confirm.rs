//! Confirming a tool that changes something (a complaint filed, a callback
//! booked): the call is held, not run, and the model is told to read the
//! request back and ask. The user's next words (or a click on the window's
//! card) settle it: yes runs the held call, no cancels it, anything else
//! drops it. Yes and no are read by keyword rules in Korean and English, so
//! the decision never hangs on what a model makes of "네".

use crate::provider::ToolCall;
use serde_json::json;

/// What the model is told instead of a result while the call waits.
pub fn held_result(call: &ToolCall) -> String {
    json!({
        "status": "awaiting_confirmation",
        "tool": call.name,
        "instruction": "Nothing is done yet. Say in one short sentence what you are about to do and ask the customer to confirm with yes or no. \
            It is done only after they say yes."
    })
    .to_string()
}

/// Whether a tool message is a held call's stand-in result.
pub fn is_held_result(content: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(content).is_ok_and(|v| v["status"] == "awaiting_confirmation")
}

/// What the model is told when the customer said no.
pub fn declined_result(call: &ToolCall) -> String {
    json!({ "status": "cancelled", "tool": call.name, "reason": "The customer said no, so nothing was done." }).to_string()
}

/// Words that say yes; `~` marks a word start (Korean endings vary), the
/// rest match whole ("어" is not "어디", "no" is not "nothing").
const YES: &[&str] = &[
    "네",
    "넵",
    "예",
    "응",
    "어",
    "좋아~",
    "좋습니다",
    "그래~",
    "그렇게",
    "맞아~",
    "맞습니다",
    "접수~",
    "진행~",
    "부탁~",
    "해주세요",
    "해",
    "yes",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "please",
    "go",
    "confirm",
    "confirmed",
    "correct",
    "right",
    "do",
];

/// Words that say no; they win over yes ("아니요, 괜찮아요").
const NO: &[&str] = &[
    "아니~", "아뇨", "싫어~", "취소~", "하지", "됐어~", "괜찮~", "그만~", "no", "nope", "nah", "don't", "dont", "cancel", "stop", "never", "not",
    "wait",
];

/// Words that count as the answer: yes and no come first.
const FIRST_WORDS: usize = 3;

/// Whether `text` says yes (`Some(true)`), no (`Some(false)`), or neither.
pub fn decide(text: &str) -> Option<bool> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).take(FIRST_WORDS).collect();
    let said = |list: &[&str]| {
        words.iter().any(|w| {
            list.iter().any(|k| match k.strip_suffix('~') {
                Some(start) => w.starts_with(start),
                None => w == k,
            })
        })
    };
    if said(NO) {
        Some(false)
    } else if said(YES) {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_in_korean_and_english() {
        for yes in ["네", "네, 접수해 주세요.", "예 그렇게 해 주세요", "응", "좋아요!", "Yes, please.", "Sure", "OK go ahead", "yeah do it"]
        {
            assert_eq!(decide(yes), Some(true), "{yes}");
        }
        for no in ["아니요", "아뇨, 괜찮아요.", "취소해 주세요", "하지 마세요", "No thanks.", "Don't do that", "Nope", "not now", "cancel it"]
        {
            assert_eq!(decide(no), Some(false), "{no}");
        }
        for other in [
            "배송은 언제 와요?",
            "어디로 보내셨어요?",
            "해외 배송 되나요?",
            "What's the refund policy?",
            "nothing else",
            "네이버로 주문했어요",
            "하지만 배송이 늦어요",
        ] {
            assert_eq!(decide(other), None, "{other}");
        }
    }
}
