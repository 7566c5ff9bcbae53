//! A held call answered in Realtime mode. The last turn held a call that
//! changes something (the model was told to ask the customer first). Typed
//! words or a click on Confirm or Cancel settle it before the model is
//! asked, as in chained mode: yes runs it, no declines it, and the session
//! gets the call and its result as items. A spoken yes is heard by the model
//! itself, which calls the same function again: that repeat runs.

use super::events::Item;
use crate::provider::{ChatMessage, ToolCall};
use crate::tools::Tools;
use crate::turn::agent::{self, Answer};
use crate::turn::{Emitter, TurnInput};
use tokio_util::sync::CancellationToken;

/// What a turn is asked: the input, and the call the last turn held for
/// the user's answer, if any.
pub struct Question {
    pub input: TurnInput,
    pub awaiting: Option<ToolCall>,
}

impl From<TurnInput> for Question {
    fn from(input: TurnInput) -> Self {
        Question { input, awaiting: None }
    }
}

/// The user's answer, when the input gives it before the model is asked:
/// a click, or typed words that say yes or no.
pub(super) fn answer_in(question: &Question) -> Option<Answer> {
    let call = question.awaiting.clone()?;
    let approve = match &question.input {
        TurnInput::Answer { approve, .. } => Some(*approve),
        TurnInput::Text(text) => crate::tools::confirm::decide(text),
        TurnInput::Audio { .. } => return None,
    };
    Some(Answer { call, approve })
}

/// Settles the held call (runs it on yes); the call and its result, as the
/// turn keeps them and as items for the session.
pub(super) async fn settle(answer: Answer, tools: &Tools, emit: &Emitter, cancel: &CancellationToken) -> (Vec<ChatMessage>, Vec<Item>) {
    let mut messages = Vec::new();
    agent::settle(answer, tools, &mut messages, emit, cancel).await;
    let items = messages
        .iter()
        .flat_map(|m| match &m.tool_call_id {
            Some(id) => vec![Item::FunctionCallOutput { call_id: id.clone(), output: m.content.clone() }],
            None => m
                .tool_calls
                .iter()
                .map(|c| Item::FunctionCall { call_id: c.id.clone(), name: c.name.clone(), arguments: c.arguments.clone() })
                .collect(),
        })
        .collect();
    (messages, items)
}

/// Whether the model's call repeats the held one (same function, same
/// arguments): the customer said yes to the model.
pub(super) fn repeats(call: &ToolCall, awaiting: Option<&ToolCall>) -> bool {
    let args = |a: &str| serde_json::from_str::<serde_json::Value>(a).ok();
    awaiting.is_some_and(|held| held.name == call.name && args(&held.arguments) == args(&call.arguments))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_call_is_a_yes_and_only_typed_words_or_a_click_answer_first() {
        let held = ToolCall { id: "c1".into(), name: "file_complaint".into(), arguments: r#"{"summary":"broken","kind":"complaint"}"#.into() };
        let again = ToolCall { id: "c2".into(), arguments: r#"{"kind":"complaint","summary":"broken"}"#.into(), ..held.clone() };
        assert!(repeats(&again, Some(&held)), "the same arguments in another order");
        assert!(!repeats(&ToolCall { arguments: r#"{"summary":"late"}"#.into(), ..again.clone() }, Some(&held)));
        assert!(!repeats(&again, None));
        let asked = |input| answer_in(&Question { input, awaiting: Some(held.clone()) }).map(|a| a.approve);
        assert_eq!(asked(TurnInput::Answer { approve: false, text: "Cancel".into() }), Some(Some(false)));
        assert_eq!(asked(TurnInput::Text("네, 접수해 주세요.".into())), Some(Some(true)));
        assert_eq!(asked(TurnInput::Audio { samples: vec![0; 1600], sample_rate: 16_000 }), None, "the model hears spoken words");
    }
}
