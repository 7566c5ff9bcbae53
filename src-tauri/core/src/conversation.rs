//! The conversation: the persona's system prompt and the history of finished
//! turns (typed and spoken alike), kept within a budget so requests stay small.

use crate::provider::{ChatMessage, Role};

/// The default persona: a friendly, concise customer-service agent that
/// answers in the user's language, in sentences meant to be heard.
pub const DEFAULT_PERSONA: &str = "You are Sori (소리), a friendly and concise customer-service agent speaking with a customer by voice. \
Answer in the language the customer uses: Korean (polite 해요체/합쇼체) or English. \
Keep answers short: one to three sentences. Your words are read aloud, so write plain sentences: no lists, markdown, emoji or URLs. \
If you do not know something, say so and offer to help another way.\n\
당신은 음성으로 고객과 대화하는 친절하고 간결한 상담원 '소리'입니다. 고객이 쓰는 언어로, 짧고 자연스러운 문장으로 답하세요.";

/// Persona plus history, trimmed to a budget.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub persona: String,
    /// Finished turns, oldest first, each the messages of one turn: the
    /// user's words, and the assistant's reply, with any tool calls and
    /// their results in between. A turn is kept or left out whole, so a tool
    /// call is never separated from its result.
    turns: Vec<Vec<ChatMessage>>,
    /// At most this many characters of history go with a request; the
    /// oldest turns are left out first.
    pub history_budget_chars: usize,
}

impl Default for Conversation {
    fn default() -> Self {
        Conversation { persona: DEFAULT_PERSONA.to_string(), turns: Vec::new(), history_budget_chars: 12_000 }
    }
}

/// Characters a message costs in the budget: its text and its tool calls.
fn size(m: &ChatMessage) -> usize {
    m.content.chars().count() + m.tool_calls.iter().map(|c| c.name.len() + c.arguments.chars().count()).sum::<usize>()
}

impl Conversation {
    /// A new conversation with this persona (the default one if blank).
    pub fn with_persona(persona: &str) -> Self {
        let persona = if persona.trim().is_empty() { DEFAULT_PERSONA } else { persona };
        Conversation { persona: persona.to_string(), ..Default::default() }
    }

    /// Changes the persona; the history stays.
    pub fn set_persona(&mut self, persona: &str) {
        self.persona = Conversation::with_persona(persona).persona;
    }

    /// Every message of the history, oldest first.
    pub fn history(&self) -> Vec<ChatMessage> {
        self.turns.iter().flatten().cloned().collect()
    }

    /// The messages for a request that asks `user_text` now.
    pub fn messages_for(&self, user_text: &str) -> Vec<ChatMessage> {
        let mut budget = self.history_budget_chars;
        // Whole turns only, newest first, while they fit.
        let kept = self
            .turns
            .iter()
            .rev()
            .take_while(|turn| {
                let cost: usize = turn.iter().map(size).sum();
                let fits = cost <= budget;
                budget = budget.saturating_sub(cost);
                fits
            })
            .count();
        let mut messages = Vec::new();
        if !self.persona.trim().is_empty() {
            messages.push(ChatMessage::new(Role::System, self.persona.clone()));
        }
        messages.extend(self.turns[self.turns.len() - kept..].iter().flatten().cloned());
        messages.push(ChatMessage::new(Role::User, user_text));
        messages
    }

    /// Records a finished turn. `heard` is what the user actually heard of the
    /// reply; a turn whose reply was not heard at all keeps the question only
    /// as context for the next one.
    pub fn record(&mut self, user_text: &str, heard: &str) {
        self.record_turn(vec![ChatMessage::new(Role::User, user_text), ChatMessage::new(Role::Assistant, heard)]);
    }

    /// Records a finished turn as its messages (with tool calls and results).
    pub fn record_turn(&mut self, messages: Vec<ChatMessage>) {
        if !messages.is_empty() {
            self.turns.push(messages);
        }
    }

    pub fn clear(&mut self) {
        self.turns.clear();
    }

    /// The finished turns, oldest first, each as its messages: what a store
    /// keeps to restore the conversation elsewhere (the server's replicas).
    pub fn turns(&self) -> &[Vec<ChatMessage>] {
        &self.turns
    }

    /// A conversation restored from its persona and turns.
    pub fn restored(persona: &str, turns: Vec<Vec<ChatMessage>>) -> Self {
        let mut c = Conversation::with_persona(persona);
        turns.into_iter().for_each(|t| c.record_turn(t));
        c
    }

    /// The call the last turn held for the user to confirm, if it did: the
    /// history itself says so (its result is "awaiting confirmation"), so a
    /// conversation restored from disk knows it too.
    pub fn awaiting_confirmation(&self) -> Option<crate::provider::ToolCall> {
        let last = self.turns.last()?;
        let held = last.iter().rev().find(|m| m.role == Role::Tool && crate::tools::confirm::is_held_result(&m.content))?;
        let id = held.tool_call_id.as_deref()?;
        last.iter().flat_map(|m| &m.tool_calls).find(|c| c.id == id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persona_history_then_the_question() {
        let mut c = Conversation::default();
        c.record("안녕하세요", "네, 안녕하세요!");
        let m = c.messages_for("배송 언제 와요?");
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].role, Role::System);
        assert!(m[0].content.contains("customer-service"));
        assert_eq!(m[1], ChatMessage::new(Role::User, "안녕하세요"));
        assert_eq!(m[2], ChatMessage::new(Role::Assistant, "네, 안녕하세요!"));
        assert_eq!(m[3], ChatMessage::new(Role::User, "배송 언제 와요?"));
    }

    #[test]
    fn the_oldest_turns_fall_out_of_the_budget_whole() {
        let mut c = Conversation { history_budget_chars: 25, ..Default::default() };
        c.record("first question", "first answer"); // 26 chars: over the budget alone
        c.record("second", "answer two"); // 16 chars
        c.record("third", "three"); // 10 chars
        let m = c.messages_for("now");
        let texts: Vec<&str> = m.iter().skip(1).map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["third", "three", "now"]);
        assert_eq!(c.history().len(), 6, "trimming affects requests, not the record");
    }

    #[test]
    fn a_tool_call_and_its_result_stay_together() {
        use crate::provider::ToolCall;
        let mut c = Conversation { history_budget_chars: 80, ..Default::default() };
        let call = ToolCall { id: "call_1".into(), name: "lookup_order".into(), arguments: r#"{"order_id":"A-1001"}"#.into() };
        c.record_turn(vec![
            ChatMessage::new(Role::User, "주문 어디 있어요?"),
            ChatMessage::assistant_calling("", vec![call]),
            ChatMessage::tool_result("call_1", r#"{"status":"shipped"}"#),
            ChatMessage::new(Role::Assistant, "배송 중이에요."),
        ]);
        assert_eq!(c.messages_for("고마워요").len(), 6, "the whole tool turn fits");
        c.history_budget_chars = 50;
        let m = c.messages_for("고마워요");
        assert_eq!(m.iter().map(|m| m.role).collect::<Vec<_>>(), [Role::System, Role::User], "the tool turn is left out whole");
    }
}
