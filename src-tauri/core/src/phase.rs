//! The engine's phase (idle, listening, transcribing, thinking, speaking) in
//! one place: a `watch` channel that anything may follow without asking the
//! front end (capture's self-gating reads it directly), and a `Status` event
//! on the event stream each time it changes. Only the engine and the turns it
//! runs set it.

use crate::event::{Event, Phase};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// The phase and the event stream its changes go to; cheap to clone.
#[derive(Clone, Debug)]
pub struct PhaseCell {
    phase: Arc<watch::Sender<Phase>>,
    events: mpsc::UnboundedSender<Event>,
}

impl PhaseCell {
    pub fn new(events: mpsc::UnboundedSender<Event>) -> Self {
        PhaseCell { phase: Arc::new(watch::Sender::new(Phase::Idle)), events }
    }

    /// Moves to `phase`; a change is announced with a `Status` event.
    pub fn set(&self, phase: Phase) {
        let changed = self.phase.send_if_modified(|current| std::mem::replace(current, phase) != phase);
        if changed {
            let _ = self.events.send(Event::Status { phase });
        }
    }

    pub fn get(&self) -> Phase {
        *self.phase.borrow()
    }

    /// Follows the phase (from any thread: `borrow()` never blocks for long).
    pub fn subscribe(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_announced_once_and_followed() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let cell = PhaseCell::new(tx);
        let follower = cell.subscribe();
        cell.set(Phase::Thinking);
        cell.set(Phase::Thinking);
        cell.set(Phase::Speaking);
        assert_eq!(*follower.borrow(), Phase::Speaking);
        let events: Vec<Event> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(events, [Event::Status { phase: Phase::Thinking }, Event::Status { phase: Phase::Speaking }]);
    }
}
