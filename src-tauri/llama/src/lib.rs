//! A chat model on this computer: llama.cpp in process (through
//! `llama-cpp-2`), loaded once onto a thread of its own that keeps the
//! conversation in the model's KV cache between turns, so a turn evaluates
//! only what is new. Replies stream piece by piece and stop within one token
//! of a cancel.

mod engine;
mod prompt;
mod utf8;

pub use engine::{Event, Finish, LocalLlm, ModelFacts, Options, Request, Stats};
pub use prompt::{Message, Role};

/// Why the local chat model could not load or answer, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("The chat model {path} could not be loaded: {reason}.")]
    Load { path: String, reason: String },
    #[error("The chat model has no chat template, so Sori cannot tell it who says what; choose an instruct (chat) model.")]
    NoTemplate,
    #[error("The conversation does not fit the chat model's window of {window} tokens, even with older turns left out; shorten the persona.")]
    TooLong { window: u32 },
    #[error("The chat model stopped: {0}.")]
    Failed(String),
}
