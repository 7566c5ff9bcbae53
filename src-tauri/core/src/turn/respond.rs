//! The reply step: the chat model's streamed reply, shown as it comes and cut
//! into speakable lines for the speaker, with its tool calls assembled and
//! the reason it ended. A reply cut by its length limit, the content filter
//! or a failure is incomplete, and its last, partial sentence is not spoken.
//! One round is one request; the agent's tool loop (stream, run the tools,
//! stream again) is built from rounds.

use super::speaker::Line;
use super::{ms_since, Emitter, TurnSettings};
use crate::event::{Event, Incomplete, Stage, TurnMetrics};
use crate::provider::retry::with_retries;
use crate::provider::{ChatEvent, ChatMessage, ChatModel, ChatRequest, ErrorKind, FinishReason, ToolCall, ToolCallAssembler, ToolSpec};
use crate::text::ClauseSplitter;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ended {
    /// The model said all it had to say.
    #[default]
    Finished,
    /// Cut short, for this reason.
    Cut(Incomplete),
    /// The chat step failed (the error was reported).
    Failed,
    Cancelled,
}

/// A reply as far as it was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub text: String,
    /// Tools the model asked for, whole.
    pub tool_calls: Vec<ToolCall>,
    pub ended: Ended,
    /// The tool calls and results of the turn's earlier rounds, in order.
    pub exchanged: Vec<ChatMessage>,
    /// Characters of `text` said before those rounds ended (their preambles).
    pub answer_from: usize,
}

/// Feeds reply text to the window and the splitter, and lines to the speaker.
struct Writer<'a> {
    splitter: ClauseSplitter,
    lines: &'a mpsc::UnboundedSender<Line>,
    emit: &'a Emitter,
    start: Instant,
    /// The turn's reply so far, this round's text included.
    text: String,
    /// Characters of the turn's reply before this round (and the space
    /// that parts the rounds), where this round's spans start.
    offset: usize,
    /// The space that parts this round from the last, written with its first text.
    gap: &'static str,
}

impl<'a> Writer<'a> {
    /// A writer for a round that follows `prior`, the reply's text so far.
    fn after(prior: &str, settings: &TurnSettings, lines: &'a mpsc::UnboundedSender<Line>, emit: &'a Emitter, start: Instant) -> Self {
        let gap = if prior.is_empty() || prior.ends_with(char::is_whitespace) { "" } else { " " };
        let offset = prior.chars().count() + gap.chars().count();
        Writer { splitter: ClauseSplitter::new(settings.splitter), lines, emit, start, text: prior.to_string(), offset, gap }
    }

    fn write(&mut self, text: &str, metrics: &mut TurnMetrics) {
        metrics.llm_first_token_ms.get_or_insert_with(|| ms_since(self.start));
        let gap = std::mem::take(&mut self.gap);
        self.text.push_str(gap);
        self.text.push_str(text);
        self.emit.send(Event::AssistantDelta { turn: self.emit.turn, text: format!("{gap}{text}") });
        for chunk in self.splitter.push(text) {
            self.line(self.shifted(chunk), metrics);
        }
    }

    fn shifted(&self, chunk: crate::text::Chunk) -> Line {
        let (start, end) = (chunk.start + self.offset, chunk.end + self.offset);
        Line::reply(crate::text::Chunk { start, end, ..chunk })
    }

    fn line(&self, line: Line, metrics: &mut TurnMetrics) {
        metrics.first_chunk_ms.get_or_insert_with(|| ms_since(self.start));
        let _ = self.lines.send(line);
    }

    /// The reply is whole: its last words are a line too.
    fn finish(&mut self, metrics: &mut TurnMetrics) {
        for rest in self.splitter.finish() {
            self.line(self.shifted(rest), metrics);
        }
        // The splitter starts afresh: text after this (rare) starts here.
        self.offset = self.text.chars().count();
    }
}

/// What one round of the reply asks of the model, and where it goes.
pub struct Round<'a> {
    pub messages: &'a [ChatMessage],
    /// The tools the model may call this round.
    pub tools: &'a [ToolSpec],
    /// The reply's text from earlier rounds of this turn (a preamble before a
    /// tool call); this round's text follows it.
    pub prior: &'a str,
}

/// Streams one round of the reply. The returned text is the whole reply
/// so far (`prior` and this round's).
#[allow(clippy::too_many_arguments)]
pub async fn respond(
    round: Round<'_>,
    chat: &dyn ChatModel,
    settings: &TurnSettings,
    lines: &mpsc::UnboundedSender<Line>,
    emit: &Emitter,
    cancel: &CancellationToken,
    start: Instant,
    metrics: &mut TurnMetrics,
) -> Reply {
    let mut writer = Writer::after(round.prior, settings, lines, emit, start);
    let mut request = ChatRequest::new(&settings.chat_model, round.messages);
    (request.temperature, request.max_tokens, request.tools) = (settings.temperature, settings.max_tokens, round.tools);
    let started = async {
        let first = with_retries(settings.retry, cancel, |a, w, e| emit.retrying(Stage::Chat, a, w, e), || chat.stream_chat(request)).await;
        match first {
            // A server whose model cannot call tools refuses the request
            // (Ollama: "... does not support tools"): the reply goes on
            // without them. Other refusals (a wrong model) are not retried.
            Err(e) if e.kind == ErrorKind::BadRequest && !round.tools.is_empty() && e.message.to_lowercase().contains("tool") => {
                let plain = ChatRequest { tools: &[], ..request };
                with_retries(settings.retry, cancel, |a, w, e| emit.retrying(Stage::Chat, a, w, e), || chat.stream_chat(plain)).await
            }
            other => other,
        }
    };
    let mut stream = tokio::select! {
        s = started => match s {
            Ok(stream) => stream,
            Err(_) if cancel.is_cancelled() => return Reply { text: writer.text, ended: Ended::Cancelled, ..Reply::default() },
            Err(e) => {
                emit.error(Stage::Chat, &e);
                return Reply { text: writer.text, ended: Ended::Failed, ..Reply::default() };
            }
        },
        _ = cancel.cancelled() => return Reply { text: writer.text, ended: Ended::Cancelled, ..Reply::default() },
    };
    let mut calls = ToolCallAssembler::default();
    // A backstop for servers that ignore the length limit: streamed text
    // comes about a token a delta, so this many deltas is past the limit.
    let most_deltas = settings.max_tokens.map(|n| n as usize + n as usize / 4 + 8);
    let mut deltas = 0usize;
    let ended = loop {
        let event = tokio::select! {
            e = stream.next() => e,
            _ = cancel.cancelled() => break Ended::Cancelled,
        };
        match event {
            Some(Ok(ChatEvent::Text(t))) => {
                writer.write(&t, metrics);
                deltas += 1;
                if most_deltas.is_some_and(|most| deltas > most) {
                    break Ended::Cut(Incomplete::MaxLength);
                }
            }
            Some(Ok(ChatEvent::ToolCallDelta(d))) => {
                // The text before a call (its preamble) is whole once the call
                // begins: say its last clause now, not when the arguments end.
                if !calls.has_any() {
                    writer.finish(metrics);
                }
                calls.push(d)
            }
            Some(Ok(ChatEvent::Done { finish_reason })) => match finish_reason {
                Some(FinishReason::Length) => break Ended::Cut(Incomplete::MaxLength),
                Some(FinishReason::ContentFilter) => break Ended::Cut(Incomplete::ContentFilter),
                _ => break Ended::Finished,
            },
            // Ends without `Done` only after an error, by the trait's promise.
            None => break Ended::Finished,
            Some(Err(e)) => {
                emit.error(Stage::Chat, &e);
                break Ended::Failed;
            }
        }
    };
    if ended == Ended::Finished {
        writer.finish(metrics);
    }
    Reply { text: writer.text, tool_calls: calls.finish(), ended, ..Reply::default() }
}

/// A reply that is given, not asked of a model (the fallback).
pub fn given(
    text: &str,
    settings: &TurnSettings,
    lines: &mpsc::UnboundedSender<Line>,
    emit: &Emitter,
    start: Instant,
    metrics: &mut TurnMetrics,
) -> Reply {
    let mut writer = Writer::after("", settings, lines, emit, start);
    writer.write(text, metrics);
    writer.finish(metrics);
    Reply { text: writer.text, ended: Ended::Finished, ..Reply::default() }
}
