//! A chat model on this computer (llama.cpp, from `sori-llama`) as a
//! [`ChatModel`]: the model loads once per process and keeps the
//! conversation in its cache between turns; a reply streams token by token
//! and dropping its stream stops sampling at the next token. Tools are
//! offered and their calls read in the Hermes format ([`super::tool_calls`]).

use super::tool_calls::{self, CallReader, Piece};
use super::{not_installed, Loaded};
use crate::provider::{ChatEvent, ChatMessage, ChatModel, ChatRequest, ErrorKind, FinishReason, ProviderError, ProviderStream, Role, ToolSpec};
use async_trait::async_trait;
use sori_llama::{Event, Finish, LocalLlm, Message, Options, Request, Stats};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

static LLAMA: Loaded<LocalLlm> = Loaded::new();

/// The speed of the last local reply, by model folder: shown in settings.
static MEASURED: std::sync::Mutex<Option<(PathBuf, Measured)>> = std::sync::Mutex::new(None);

/// How fast a chat model answered on this computer.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Measured {
    pub tokens_per_second: f64,
    pub first_token_ms: f64,
    /// Prompt tokens the cache already held, of all the prompt's.
    pub reused_tokens: usize,
    pub prompt_tokens: usize,
}

/// How fast the model in `dir` answered last, if it has answered in this process.
pub fn measured_speed(dir: &Path) -> Option<Measured> {
    MEASURED.lock().expect("measured").as_ref().filter(|(d, _)| d == dir).map(|(_, m)| *m)
}

fn record(dir: &Path, stats: &Stats) {
    if stats.generated_tokens > 1 {
        let measured = Measured {
            tokens_per_second: stats.tokens_per_second,
            first_token_ms: stats.first_token_ms,
            reused_tokens: stats.reused_tokens,
            prompt_tokens: stats.prompt_tokens,
        };
        *MEASURED.lock().expect("measured") = Some((dir.to_path_buf(), measured));
    }
}

/// The context window Sori gives a local model: a persona, a few turns of
/// spoken conversation and a reply fit in 4096 tokens, and more only costs
/// memory (the history budget keeps older turns out).
const WINDOW: u32 = 4096;

/// The model file in the folder `dir`: its first `.gguf` file.
pub fn chat_model_file(dir: &Path) -> Option<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("gguf")) && p.is_file())
        .collect();
    files.sort();
    files.into_iter().next()
}

/// The GGUF chat model in the folder `dir`, loaded on first use (or by a warm-up).
pub struct LocalChat {
    dir: PathBuf,
    model: tokio::sync::OnceCell<Arc<LocalLlm>>,
}

impl LocalChat {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalChat { dir: dir.into(), model: tokio::sync::OnceCell::new() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The loaded model.
    pub async fn model(&self) -> Result<Arc<LocalLlm>, ProviderError> {
        let Some(file) = chat_model_file(&self.dir) else {
            return Err(not_installed("chat model", &self.dir));
        };
        self.model
            .get_or_try_init(|| async move {
                let key = file.clone();
                LLAMA.get(&key, "the chat model", move |threads| LocalLlm::load(&file, Options { threads, window: WINDOW })).await
            })
            .await
            .cloned()
    }

    /// What the last reply cost on this computer (tokens per second and so on).
    pub fn last_stats(&self) -> Option<Stats> {
        self.model.get().and_then(|m| m.last_stats())
    }
}

/// The conversation as the model takes it: the tools' signatures at the end
/// of the system message, calls and results in their tags.
fn messages(request: &ChatRequest<'_>) -> Vec<Message> {
    let mut tools_said = request.tools.is_empty();
    let mut out: Vec<Message> = request
        .messages
        .iter()
        .filter_map(|m| {
            let (role, mut text) = tool_calls::message_text(m);
            let role = match role {
                Role::System => sori_llama::Role::System,
                Role::User | Role::Tool => sori_llama::Role::User,
                Role::Assistant if !text.trim().is_empty() => sori_llama::Role::Assistant,
                Role::Assistant => return None,
            };
            if role == sori_llama::Role::System && !tools_said {
                text.push_str(&tool_calls::tools_block(request.tools));
                tools_said = true;
            }
            Some(Message::new(role, text))
        })
        .collect();
    if !tools_said {
        out.insert(0, Message::new(sori_llama::Role::System, tool_calls::tools_block(request.tools).trim_start()));
    }
    out
}

/// Sets the cancel flag when the reply's stream is dropped (barge-in).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[async_trait]
impl ChatModel for LocalChat {
    async fn stream_chat(&self, request: ChatRequest<'_>) -> Result<ProviderStream<ChatEvent>, ProviderError> {
        let llm = self.model().await?;
        let messages = messages(&request);
        let seed = seed_of(&messages);
        let wanted = Request { messages, max_tokens: request.max_tokens.unwrap_or(512), temperature: request.temperature.unwrap_or(0.7), seed };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let dir = self.dir.clone();
        // Calls are read out of the text only when tools were offered.
        let mut reader = (!request.tools.is_empty()).then(CallReader::default);
        llm.reply(wanted, cancel.clone(), move |event| {
            if let Event::Done(_, stats) = &event {
                record(&dir, stats);
            }
            let pieces = match (&event, reader.as_mut()) {
                (Event::Text(text), Some(reader)) => reader.push(text),
                (Event::Done(..), Some(reader)) => reader.finish(),
                _ => Vec::new(),
            };
            for piece in pieces {
                let item = match piece {
                    Piece::Text(text) => ChatEvent::Text(text),
                    Piece::Call(call) => ChatEvent::ToolCallDelta(call),
                };
                if tx.send(Ok(item)).is_err() {
                    return false;
                }
            }
            let called = reader.as_ref().is_some_and(|r| r.calls() > 0);
            let item = match event {
                Event::Text(_) if reader.is_some() => return true,
                Event::Text(text) => Ok(ChatEvent::Text(text)),
                Event::Done(Finish::Stop, _) if called => Ok(ChatEvent::Done { finish_reason: Some(FinishReason::ToolCalls) }),
                Event::Done(Finish::Stop, _) => Ok(ChatEvent::Done { finish_reason: Some(FinishReason::Stop) }),
                Event::Done(Finish::Length, _) => Ok(ChatEvent::Done { finish_reason: Some(FinishReason::Length) }),
                Event::Done(Finish::Cancelled, _) => return false,
                Event::Error(e) => Err(ProviderError::new(ErrorKind::Local, e.to_string())),
            };
            tx.send(item).is_ok()
        });
        let guard = CancelOnDrop(cancel);
        Ok(Box::pin(futures_util::stream::poll_fn(move |cx| {
            let _ = &guard;
            rx.poll_recv(cx)
        })))
    }

    /// Qwen models were taught the Hermes tool format; the small ones Sori
    /// also offers (SmolLM2, Gemma 3 1B) were not, and make answers up.
    fn calls_tools(&self) -> bool {
        self.dir.file_name().is_some_and(|n| n.to_string_lossy().to_lowercase().starts_with("qwen"))
    }

    /// Loads the model now (a second or so) and reads the persona into its
    /// cache (seconds more on a small CPU), so the first reply waits for
    /// neither: every request starts with the same tokens.
    async fn warm_up(&self, start: &[ChatMessage], tools: &[ToolSpec]) -> Result<(), ProviderError> {
        let llm = self.model().await?;
        if start.is_empty() {
            return Ok(());
        }
        // Tools are offered to the turns only when the model calls them (else the agent looks things up first).
        let tools = if self.calls_tools() { tools } else { &[] };
        let request = ChatRequest { max_tokens: Some(1), temperature: Some(0.0), tools, ..ChatRequest::new("", start) };
        let prime = Request { messages: messages(&request), max_tokens: 1, temperature: 0.0, seed: 0 };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut tx = Some(tx);
        llm.reply(prime, Arc::new(AtomicBool::new(false)), move |event| {
            if let Event::Done(..) | Event::Error(_) = event {
                let result = if let Event::Error(e) = event { Err(ProviderError::new(ErrorKind::Local, e.to_string())) } else { Ok(()) };
                if let Some(tx) = tx.take() {
                    let _ = tx.send(result);
                }
            }
            true
        });
        rx.await.unwrap_or(Ok(()))
    }
}

/// The sampling seed for a conversation: a hash of its messages (FNV-1a),
/// so the same conversation gets the same reply and a turn can be
/// reproduced, while each new question still samples afresh.
fn seed_of(messages: &[Message]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for m in messages {
        for byte in m.content.bytes().chain([0, m.role as u8]) {
            hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_conversation_samples_with_the_same_seed_and_a_new_question_does_not() {
        let m = |role, text: &str| Message::new(role, text);
        let asked = [m(sori_llama::Role::System, "persona"), m(sori_llama::Role::User, "Where is my order?")];
        let again = asked.clone();
        let other = [m(sori_llama::Role::System, "persona"), m(sori_llama::Role::User, "Where is my refund?")];
        // Who said it counts too, not only the words.
        let swapped = [m(sori_llama::Role::User, "persona"), m(sori_llama::Role::User, "Where is my order?")];
        assert_eq!(seed_of(&asked), seed_of(&again));
        assert_ne!(seed_of(&asked), seed_of(&other));
        assert_ne!(seed_of(&asked), seed_of(&swapped));
    }
}
