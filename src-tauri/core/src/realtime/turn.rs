//! One turn in Realtime mode, with the same events and outcome as a chained
//! turn: the utterance goes up as 24 kHz audio and is committed (or typed
//! words go up as an item), a response is asked for, its audio plays as it
//! comes and its words show as they come. The user's transcript arrives
//! when the server has it, often after the reply has begun. Tools the model
//! calls run while the preamble plays; their results go back and a new
//! response is asked for after `response.done`. A barge-in cancels the
//! response and truncates the item being heard to what the speaker played.
//!
//! The server's voice detection hearing the user start is a barge-in too:
//! the reply stops where the speaker was, and the link passes what follows
//! to the next turn ([`super::server_turn`]).
//!
//! Events, in order: `Status{thinking}`, `AssistantDelta`s with
//! `AssistantSpeaking` at each item's first sound (`Status{speaking}` at
//! the first), `UserTranscript` whenever it arrives (before the reply for a
//! typed question), tool events, `TurnEnded`, `Status{idle}`.

use super::confirm::{self, Question};
use super::events::{pcm_from_base64, pcm_to_base64, ClientEvent, Item, ServerEvent, RATE};
use super::failures::server_error;
use super::heard::{Cut, ItemAudio};
use super::link::{Link, LinkEvent, TurnLink};
use crate::audio::output::AudioOutput;
use crate::audio::Pcm;
use crate::event::{Event, Incomplete, Phase, Stage, TurnMetrics, Usage};
use crate::provider::{ChatMessage, ErrorKind, ProviderError, Providers, ToolCall};
use crate::turn::{agent::MAX_ROUNDS, ms_since, Emitter, TurnInput, TurnOutcome, TurnSettings};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[path = "turn_tools.rs"]
mod tools;

/// The longest a turn waits, after its reply, for the user's transcript.
const TRANSCRIPT_WAIT: Duration = Duration::from_secs(3);
/// Audio goes up in appends of a second each (well under the 15 MB limit).
const APPEND_SAMPLES: usize = RATE as usize;

/// How the response loop ended.
#[derive(Debug, PartialEq)]
pub(super) enum End {
    Done,
    Interrupted,
    Cut(Incomplete),
}

/// What the turn has gathered so far.
pub(super) struct Turn {
    pub(super) emit: Emitter,
    output: Arc<dyn AudioOutput>,
    speak: bool,
    /// What the metrics count from: the question sent, or the end of speech the server heard.
    pub(super) start: Instant,
    metrics: TurnMetrics,
    user_text: Option<String>,
    /// The user's audio item, whose transcript is this turn's.
    pub(super) user_item: Option<String>,
    /// A response this turn asked for (or the server makes for it) is due.
    pub(super) expect_response: bool,
    /// The response under way, whose events are this turn's.
    response_id: Option<String>,
    items: ItemAudio,
    /// Each assistant item's words, in order.
    texts: Vec<(String, String)>,
    tool_messages: Vec<ChatMessage>,
    calls: Vec<ToolCall>,
    /// Characters of the reply before the last response (the tools' answer).
    answer_from: usize,
    /// A response is under way (a cancel is due on barge-in).
    active: bool,
    usage: Usage,
    /// The speaker's count when the reply was cut.
    played: Option<u64>,
    /// The call the last turn held for the user's answer.
    pub(super) awaiting: Option<ToolCall>,
}

/// Runs one turn over the link. Never panics on what the server sends.
pub async fn run_turn(
    question: Question,
    link: Arc<Link>,
    providers: &Providers,
    settings: &TurnSettings,
    output: Arc<dyn AudioOutput>,
    emit: Emitter,
    cancel: CancellationToken,
) -> TurnOutcome {
    let mut t = Turn::new(emit.clone(), output, settings);
    let answer = confirm::answer_in(&question);
    let Question { input, awaiting } = question;
    t.awaiting = awaiting;
    emit.phase(Phase::Thinking);
    let mut held = match t.take_link(&link, false, &cancel).await {
        Ok(h) => h,
        Err(end) => {
            if let TurnInput::Text(text) | TurnInput::Answer { text, .. } = input {
                t.user_text = Some(text.trim().to_string());
            }
            return t.finish(end);
        }
    };
    // Typed words or a click answer a held call before the model is asked.
    let mut settled = Vec::new();
    if let Some(answer) = answer {
        t.awaiting = None;
        let (messages, items) = confirm::settle(answer, &providers.tools, &t.emit, &cancel).await;
        t.tool_messages = messages;
        settled = items;
    }
    if !t.ask(input, &held, settled) {
        return t.finish(End::Cut(Incomplete::Failed));
    }
    t.answer(&mut held, providers, &cancel).await
}

fn lost() -> ProviderError {
    ProviderError::new(ErrorKind::Network, "The connection to the Realtime server was lost.")
}

impl Turn {
    pub(super) fn new(emit: Emitter, output: Arc<dyn AudioOutput>, settings: &TurnSettings) -> Turn {
        Turn {
            emit,
            output,
            speak: settings.speak,
            start: Instant::now(),
            metrics: TurnMetrics { realtime: true, ..TurnMetrics::default() },
            user_text: None,
            user_item: None,
            expect_response: false,
            response_id: None,
            items: ItemAudio::default(),
            texts: Vec::new(),
            tool_messages: Vec::new(),
            calls: Vec::new(),
            answer_from: 0,
            active: false,
            usage: Usage::default(),
            played: None,
            awaiting: None,
        }
    }

    /// Takes the link once it is connected; how the turn ends if it cannot.
    /// (`heard`: the turn the server started, which takes what it said so far.)
    pub(super) async fn take_link(&mut self, link: &Link, heard: bool, cancel: &CancellationToken) -> Result<TurnLink, End> {
        let taking = async {
            match heard {
                true => link.begin_heard().await,
                false => link.begin().await,
            }
        };
        let held = tokio::select! {
            held = taking => held,
            _ = cancel.cancelled() => return Err(End::Interrupted),
        };
        held.map_err(|e| {
            self.emit.error(Stage::Chat, &e);
            End::Cut(Incomplete::Failed)
        })
    }

    /// From the question asked to the reply played (or cut), then the
    /// user's words if they are still on their way.
    pub(super) async fn answer(mut self, held: &mut TurnLink, providers: &Providers, cancel: &CancellationToken) -> TurnOutcome {
        let mut end = self.respond(held, providers, cancel).await;
        if matches!(end, End::Done | End::Cut(Incomplete::MaxLength | Incomplete::ContentFilter)) {
            // The reply has come; now it plays to its end, or the user speaks over it.
            let queued = self.items.end().unwrap_or(0);
            let output = self.output.clone();
            let played = tokio::select! {
                played = crate::turn::speaker::played_until(output.as_ref(), queued, cancel) => played,
                _ = self.until_speech(held) => 0,
            };
            if played < queued {
                end = End::Interrupted;
            }
        }
        match end {
            End::Interrupted => self.cut(held),
            // The connection is gone: what played stays, the rest is dropped.
            End::Cut(Incomplete::Failed) => {
                self.played = Some(self.output.flush());
            }
            _ => {}
        }
        // A spoken question's words may still be on their way (not when
        // the engine stops the turn: the next one waits).
        if self.user_text.is_none() && self.user_item.is_some() {
            let wait = if end == End::Interrupted { Duration::from_millis(500) } else { TRANSCRIPT_WAIT };
            let until = Instant::now() + wait;
            while self.user_text.is_none() {
                tokio::select! {
                    e = tokio::time::timeout_at(until, held.events.recv()) => match e {
                        Ok(Some(LinkEvent::Server(e))) => self.on_user_event(e),
                        _ => break,
                    },
                    _ = cancel.cancelled() => break,
                }
            }
        }
        self.finish(end)
    }

    /// Reads the user's side while the reply plays out; returns when the
    /// server hears the user start speaking.
    async fn until_speech(&mut self, held: &mut TurnLink) {
        loop {
            match held.events.recv().await {
                Some(LinkEvent::Server(ServerEvent::SpeechStarted { .. })) => return,
                Some(LinkEvent::Server(e)) => self.on_user_event(e),
                // Nothing more can come; the reply plays on.
                Some(LinkEvent::Lost(_)) | None => std::future::pending::<()>().await,
            }
        }
    }

    /// Sends the question (and a held call it settled) and asks for a response.
    fn ask(&mut self, input: TurnInput, held: &TurnLink, settled: Vec<Item>) -> bool {
        match input {
            TurnInput::Audio { samples, sample_rate } => {
                let audio = match crate::audio::resample::resample(&samples, sample_rate, RATE) {
                    Ok(a) => a,
                    Err(e) => {
                        self.emit
                            .error(Stage::Transcription, &ProviderError::new(ErrorKind::Local, format!("The recording could not be resampled: {e}")));
                        return false;
                    }
                };
                held.send(|event_id| ClientEvent::Clear { event_id });
                for chunk in audio.chunks(APPEND_SAMPLES) {
                    let audio = pcm_to_base64(chunk);
                    held.send(move |event_id| ClientEvent::Append { event_id, audio });
                }
                held.send(|event_id| ClientEvent::Commit { event_id });
            }
            TurnInput::Text(text) | TurnInput::Answer { text, .. } => {
                let text = text.trim().to_string();
                self.emit.send(Event::UserTranscript { turn: self.emit.turn, text: text.clone() });
                self.user_text = Some(text.clone());
                held.send(move |event_id| ClientEvent::CreateItem { event_id, item: Item::user_text(text) });
            }
        }
        for item in settled {
            held.send(move |event_id| ClientEvent::CreateItem { event_id, item });
        }
        self.expect_response = true;
        held.send(|event_id| ClientEvent::CreateResponse { event_id });
        true
    }

    /// Whether an event of response `id` is this turn's (another's may
    /// still come, cancelled, after the server's detection heard the user).
    fn ours(&self, id: &str) -> bool {
        self.response_id.as_deref() == Some(id)
    }

    /// Reads the server's events until the reply is whole, cut, or failed;
    /// runs the tools the model calls and asks again.
    async fn respond(&mut self, held: &mut TurnLink, providers: &Providers, cancel: &CancellationToken) -> End {
        let mut rounds = 0;
        loop {
            let event = tokio::select! {
                e = held.events.recv() => e,
                _ = cancel.cancelled() => return End::Interrupted,
            };
            let event = match event {
                Some(LinkEvent::Server(e)) => e,
                Some(LinkEvent::Lost(e)) => {
                    self.emit.error(Stage::Chat, &e);
                    self.active = false;
                    return End::Cut(Incomplete::Failed);
                }
                None => {
                    self.emit.error(Stage::Chat, &lost());
                    return End::Cut(Incomplete::Failed);
                }
            };
            match event {
                ServerEvent::ResponseCreated { response } if self.expect_response => {
                    self.expect_response = false;
                    self.response_id = response["id"].as_str().map(str::to_string);
                    self.active = true;
                }
                // The server heard the user start: it has stopped the response itself.
                ServerEvent::SpeechStarted { .. } => {
                    self.active = false;
                    return End::Interrupted;
                }
                ServerEvent::TranscriptDelta { response_id, item_id, delta } | ServerEvent::TextDelta { response_id, item_id, delta }
                    if self.ours(&response_id) =>
                {
                    self.words(&item_id, &delta)
                }
                ServerEvent::AudioDelta { response_id, item_id, content_index, delta } if self.ours(&response_id) => {
                    self.audio(&item_id, content_index, &delta)
                }
                ServerEvent::FunctionCall { response_id, call_id, name, arguments, .. } if self.ours(&response_id) => {
                    self.emit.send(Event::ToolStarted {
                        turn: self.emit.turn,
                        id: call_id.clone(),
                        name: name.clone(),
                        arguments: arguments.clone(),
                    });
                    self.calls.push(ToolCall { id: call_id, name, arguments });
                }
                ServerEvent::ResponseDone { response } if self.ours(&response.id) => {
                    self.active = false;
                    self.count_usage(&response);
                    match response.status.as_str() {
                        "completed" if !self.calls.is_empty() && rounds + 1 < MAX_ROUNDS => {
                            rounds += 1;
                            self.run_tools(held, providers, cancel).await;
                            if cancel.is_cancelled() {
                                return End::Interrupted;
                            }
                            // The user may have spoken while the tools ran: then no new response.
                            if let Some(end) = self.spoke_meanwhile(held) {
                                return end;
                            }
                            self.expect_response = true;
                            held.send(|event_id| ClientEvent::CreateResponse { event_id });
                        }
                        "completed" => return End::Done,
                        // Cut by the server (its VAD heard the user) or by us.
                        "cancelled" => return End::Interrupted,
                        "incomplete" => {
                            let reason = response.status_details.as_ref().and_then(|d| d["reason"].as_str()).unwrap_or_default();
                            return End::Cut(if reason == "content_filter" { Incomplete::ContentFilter } else { Incomplete::MaxLength });
                        }
                        _ => {
                            let message =
                                response.status_details.as_ref().and_then(|d| d["error"]["message"].as_str()).unwrap_or("the response failed");
                            self.emit.error(Stage::Chat, &ProviderError::new(ErrorKind::Server, format!("The Realtime server said: {message}")));
                            return End::Cut(Incomplete::Failed);
                        }
                    }
                }
                ServerEvent::Error { error } => {
                    // Cancelling a response that had just ended is harmless.
                    if error.code.as_deref() == Some("response_cancel_not_active") {
                        continue;
                    }
                    self.emit.error(Stage::Chat, &server_error(&error));
                    if !self.active {
                        return End::Cut(Incomplete::Failed);
                    }
                }
                other => self.on_user_event(other),
            }
        }
    }

    /// The user's side: their item and its transcript.
    pub(super) fn on_user_event(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::Committed { item_id } => self.user_item = Some(item_id),
            ServerEvent::UserTranscript { item_id, transcript } if self.user_item.as_deref() == Some(item_id.as_str()) => {
                let text = transcript.trim().to_string();
                self.metrics.transcript_ms = Some(ms_since(self.start));
                self.emit.send(Event::UserTranscript { turn: self.emit.turn, text: text.clone() });
                self.user_text = Some(text).filter(|t| !t.is_empty());
            }
            ServerEvent::UserTranscriptFailed { item_id, .. } if self.user_item.as_deref() == Some(item_id.as_str()) => {
                let e = ProviderError::new(ErrorKind::BadResponse, "The Realtime server could not transcribe what you said; the reply stands.");
                self.emit.error(Stage::Transcription, &e);
                self.user_item = None;
            }
            _ => {}
        }
    }

    fn words(&mut self, item_id: &str, delta: &str) {
        if self.metrics.llm_first_token_ms.is_none() {
            self.metrics.llm_first_token_ms = Some(ms_since(self.start));
        }
        match self.texts.iter_mut().find(|(i, _)| i == item_id) {
            Some((_, text)) => text.push_str(delta),
            None => self.texts.push((item_id.to_string(), delta.to_string())),
        }
        self.emit.send(Event::AssistantDelta { turn: self.emit.turn, text: delta.to_string() });
    }

    fn audio(&mut self, item_id: &str, content_index: u32, delta: &str) {
        if !self.speak {
            return;
        }
        let Some(samples) = pcm_from_base64(delta) else {
            tracing::warn!(item_id, "Realtime audio that is not base64, skipped");
            return;
        };
        let first_of_item = !self.items.has(item_id);
        if self.metrics.ttfa_ms.is_none() {
            self.metrics.ttfa_ms = Some(ms_since(self.start));
            self.emit.phase(Phase::Speaking);
        }
        if first_of_item {
            let chunk = self.items.len();
            let text = self.texts.iter().find(|(i, _)| i == item_id).map(|(_, t)| t.clone()).unwrap_or_default();
            self.emit.send(Event::AssistantSpeaking { turn: self.emit.turn, chunk, text });
            if !self.tool_messages.is_empty() && self.metrics.answer_audio_ms.is_none() {
                self.metrics.answer_audio_ms = Some(ms_since(self.start));
            }
        }
        self.items.queue(self.output.as_ref(), item_id, content_index, &Pcm { samples, sample_rate: RATE });
    }

    /// Barge-in: stop the response (one asked for and not begun yet too)
    /// and tell the server what was heard.
    fn cut(&mut self, held: &TurnLink) {
        // Silent first, and what was heard is what the cut left played.
        let played = self.output.flush();
        if self.active || self.expect_response {
            held.send(|event_id| ClientEvent::CancelResponse { event_id });
            self.active = false;
            self.expect_response = false;
        }
        match self.items.cut(played) {
            Some(Cut::Truncate { item_id, content_index, audio_end_ms }) => {
                held.send(move |event_id| ClientEvent::Truncate { event_id, item_id, content_index, audio_end_ms })
            }
            Some(Cut::Delete { item_id }) => held.send(move |event_id| ClientEvent::DeleteItem { event_id, item_id }),
            None => {}
        }
        self.played = Some(played);
    }

    /// Accounts for the turn and ends it.
    pub(super) fn finish(mut self, end: End) -> TurnOutcome {
        let interrupted = end == End::Interrupted;
        let reply: String = self.texts.iter().map(|(_, t)| t.as_str()).collect();
        let played = self.played.unwrap_or_else(|| self.output.played_samples());
        let heard_chars = if !self.speak || (self.items.is_empty() && !interrupted) {
            reply.chars().count()
        } else {
            // Each item's words in the share of its audio that played, up to the first cut one.
            let shares = self.items.heard(played);
            let mut chars = 0;
            for (item, text) in &self.texts {
                let share = shares.iter().find(|(i, _)| i == item).map_or(0.0, |(_, s)| *s);
                let n = text.chars().count();
                chars += (n as f64 * share).floor() as usize;
                if share < 1.0 {
                    break;
                }
            }
            chars
        };
        let heard: String = reply.chars().take(heard_chars).collect::<String>().trim_end().to_string();
        let reason = match end {
            End::Cut(reason) => Some(reason),
            End::Done | End::Interrupted => None,
        };
        self.metrics.total_ms = ms_since(self.start);
        self.metrics.usage = Some(self.usage).filter(|u| *u != Usage::default());
        let request_type = self.user_text.as_deref().map(|text| {
            let called = self.tool_messages.iter().flat_map(|m| &m.tool_calls).map(|c| c.name.as_str());
            let (kind, by) = crate::request_type::decide(None, crate::request_type::by_tools(called), text);
            self.emit.send(Event::RequestClassified { turn: self.emit.turn, request_type: kind, by });
            kind
        });
        let outcome = TurnOutcome {
            user_text: self.user_text,
            answer_from: self.answer_from.min(heard.chars().count()),
            heard,
            heard_chars,
            reply,
            interrupted,
            incomplete: reason.is_some(),
            reason,
            metrics: self.metrics,
            tool_messages: self.tool_messages,
            request_type,
        };
        self.emit.ended(&outcome);
        outcome
    }
}
