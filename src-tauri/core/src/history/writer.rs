//! Finished turns written to disk on a thread of their own, in order, so the
//! engine's task never waits for a file sync. The thread keeps the open
//! conversation file: a new conversation's file starts with its first turn,
//! and a reopened conversation's turns go on from its last number. Whoever
//! waits for a turn hears back only once it is synced; a failed write is a
//! warning, never a lost conversation (the turn is still in memory).

use super::{ConversationLog, History, TurnRecord};
use crate::event::{Event, WarningCode};
use std::io;
use std::sync::mpsc;
use tokio::sync::{mpsc::UnboundedSender, oneshot};

type Then = Box<dyn FnOnce() + Send>;

enum Job {
    /// The next turn starts a new conversation file.
    NewConversation,
    /// Continue conversation `id`: its records, and its file for the next turns.
    Resume(String, oneshot::Sender<io::Result<Vec<TurnRecord>>>),
    /// Keep a turn, then run `then`.
    Append(Box<TurnRecord>, Then),
}

/// The history writer; dropping it finishes the writes queued so far.
pub struct HistoryWriter {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HistoryWriter {
    pub fn start(history: History, events: UnboundedSender<Event>) -> io::Result<Self> {
        let (jobs, rx) = mpsc::channel();
        let thread = std::thread::Builder::new().name("sori-history".into()).spawn(move || run(history, rx, events))?;
        Ok(HistoryWriter { jobs: Some(jobs), thread: Some(thread) })
    }

    fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }

    pub fn new_conversation(&self) {
        self.send(Job::NewConversation);
    }

    /// Reopens conversation `id` for the next turns; resolves to its records.
    pub async fn resume(&self, id: &str) -> io::Result<Vec<TurnRecord>> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Resume(id.to_string(), tx));
        rx.await.map_err(|_| io::Error::other("the history writer has stopped"))?
    }

    /// Keeps `record` (numbered within its conversation) and then calls `then`:
    /// once the record is synced, or once its failure was reported as a warning.
    pub fn append(&self, record: TurnRecord, then: impl FnOnce() + Send + 'static) {
        self.send(Job::Append(Box::new(record), Box::new(then)));
    }
}

impl Drop for HistoryWriter {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(history: History, jobs: mpsc::Receiver<Job>, events: UnboundedSender<Event>) {
    let mut log: Option<ConversationLog> = None;
    for job in jobs {
        match job {
            Job::NewConversation => log = None,
            Job::Resume(id, reply) => {
                let opened = history.open(&id).and_then(|records| Ok((records, history.resume(&id)?)));
                let _ = reply.send(opened.map(|(records, resumed)| {
                    log = Some(resumed);
                    records
                }));
            }
            Job::Append(mut record, then) => {
                if let Err(e) = keep(&history, &mut log, &mut record) {
                    let message = format!("This turn could not be saved to the history: {e}.");
                    let _ = events.send(Event::warning(WarningCode::HistoryNotSaved, message));
                }
                then();
            }
        }
    }
}

/// Appends a turn, starting the conversation's file on its first turn.
/// Records are numbered within their conversation (event turn ids count
/// across the session).
fn keep(history: &History, log: &mut Option<ConversationLog>, record: &mut TurnRecord) -> io::Result<()> {
    if log.is_none() {
        *log = Some(history.start()?);
    }
    let open = log.as_mut().expect("just started");
    record.turn = open.next_turn();
    let kept = open.append(record);
    if kept.is_err() {
        // A write that failed part-way may have left a torn line: reopening
        // cuts it, so the next turn starts on a line of its own, with the
        // number that follows what the file really holds.
        let id = open.id.clone();
        *log = history.resume(&id).ok();
    }
    kept
}
