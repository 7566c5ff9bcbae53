//! The fake Realtime server's input audio buffer: appends, `commit` (the
//! 100 ms rule) and `clear`, and the turns its voice activity detection
//! (`vad.rs`) finds when `turn_detection` is on. A turn, in order:
//! `speech_started` (and a response it interrupts gets its cancelled
//! `response.done`), `speech_stopped`, the same `committed`, user item and
//! transcription as a manual commit, then a response (`create_response`).
//! With `server_vad`'s `idle_timeout_ms`, a response that ended with no speech
//! after it for that long (plus its audio's length) is followed by
//! `timeout_triggered`, the commit and a response.
//!
//! Times are ms of audio since the session's first appended audio.
//! `audio_start_ms` is the speech's start minus `prefix_padding_ms`, but not
//! before the buffer's start; `audio_end_ms` is the end of the last speech
//! frame plus the silence that ended it.

use super::{error, vad, Live};
use crate::script::default_transcript;
use serde_json::json;
use tokio::time::Instant;

/// Bytes of 24 kHz PCM16 per ms.
const BYTES_PER_MS: u64 = 48;

#[derive(Default)]
pub(super) struct Input {
    buffer: Vec<u8>,
    /// Bytes appended over the whole session: the audio clock.
    appended: u64,
    vad: vad::Vad,
    /// The speech under way: its user item's id and `audio_start_ms`.
    speech: Option<(String, u64)>,
    /// When the idle timeout fires, and the audio time it counts from.
    pub(super) idle: Option<(Instant, u64)>,
}

impl Input {
    pub(super) fn idle_deadline(&self) -> Option<Instant> {
        self.idle.map(|(at, _)| at)
    }

    /// Audio time now.
    fn now_ms(&self) -> u64 {
        self.appended / BYTES_PER_MS
    }

    /// The audio clock, in bytes, at the buffer's first byte.
    fn buffer_start(&self) -> u64 {
        self.appended - self.buffer.len() as u64
    }
}

impl Live {
    fn turn_detection(&self) -> Option<vad::Settings> {
        vad::Settings::from_turn_detection(&self.config["audio"]["input"]["turn_detection"])
    }

    /// `input_audio_buffer.append`: the audio joins the buffer, and the detector hears it.
    pub(super) async fn append(&mut self, audio: &[u8]) {
        self.input.buffer.extend_from_slice(audio);
        self.input.appended += audio.len() as u64;
        let settings = self.turn_detection();
        let edges = self.input.vad.push(audio, settings.as_ref());
        let Some(settings) = settings else {
            // Detection turned off mid-speech: that speech never stops.
            self.input.speech = None;
            return;
        };
        for edge in edges {
            match edge {
                vad::Edge::Started { at_ms } => self.speech_started(at_ms, &settings).await,
                vad::Edge::Stopped { at_ms } => self.speech_stopped(at_ms, &settings),
            }
        }
    }

    async fn speech_started(&mut self, at_ms: u64, settings: &vad::Settings) {
        let buffer_start_ms = self.input.buffer_start().div_ceil(BYTES_PER_MS);
        let audio_start_ms = at_ms.saturating_sub(settings.prefix_padding_ms).max(buffer_start_ms);
        let item_id = self.next_item();
        self.input.speech = Some((item_id.clone(), audio_start_ms));
        self.input.idle = None;
        self.send(json!({ "type": "input_audio_buffer.speech_started", "audio_start_ms": audio_start_ms, "item_id": item_id }));
        if settings.interrupt_response {
            self.stop("turn_detected").await;
        }
    }

    fn speech_stopped(&mut self, audio_end_ms: u64, settings: &vad::Settings) {
        let Some((item_id, audio_start_ms)) = self.input.speech.take() else {
            return;
        };
        self.send(json!({ "type": "input_audio_buffer.speech_stopped", "audio_end_ms": audio_end_ms, "item_id": item_id }));
        // The turn is the audio from its start (padding included) to the stop;
        // what came before goes, what came after stays for the next turn.
        let end = (audio_end_ms * BYTES_PER_MS).saturating_sub(self.input.buffer_start()).min(self.input.buffer.len() as u64);
        self.input.buffer.drain(..end as usize);
        self.commit(item_id, (audio_end_ms - audio_start_ms) as f64);
        if settings.create_response {
            // With `interrupt_response` off a response may still be running: then none.
            self.respond();
        }
    }

    /// `input_audio_buffer.commit`: the whole buffer, if it holds 100 ms. During
    /// detected speech the item is the one `speech_started` named, and no
    /// `speech_stopped` follows.
    pub(super) fn commit_buffer(&mut self, eid: Option<&str>) {
        let ms = self.input.buffer.len() as f64 / BYTES_PER_MS as f64;
        if ms < 100.0 {
            let message = format!(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has {ms:.2}ms of audio."
            );
            self.send(error("invalid_request_error", "input_audio_buffer_commit_empty", &message, None, eid));
            return;
        }
        let item_id = match self.input.speech.take() {
            Some((id, _)) => id,
            None => self.next_item(),
        };
        self.input.vad.reset();
        self.input.buffer.clear();
        self.commit(item_id, ms);
    }

    /// `input_audio_buffer.clear`: the buffer and any speech under way.
    pub(super) fn clear(&mut self) {
        self.input.buffer.clear();
        self.input.vad.reset();
        self.input.speech = None;
        self.send(json!({ "type": "input_audio_buffer.cleared" }));
    }

    /// The user's turn of `ms` of audio becomes the item `item_id`:
    /// `committed`, `conversation.item.added`, and, when transcription is
    /// configured, its transcript a little later.
    fn commit(&mut self, item_id: String, ms: f64) {
        self.send(json!({ "type": "input_audio_buffer.committed", "previous_item_id": null, "item_id": item_id }));
        let item = json!({ "id": item_id, "type": "message", "status": "completed", "role": "user", "content": [{ "type": "input_audio" }] });
        self.send(json!({ "type": "conversation.item.added", "previous_item_id": null, "item": item }));
        let language = self.config["audio"]["input"]["transcription"]["language"].as_str().map(str::to_string);
        let said = default_transcript(language.as_deref());
        self.conversation.messages.push(json!({ "role": "user", "content": said }));
        if self.config["audio"]["input"]["transcription"].is_object() {
            // The transcription model runs beside the response, so the
            // user's words usually arrive after the reply has begun.
            let latency = *self.shared.latency.lock().unwrap();
            let after = latency.stt(ms / 1000.0) + latency.chat_token_at(3);
            let event = json!({ "type": "conversation.item.input_audio_transcription.completed", "item_id": item_id, "content_index": 0, "transcript": said,
                "usage": { "type": "duration", "seconds": (ms / 1000.0).ceil() } });
            let (out, mut own_seq) = (self.out.clone(), self.seq + 50_000 * self.conversation.items);
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                super::send(&out, event, &mut own_seq);
            });
        }
    }

    /// A response ended, its audio `playback_ms` long: with server VAD's idle
    /// timeout, and nobody speaking, the idle timer starts.
    pub(super) fn idle_from_now(&mut self, playback_ms: u64) {
        let timeout = self.turn_detection().and_then(|s| s.idle_timeout_ms);
        self.input.idle = match timeout {
            Some(ms) if self.input.speech.is_none() => {
                Some((Instant::now() + std::time::Duration::from_millis(playback_ms + ms), self.input.now_ms()))
            }
            _ => None,
        };
    }

    /// The idle timer fired: `timeout_triggered` over the audio since the
    /// response ended, then the buffer (speech or not) is committed and answered.
    pub(super) fn idle_timeout(&mut self) {
        let Some((_, audio_start_ms)) = self.input.idle.take() else {
            return;
        };
        let Some(settings) = self.turn_detection().filter(|s| s.idle_timeout_ms.is_some()) else {
            return;
        };
        let item_id = self.next_item();
        let audio_end_ms = self.input.now_ms();
        self.send(json!({ "type": "input_audio_buffer.timeout_triggered", "audio_start_ms": audio_start_ms, "audio_end_ms": audio_end_ms, "item_id": item_id }));
        let ms = self.input.buffer.len() as f64 / BYTES_PER_MS as f64;
        self.input.buffer.clear();
        self.commit(item_id, ms);
        if settings.create_response {
            self.respond();
        }
    }
}
