//! Where a served turn's speech goes: into the channel its response reads.
//! For an HTTP reply everything sent counts as heard. For a WebSocket client,
//! which plays as it receives, what was heard is reckoned by the clock: each
//! piece starts when it arrives or when the one before it ends, and plays in
//! real time; so a barge-in keeps only the words the caller could have heard.

use super::turn::Item;
use sori_core::audio::output::AudioOutput;
use sori_core::audio::Pcm;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::mpsc;

pub struct ChannelOutput {
    tx: mpsc::UnboundedSender<Item>,
    queued: AtomicU64,
    /// When paced: each piece's start, length and rate.
    pieces: Option<Mutex<Vec<(Instant, u64, u32)>>>,
    flushed: AtomicU64,
}

impl ChannelOutput {
    pub fn new(tx: mpsc::UnboundedSender<Item>, paced: bool) -> Self {
        ChannelOutput { tx, queued: AtomicU64::new(0), pieces: paced.then(|| Mutex::new(Vec::new())), flushed: AtomicU64::new(0) }
    }
}

/// Samples of `pieces` played by `now`, each piece at its own rate.
fn played_by(pieces: &[(Instant, u64, u32)], now: Instant) -> u64 {
    pieces.iter().map(|&(start, len, rate)| ((now.saturating_duration_since(start).as_secs_f64() * f64::from(rate)) as u64).min(len)).sum()
}

impl AudioOutput for ChannelOutput {
    fn queue(&self, pcm: &Pcm) {
        let len = pcm.samples.len() as u64;
        if let Some(pieces) = &self.pieces {
            let mut pieces = pieces.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = pieces.last().map_or(now, |&(s, l, r)| (s + std::time::Duration::from_secs_f64(l as f64 / f64::from(r.max(1)))).max(now));
            pieces.push((start, len, pcm.sample_rate));
        }
        self.queued.fetch_add(len, Ordering::SeqCst);
        let _ = self.tx.send(Item::Audio(pcm.clone()));
    }

    fn flush(&self) -> u64 {
        let played = self.played_samples();
        self.flushed.store(self.queued.load(Ordering::SeqCst), Ordering::SeqCst);
        if let Some(pieces) = &self.pieces {
            pieces.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        played
    }

    fn played_samples(&self) -> u64 {
        match &self.pieces {
            None => self.queued.load(Ordering::SeqCst),
            Some(pieces) => self.flushed.load(Ordering::SeqCst) + played_by(&pieces.lock().unwrap_or_else(|p| p.into_inner()), Instant::now()),
        }
    }

    fn queued_samples(&self) -> u64 {
        self.queued.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn paced_pieces_play_one_after_another_in_real_time() {
        let t0 = Instant::now();
        // One second at 24 kHz arriving at 0, then half a second at 16 kHz arriving at 0.2 s (queued behind).
        let pieces = [(t0, 24_000, 24_000), (t0 + Duration::from_secs(1), 8_000, 16_000)];
        assert_eq!(played_by(&pieces, t0 + Duration::from_millis(500)), 12_000);
        assert_eq!(played_by(&pieces, t0 + Duration::from_millis(1250)), 24_000 + 4_000);
        assert_eq!(played_by(&pieces, t0 + Duration::from_secs(9)), 32_000);
    }
}
