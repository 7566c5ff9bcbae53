//! The agent's tool loop: a reply round, and when the model asks for tools,
//! the tools run (all at once), their results go back as tool messages and
//! the reply goes on, for a few rounds at most. What the model says before
//! a call (its preamble, "잠시만요, 확인해 볼게요.") is spoken at once, like
//! any reply text; the last round offers no tools, so the model must answer.
//! When the model said nothing first and a tool runs past half a second,
//! the [`filler`](super::filler) is said instead. A tool that changes
//! something is [held](crate::tools::confirm) until the user's next words.

use super::filler::{self, FILLER_AFTER};
use super::respond::{self, Ended, Reply, Round};
use super::speaker::Line;
use super::{phrases, Emitter, TurnSettings};
use crate::event::{Event, TurnMetrics};
use crate::provider::{ChatMessage, Providers, Role, ToolCall};
use crate::tools::{confirm, ToolRun, Tools};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Rounds in one turn: up to three with tools, then one that must answer.
pub const MAX_ROUNDS: usize = 4;

/// The longest a turn waits for tool servers that are still starting.
const SOURCES_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The most of a tool's result the window is sent (the model gets it whole).
const SHOWN_RESULT_CHARS: usize = 400;

/// A held call and the user's answer to it (`None`: they spoke of something else).
#[derive(Debug, Clone)]
pub struct Answer {
    pub call: ToolCall,
    pub approve: Option<bool>,
}

/// Streams the reply to `messages`, running the tools the model asks for.
/// `messages` grows by the turn's tool calls and results.
#[allow(clippy::too_many_arguments)]
pub async fn respond_with_tools(
    messages: &mut Vec<ChatMessage>,
    answer: Option<Answer>,
    providers: &Providers,
    settings: &TurnSettings,
    lines: &mpsc::UnboundedSender<Line>,
    emit: &Emitter,
    cancel: &CancellationToken,
    start: Instant,
    metrics: &mut TurnMetrics,
) -> Reply {
    let (chat, tools) = (providers.chat.as_ref(), &providers.tools);
    // Tool servers still starting (the first turn after launch) get a moment.
    tools.ready(SOURCES_WAIT).await;
    let asked = messages.len();
    if let Some(answer) = answer {
        settle(answer, tools, messages, emit, cancel).await;
    }
    let question = messages.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.clone());
    // A model that cannot call tools gets what the question needs looked up first.
    let specs = if chat.calls_tools() {
        tools.specs()
    } else {
        if let Some(q) = question.as_deref().filter(|_| !tools.is_empty()) {
            super::prefetch::prefetch(q, tools, messages, emit, cancel).await;
        }
        Vec::new()
    };
    let korean = phrases::korean(settings.language.as_deref(), question.as_deref());
    let mut text = String::new();
    let mut filled = false;
    for round in 0..MAX_ROUNDS {
        let offered = if round + 1 < MAX_ROUNDS { &specs[..] } else { &[] };
        let reply = respond::respond(Round { messages, tools: offered, prior: &text }, chat, settings, lines, emit, cancel, start, metrics).await;
        let said = reply.text.chars().skip(text.chars().count()).collect::<String>();
        text = reply.text;
        // Calls in the last round were not offered: the reply ends there.
        if reply.tool_calls.is_empty() || reply.ended != Ended::Finished || round + 1 == MAX_ROUNDS {
            let answer_from = text.chars().count() - said.chars().count();
            return Reply { answer_from, text, ended: reply.ended, exchanged: messages[asked..].to_vec(), ..Reply::default() };
        }
        messages.push(ChatMessage::assistant_calling(said.trim(), reply.tool_calls.clone()));
        for call in &reply.tool_calls {
            emit.send(Event::ToolStarted { turn: emit.turn, id: call.id.clone(), name: call.name.clone(), arguments: call.arguments.clone() });
        }
        // Calls that change something wait for the user; the rest run now.
        let (held, now): (Vec<ToolCall>, Vec<ToolCall>) = reply.tool_calls.iter().cloned().partition(|c| tools.needs_confirmation(&c.name));
        let began = Instant::now();
        let run = tools.run_all(&now, cancel);
        tokio::pin!(run);
        // Silence while a tool runs: the filler, once a turn, if the model said nothing first.
        let silent = settings.speak && said.trim().is_empty() && !filled && !now.is_empty();
        let mut runs = tokio::select! {
            runs = &mut run => runs,
            _ = tokio::time::sleep(FILLER_AFTER), if silent => {
                filled = true;
                let _ = lines.send(providers.fillers.line(&settings.voice, filler::text(korean)));
                run.await
            }
        };
        if !now.is_empty() {
            *metrics.tool_ms.get_or_insert(0.0) += began.elapsed().as_secs_f64() * 1000.0;
        }
        for call in held {
            emit.send(Event::ConfirmationAsked { turn: emit.turn, id: call.id.clone(), name: call.name.clone(), arguments: call.arguments.clone() });
            runs.push(ToolRun { result: confirm::held_result(&call), call, error: None, elapsed: Default::default() });
        }
        // Results go back in the order the model asked.
        runs.sort_by_key(|r| reply.tool_calls.iter().position(|c| c.id == r.call.id));
        for run in runs {
            finished(emit, &run);
            messages.push(ChatMessage::tool_result(run.call.id, run.result));
        }
        if cancel.is_cancelled() {
            let answer_from = text.chars().count();
            return Reply { text, ended: Ended::Cancelled, exchanged: messages[asked..].to_vec(), answer_from, ..Reply::default() };
        }
    }
    unreachable!("the last round always returns")
}

pub(crate) fn finished(emit: &Emitter, run: &ToolRun) {
    emit.send(Event::ToolFinished {
        turn: emit.turn,
        id: run.call.id.clone(),
        name: run.call.name.clone(),
        result: run.result.chars().take(SHOWN_RESULT_CHARS).collect(),
        error: run.error.clone(),
        ms: run.elapsed.as_secs_f64() * 1000.0,
    });
}

/// The user answered a held call: yes runs it now, no tells the model it
/// was cancelled; both go into the turn as a call and its result, before
/// the model is asked, so it can say what happened.
pub(crate) async fn settle(answer: Answer, tools: &Tools, messages: &mut Vec<ChatMessage>, emit: &Emitter, cancel: &CancellationToken) {
    emit.send(Event::ConfirmationSettled { turn: emit.turn, id: answer.call.id.clone(), approved: answer.approve });
    let Some(approve) = answer.approve else { return };
    let call = ToolCall { id: format!("{}_{}", answer.call.id, if approve { "yes" } else { "no" }), ..answer.call };
    messages.push(ChatMessage::assistant_calling("", vec![call.clone()]));
    let run = if approve {
        emit.send(Event::ToolStarted { turn: emit.turn, id: call.id.clone(), name: call.name.clone(), arguments: call.arguments.clone() });
        let run = tools.run(&call, cancel).await;
        finished(emit, &run);
        run
    } else {
        ToolRun { result: confirm::declined_result(&call), call, error: None, elapsed: Default::default() }
    };
    messages.push(ChatMessage::tool_result(run.call.id, run.result));
}
