//! What Sori says on its own, not written by the model, in the language the
//! user is most likely speaking: the fallback when nothing was understood,
//! and the apology when the chat model failed.

use crate::conversation::Conversation;
use crate::provider::Role;

/// Said when speech was heard but no words were understood; no model is asked.
pub const FALLBACK_KO: &str = "죄송해요, 잘 못 들었어요. 다시 말씀해 주시겠어요?";
pub const FALLBACK_EN: &str = "Sorry, I didn't catch that. Could you say it again?";
/// Said when the chat model could not answer at all.
pub const APOLOGY_KO: &str = "죄송해요, 지금은 답변을 드릴 수 없어요. 잠시 후에 다시 말씀해 주세요.";
pub const APOLOGY_EN: &str = "Sorry, I can't answer right now. Please try again in a moment.";

fn has_hangul(text: &str) -> bool {
    text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

/// Korean unless the language setting or the user's last words say otherwise.
pub fn korean(language: Option<&str>, last_words: Option<&str>) -> bool {
    match language {
        Some(l) => l.starts_with("ko"),
        None => last_words.is_none_or(has_hangul),
    }
}

/// The fallback, judged by the setting or the conversation's last user words.
pub fn fallback(language: Option<&str>, conversation: &Conversation) -> &'static str {
    let history = conversation.history();
    let last = history.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.as_str());
    if korean(language, last) {
        FALLBACK_KO
    } else {
        FALLBACK_EN
    }
}

/// The apology, judged by the setting or the question just asked.
pub fn apology(language: Option<&str>, question: Option<&str>) -> &'static str {
    if korean(language, question) {
        APOLOGY_KO
    } else {
        APOLOGY_EN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_follows_the_setting_then_the_user() {
        assert_eq!(apology(Some("en"), Some("배송 언제 와요?")), APOLOGY_EN);
        assert_eq!(apology(None, Some("배송 언제 와요?")), APOLOGY_KO);
        assert_eq!(apology(None, Some("Where is my order?")), APOLOGY_EN);
        let mut c = Conversation::default();
        assert_eq!(fallback(None, &c), FALLBACK_KO);
        c.record("Where is my order?", "On its way.");
        assert_eq!(fallback(None, &c), FALLBACK_EN);
        assert_eq!(fallback(Some("ko"), &c), FALLBACK_KO);
    }
}
