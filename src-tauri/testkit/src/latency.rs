//! The server's latency model: how long each endpoint takes before and while it
//! answers, so benchmarks can compare Sori's time-to-first-audio to a known lower bound.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Modelled server times. Zero everywhere ([`LatencyModel::instant`]) is the
/// default for tests; benchmarks use [`LatencyModel::typical`] or their own.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LatencyModel {
    /// Speech-to-text: fixed part of the reply time.
    pub stt_base_ms: f64,
    /// Speech-to-text: added per second of uploaded audio.
    pub stt_ms_per_audio_second: f64,
    /// Chat: time to the first streamed token.
    pub chat_first_token_ms: f64,
    /// Chat: tokens per second after the first; 0 sends them all at once.
    pub chat_tokens_per_second: f64,
    /// Speech: time to the first audio byte.
    pub tts_first_byte_ms: f64,
    /// Speech: audio seconds produced per wall-clock second after the first
    /// byte; 0 sends the rest at once.
    pub tts_realtime_factor: f64,
}

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64(v.max(0.0) / 1000.0)
}

impl LatencyModel {
    /// No modelled delay at all.
    pub fn instant() -> Self {
        Self::default()
    }

    /// The model the pipeline benchmark states: STT 250 ms + 0.1 × audio
    /// seconds, first token 350 ms, 50 tokens/s, TTS first byte 200 ms, then
    /// 4× real time.
    pub fn typical() -> Self {
        LatencyModel {
            stt_base_ms: 250.0,
            stt_ms_per_audio_second: 100.0,
            chat_first_token_ms: 350.0,
            chat_tokens_per_second: 50.0,
            tts_first_byte_ms: 200.0,
            tts_realtime_factor: 4.0,
        }
    }

    /// Time from a transcription request to its reply.
    pub fn stt(&self, audio_seconds: f64) -> Duration {
        ms(self.stt_base_ms + self.stt_ms_per_audio_second * audio_seconds)
    }

    /// Time from a chat request to its token `index` (0-based).
    pub fn chat_token_at(&self, index: usize) -> Duration {
        let extra = if self.chat_tokens_per_second > 0.0 { index as f64 * 1000.0 / self.chat_tokens_per_second } else { 0.0 };
        ms(self.chat_first_token_ms + extra)
    }

    /// Time from a speech request to its byte carrying audio up to `audio_seconds`.
    pub fn tts_audio_at(&self, audio_seconds: f64) -> Duration {
        let extra = if self.tts_realtime_factor > 0.0 { audio_seconds * 1000.0 / self.tts_realtime_factor } else { 0.0 };
        ms(self.tts_first_byte_ms + extra)
    }

    /// The least time-to-first-audio any client can reach under this model:
    /// transcription, then the chat tokens of the first speakable chunk, then
    /// the first byte of its speech. Benchmarks report Sori's TTFA over this.
    pub fn ttfa_lower_bound(&self, audio_seconds: f64, first_chunk_tokens: usize) -> Duration {
        self.stt(audio_seconds) + self.chat_token_at(first_chunk_tokens.saturating_sub(1)) + self.tts_audio_at(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_bound_adds_the_stages() {
        let m = LatencyModel::typical();
        // 250 + 0.1 × 2000 ms, then 350 + 9 × 20 ms, then 200 ms.
        assert_eq!(m.ttfa_lower_bound(2.0, 10), Duration::from_millis(450 + 530 + 200));
        assert_eq!(LatencyModel::instant().ttfa_lower_bound(5.0, 30), Duration::ZERO);
    }

    #[test]
    fn zero_rates_mean_all_at_once() {
        let m = LatencyModel { chat_first_token_ms: 100.0, tts_first_byte_ms: 50.0, ..Default::default() };
        assert_eq!(m.chat_token_at(99), Duration::from_millis(100));
        assert_eq!(m.tts_audio_at(30.0), Duration::from_millis(50));
    }
}
