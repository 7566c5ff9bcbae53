//! A turn's tool rounds in Realtime mode: the calls of a finished response
//! run (a call that changes something is held for the user, unless it
//! repeats the one they were asked about), their results go back as
//! `function_call_output` items; and the response's usage is counted.

use super::End;
use super::{Item, Turn};
use crate::event::Incomplete;
use crate::event::{Event, Usage};
use crate::provider::{ChatMessage, Providers, ToolCall};
use crate::realtime::confirm;
use crate::realtime::events::{ClientEvent, ResponseSummary, ServerEvent};
use crate::realtime::link::{LinkEvent, TurnLink};
use crate::tools::confirm::held_result;
use crate::tools::ToolRun;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

impl Turn {
    /// What came in while the tools ran: the user speaking ends the turn
    /// (no new response is asked for), a lost connection too.
    pub(super) fn spoke_meanwhile(&mut self, held: &mut TurnLink) -> Option<End> {
        while let Ok(event) = held.events.try_recv() {
            match event {
                LinkEvent::Server(ServerEvent::SpeechStarted { .. }) => return Some(End::Interrupted),
                LinkEvent::Server(e) => self.on_user_event(e),
                LinkEvent::Lost(e) => {
                    self.emit.error(crate::event::Stage::Chat, &e);
                    return Some(End::Cut(Incomplete::Failed));
                }
            }
        }
        None
    }

    pub(super) fn count_usage(&mut self, response: &ResponseSummary) {
        let Some(u) = &response.usage else { return };
        let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
        self.usage.add(&Usage {
            input_tokens: n(&u["input_tokens"]),
            output_tokens: n(&u["output_tokens"]),
            input_audio_tokens: n(&u["input_token_details"]["audio_tokens"]),
            output_audio_tokens: n(&u["output_token_details"]["audio_tokens"]),
        });
    }

    /// Runs the calls of the response just done and sends their results;
    /// a call that changes something is held for the user, as in chained mode.
    pub(super) async fn run_tools(&mut self, held: &TurnLink, providers: &Providers, cancel: &CancellationToken) {
        let calls = std::mem::take(&mut self.calls);
        // What the model said in this round (before it, `answer_from` characters were said).
        let said: String = self.texts.iter().flat_map(|(_, t)| t.chars()).skip(self.answer_from).collect();
        self.tool_messages.push(ChatMessage::assistant_calling(said.trim(), calls.clone()));
        let tools = &providers.tools;
        // The held call asked for again: the customer said yes to the model.
        let awaiting = self.awaiting.take();
        let (held_calls, now): (Vec<ToolCall>, Vec<ToolCall>) =
            calls.iter().cloned().partition(|c| tools.needs_confirmation(&c.name) && !confirm::repeats(c, awaiting.as_ref()));
        if let Some(call) = awaiting.filter(|a| now.iter().any(|c| confirm::repeats(c, Some(a)))) {
            self.emit.send(Event::ConfirmationSettled { turn: self.emit.turn, id: call.id, approved: Some(true) });
        }
        let began = Instant::now();
        let mut runs = tools.run_all(&now, cancel).await;
        if !now.is_empty() {
            *self.metrics.tool_ms.get_or_insert(0.0) += began.elapsed().as_secs_f64() * 1000.0;
        }
        for call in held_calls {
            self.emit.send(Event::ConfirmationAsked {
                turn: self.emit.turn,
                id: call.id.clone(),
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            });
            runs.push(ToolRun { result: held_result(&call), call, error: None, elapsed: Default::default() });
        }
        runs.sort_by_key(|r| calls.iter().position(|c| c.id == r.call.id));
        for run in runs {
            crate::turn::agent::finished(&self.emit, &run);
            self.tool_messages.push(ChatMessage::tool_result(run.call.id.clone(), run.result.clone()));
            let item = Item::FunctionCallOutput { call_id: run.call.id, output: run.result };
            held.send(move |event_id| ClientEvent::CreateItem { event_id, item });
        }
        self.answer_from = self.texts.iter().map(|(_, t)| t.chars().count()).sum();
    }
}
