//! The prompt a turn sends the model: the conversation rendered with the
//! chat template the GGUF file carries (so any instruct model works), and,
//! when it would not fit the model's window, the oldest turns left out.

use crate::LlmError;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message { role, content: content.into() }
    }
}

/// `messages` as the model's chat template writes them, ending where the
/// assistant's reply begins.
pub(crate) fn render(model: &LlamaModel, template: &LlamaChatTemplate, messages: &[Message]) -> Result<String, LlmError> {
    let chat = messages
        .iter()
        // A NUL would end the C string early; it never belongs in speech.
        .map(|m| LlamaChatMessage::new(m.role.name().into(), m.content.replace('\0', "")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LlmError::Failed(e.to_string()))?;
    model.apply_chat_template(template, &chat, true).map_err(|e| match e {
        // llama.cpp knows templates by their shape; one it does not know
        // cannot be applied.
        llama_cpp_2::ApplyChatTemplateError::FfiError(_) => LlmError::NoTemplate,
        other => LlmError::Failed(other.to_string()),
    })
}

/// Which messages to send so the prompt and `room` tokens of reply fit
/// `window`: all of them if they fit, else the system messages and the
/// newest turns, dropping the oldest turn (a user message and what answers
/// it) first. `tokens_of` counts a candidate's prompt; the last message is
/// always kept.
pub(crate) fn fit(
    messages: &[Message],
    window: u32,
    room: u32,
    mut tokens_of: impl FnMut(&[Message]) -> Result<usize, LlmError>,
) -> Result<Vec<Message>, LlmError> {
    let mut kept: Vec<Message> = messages.to_vec();
    loop {
        if tokens_of(&kept)? + room as usize <= window as usize {
            return Ok(kept);
        }
        // The first message that is not the system's, and its answers.
        let Some(first) = kept.iter().position(|m| m.role != Role::System) else {
            return Err(LlmError::TooLong { window });
        };
        let end = kept[first + 1..].iter().position(|m| m.role == Role::User).map_or(kept.len(), |i| first + 1 + i);
        if end >= kept.len() {
            return Err(LlmError::TooLong { window });
        }
        kept.drain(first..end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(messages: &[Message]) -> Result<usize, LlmError> {
        Ok(messages.iter().map(|m| m.content.split_whitespace().count() + 2).sum())
    }

    #[test]
    fn the_oldest_turns_go_first_and_the_persona_and_question_stay() {
        let m = |role, text: &str| Message::new(role, text);
        let messages = vec![
            m(Role::System, "you are a kind agent"),
            m(Role::User, "one two three"),
            m(Role::Assistant, "four five six seven"),
            m(Role::User, "eight"),
            m(Role::Assistant, "nine ten"),
            m(Role::User, "where is my order"),
        ];
        assert_eq!(fit(&messages, 100, 10, words).unwrap(), messages);
        // 7 + 5 + 6 + 3 + 4 + 6 = 31 "tokens": the first turn out leaves 20.
        let kept = fit(&messages, 25, 5, words).unwrap();
        assert_eq!(kept, [&messages[..1], &messages[3..]].concat());
        let kept = fit(&messages, 16, 3, words).unwrap();
        assert_eq!(kept, vec![messages[0].clone(), messages[5].clone()]);
        assert_eq!(fit(&messages, 10, 3, words), Err(LlmError::TooLong { window: 10 }));
    }
}
