//! A Realtime turn the server's voice detection started: the microphone
//! streams to the server, which hears the user start and stop, commits
//! what they said and answers on its own. From the commit on it is a turn
//! like any other ([`super::turn`]); its metrics count from the server's
//! `speech_stopped`, the moment the user finished.
//!
//! Events, in order: `UserSpeechStarted` and `Status{listening}`, then
//! `Status{thinking}` at the end of speech, then as in a pushed turn.

use super::events::ServerEvent;
use super::link::{Link, LinkEvent};
use super::turn::{End, Turn};
use crate::audio::output::AudioOutput;
use crate::event::{Event, Incomplete, Phase, Stage};
use crate::provider::{ErrorKind, ProviderError, Providers, ToolCall};
use crate::turn::{Emitter, TurnOutcome, TurnSettings};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The longest one utterance may run before the server commits it.
const LONGEST_UTTERANCE: Duration = Duration::from_secs(120);

/// Runs the turn the server has started hearing. Never panics on what the server sends.
pub async fn run_turn(
    link: Arc<Link>,
    awaiting: Option<ToolCall>,
    providers: &Providers,
    settings: &TurnSettings,
    output: Arc<dyn AudioOutput>,
    emit: Emitter,
    cancel: CancellationToken,
) -> TurnOutcome {
    let mut t = Turn::new(emit.clone(), output, settings);
    t.awaiting = awaiting;
    let mut held = match t.take_link(&link, true, &cancel).await {
        Ok(h) => h,
        Err(end) => return t.finish(end),
    };
    let until = Instant::now() + LONGEST_UTTERANCE;
    while t.user_item.is_none() {
        let event = tokio::select! {
            e = tokio::time::timeout_at(until, held.events.recv()) => e,
            _ = cancel.cancelled() => return t.finish(End::Interrupted),
        };
        match event {
            Ok(Some(LinkEvent::Server(ServerEvent::SpeechStarted { .. }))) => {
                emit.send(Event::UserSpeechStarted);
                emit.phase(Phase::Listening);
            }
            Ok(Some(LinkEvent::Server(ServerEvent::SpeechStopped { .. }))) => {
                // From when it arrived, though the turn may read it a little later.
                t.start = link.speech_stopped_at().map_or_else(Instant::now, Instant::from_std);
                emit.phase(Phase::Thinking);
            }
            Ok(Some(LinkEvent::Server(ServerEvent::Committed { item_id }))) => {
                t.user_item = Some(item_id);
                // The server answers a committed turn by itself.
                t.expect_response = true;
            }
            Ok(Some(LinkEvent::Server(_))) => {}
            Ok(Some(LinkEvent::Lost(e))) => {
                emit.error(Stage::Chat, &e);
                return t.finish(End::Cut(Incomplete::Failed));
            }
            Ok(None) | Err(_) => {
                let e = ProviderError::new(ErrorKind::Timeout, "The Realtime server heard you start but never took your words in.");
                emit.error(Stage::Transcription, &e);
                return t.finish(End::Cut(Incomplete::Failed));
            }
        }
    }
    t.answer(&mut held, providers, &cancel).await
}
