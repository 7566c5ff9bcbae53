//! Starting and stopping the fake Realtime server's responses: `response.create`
//! and a turn the server's voice detection ends both start one (the script's
//! reply, as a ladder paced by the latency model, with the response faults);
//! `response.cancel` and speech over a response both stop one. A response's
//! task reports what it made when it ends, and then the idle timer may start.

use super::{ladder, Live, Stop};
use crate::faults::{Endpoint, Fault};
use crate::script::Reply;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

impl Live {
    /// A response's task ended: its items (with the audio it sent) join the conversation.
    pub(super) fn settle(&mut self, id: &str, made: ladder::Made) {
        if self.active.as_ref().is_some_and(|(a, _, _)| a == id) {
            self.active = None;
            self.idle_from_now(made.audio_items.iter().map(|(_, ms)| ms).sum());
        }
        self.conversation.audio.extend(made.audio_items);
        self.conversation.calls.extend(made.calls);
    }

    /// Settles every response whose task has ended.
    pub(super) fn drain(&mut self) {
        while let Ok((id, made)) = self.done_rx.try_recv() {
            self.settle(&id, made);
        }
    }

    /// Starts a response to the conversation so far, as `response.create` does;
    /// `false` (and nothing sent) when one is still active.
    pub(super) fn respond(&mut self) -> bool {
        // The latency model counts from the request, not from when the ladder is built.
        let start = Instant::now();
        self.drain();
        if self.active.is_some() {
            return false;
        }
        self.input.idle = None;
        self.responses += 1;
        let response_id = format!("resp_{:04}", self.responses);
        let tools: Vec<Value> = self.config["tools"].as_array().into_iter().flatten().map(|t| json!({ "type": "function", "function": t })).collect();
        let reply = self.shared.script.lock().unwrap().reply(&json!({ "messages": self.conversation.messages, "tools": tools }));
        if let Reply::Text(t) = &reply {
            self.conversation.messages.push(json!({ "role": "assistant", "content": t }));
        }
        let latency = *self.shared.latency.lock().unwrap();
        let voice = self.config["audio"]["output"]["voice"].as_str().unwrap_or("marin").to_string();
        let fault = self.shared.faults.lock().unwrap().take(Endpoint::Realtime);
        if fault == Some(Fault::ResponseFailed) {
            self.send(json!({ "type": "response.created", "response": ladder::response(&response_id, "in_progress", &[], None) }));
            self.send(ladder::failed(&response_id));
            return true;
        }
        let (mut events, made) = ladder::ladder(&response_id, &mut self.conversation.items, &reply, &latency, &voice);
        if let Some(Fault::SlowFirstByte { ms }) = fault {
            events.iter_mut().filter(|d| d.event["type"] != "response.created").for_each(|d| d.at += std::time::Duration::from_millis(ms));
        }
        let dropping = (fault == Some(Fault::CloseMidResponse)).then(|| self.drop_tx.clone());
        let stop = Arc::new(Stop::default());
        let (out, done, id, stopped) = (self.out.clone(), self.done_tx.clone(), response_id.clone(), stop.clone());
        // The ladder's own event ids continue from a range of its own.
        let mut ladder_seq = self.seq + 100_000 * self.responses;
        let task = tokio::spawn(async move {
            let mut made = Some(made);
            for due in events {
                tokio::select! {
                    _ = tokio::time::sleep(due.at.saturating_sub(start.elapsed())) => {}
                    _ = stopped.wake.notified() => {}
                }
                if stopped.is_set() {
                    break;
                }
                if due.event["type"] == "response.output_audio.delta" {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(due.event["delta"].as_str().unwrap_or_default())
                        .map(|b| b.len())
                        .unwrap_or(0);
                    if let Some(s) = made.as_mut().and_then(|m| m.audio_items.iter_mut().find(|(i, _)| due.event["item_id"] == i.as_str())) {
                        s.1 += (bytes / 48) as u64;
                    }
                }
                // The response is over for the session before the client can hear so.
                if due.event["type"] == "response.done" {
                    if let Some(m) = made.take() {
                        let _ = done.send((id.clone(), m));
                    }
                }
                let audio = due.event["type"] == "response.output_audio.delta";
                super::send(&out, due.event, &mut ladder_seq);
                if let (true, Some(dropping)) = (audio, &dropping) {
                    let _ = dropping.send(());
                    return;
                }
            }
            if let Some(m) = made {
                let _ = done.send((id, m));
            }
        });
        self.active = Some((response_id, task, stop));
        true
    }

    /// Stops the active response and sends its cancelled `response.done` with
    /// `reason` (`client_cancelled`, `turn_detected`); `false` when none is active.
    pub(super) async fn stop(&mut self, reason: &str) -> bool {
        self.drain();
        let Some((id, task, stop)) = self.active.take() else {
            return false;
        };
        stop.set();
        let _ = task.await;
        self.send(ladder::cancelled(&id, reason));
        self.idle_from_now(0);
        true
    }
}
