//! The engine's Realtime side: switching pipelines (a new link starts from
//! the conversation so far), keeping the link's context up to date, the
//! microphone streamed to the server's voice detection (16 kHz frames on
//! into 24 kHz), and the turns the server starts.

use super::{Engine, Kind, Running};
use crate::audio::resample::Streaming;
use crate::event::{Event, LinkState};
use crate::realtime::events::RATE;
use crate::realtime::link::{Context, Link, LinkSetup};
use crate::turn::Emitter;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a turn the user spoke over has to end by itself: longer than
/// it waits for its own question's late transcript (500 ms), so that a turn
/// is not lost from the history for want of its words.
const LET_GO: Duration = Duration::from_millis(700);

/// Realtime mode as the engine runs it.
pub(super) struct RealtimeMode {
    pub(super) link: Arc<Link>,
    /// The microphone streams to the server, whose detection starts turns.
    to_24k: Option<Streaming>,
}

/// Returns when the server has started a turn; never without a link.
pub(super) async fn heard(link: Option<Arc<Link>>) {
    match link {
        Some(link) => link.heard().await,
        None => std::future::pending().await,
    }
}

impl Engine {
    /// Switches between the pipelines; a new link starts from the conversation so far.
    pub(super) fn set_realtime(&mut self, setup: Option<LinkSetup>) {
        self.realtime = setup.map(|mut setup| {
            setup.tools = self.providers.tools.clone();
            let streams = setup.session.audio.input.turn_detection.is_some();
            let to_24k = streams.then(|| Streaming::between(16_000, RATE).expect("16 and 24 kHz are supported rates"));
            RealtimeMode { link: Arc::new(Link::start(setup, self.context(), self.events.clone())), to_24k }
        });
        if self.realtime.is_none() {
            let _ = self.events.send(Event::Realtime { state: LinkState::Off, attempt: None, wait_ms: None, message: None, context_turns: None });
        }
    }

    pub(super) fn context(&self) -> Context {
        Context { instructions: self.conversation.persona.clone(), turns: self.conversation.turns().to_vec() }
    }

    /// A Realtime session made from now on starts from the conversation as it is.
    pub(super) fn share_context(&self) {
        if let Some(mode) = &self.realtime {
            mode.link.set_context(self.context());
        }
    }

    /// Microphone audio (16 kHz) for the server's voice detection; ignored
    /// unless the server ends the turns.
    pub(super) fn stream(&mut self, samples: &[i16]) {
        let Some(RealtimeMode { link, to_24k: Some(to_24k) }) = &mut self.realtime else { return };
        let mut out = Vec::with_capacity(samples.len() * 3 / 2 + 480);
        to_24k.push_i16(samples, |frame| out.extend_from_slice(frame));
        if !out.is_empty() {
            link.append(out);
        }
    }

    /// The server heard the user start: whatever runs stops (a reply is
    /// cut where the speaker was) and the server's turn begins.
    pub(super) async fn server_turn(&mut self) {
        let Some(link) = self.realtime.as_ref().map(|m| m.link.clone()) else { return };
        // A turn hears the start too and ends by itself, knowing the server
        // has cancelled its response; it is stopped only if it lingers.
        if let Some(mut r) = self.running.take() {
            let ended = match r.kind {
                Kind::Turn { .. } => tokio::time::timeout(LET_GO, &mut r.task).await.ok(),
                Kind::Sound(_) => None,
            };
            let done = match ended {
                Some(done) => done,
                None => {
                    r.cancel.cancel();
                    (&mut r.task).await
                }
            };
            r.cancel.cancel();
            self.finished(r.kind, done);
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let cancel = CancellationToken::new();
        let emit = Emitter::with_phase(id, self.events.clone(), self.phase.clone());
        let (providers, settings, output, token) = (self.providers.clone(), self.settings.clone(), self.output.clone(), cancel.clone());
        // A held call is answered by the model hearing the user: its repeat runs.
        let awaiting = self.conversation.awaiting_confirmation();
        let task =
            tokio::spawn(
                async move { Some(crate::realtime::server_turn::run_turn(link, awaiting, &providers, &settings, output, emit, token).await) },
            );
        self.running = Some(Running { cancel, task, kind: Kind::Turn { id, reply_to: None } });
    }
}
