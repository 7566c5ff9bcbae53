//! Cleans each microphone frame before anything listens to it: takes Sori's
//! own voice back out (AEC3), and optionally the room's steady noise and
//! uneven level, through `sonora`, a pure-Rust port of WebRTC's audio
//! processing (chosen over the C library by measurement: see the README).
//! The far end comes from [`EchoReference`], lined up with the microphone by
//! the two devices' timestamps; AEC3's own delay estimator takes up what the
//! timestamps leave (the air between speaker and microphone, drift). When
//! the user clearly speaks over Sori and the suppressor took them out with
//! the echo anyway, the raw frame is kept (`double_talk`).

use super::double_talk::DoubleTalk;
use super::reference::{EchoReference, FarFrame, HALF_FRAME};
use sonora::config::{EchoCanceller, GainController2, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which cleaning runs on the microphone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cleanup {
    /// Remove what the speaker played (needs the reference).
    pub echo: bool,
    /// Remove steady background noise (fans, hum).
    pub noise: bool,
    /// Even out the level (automatic gain).
    pub gain: bool,
}

impl Cleanup {
    pub fn any(&self) -> bool {
        self.echo || self.noise || self.gain
    }
}

/// How well the echo is being removed, over the last second in which Sori
/// was heard.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EchoStats {
    /// Echo return loss enhancement: how much quieter the cleaned signal is
    /// than the raw one while Sori speaks (and the user does not), in dB.
    pub erle_db: Option<f32>,
    /// AEC3's estimate of the delay left after the timestamps, in ms.
    pub delay_ms: Option<i32>,
}

/// Far-end frames older than this, relative to the microphone, can no longer
/// be in its echo (a stalled capture thread catching up drops them).
const STALE: Duration = Duration::from_millis(1000);
/// A far-end frame at least this loud counts as Sori speaking (dBFS).
pub(super) const FAR_ACTIVE_DBFS: f32 = -45.0;
/// A cleaned frame below this share of the raw one's energy (6 dB) was
/// taken out, not just cleaned of an echo 12 dB under the user.
const KEEP_BELOW: f64 = 0.251;

pub struct Cleaner {
    apm: AudioProcessing,
    reference: Option<Arc<EchoReference>>,
    far: VecDeque<FarFrame>,
    scratch: [i16; HALF_FRAME],
    /// Raw and cleaned energy while the far end is active, this second and the last.
    meter: (f64, f64, u32),
    last_far_active: Option<Instant>,
    stats: EchoStats,
    double_talk: DoubleTalk,
}

impl Cleaner {
    /// A cleaner for 16 kHz mono frames; `None` when nothing is switched on.
    /// Echo cancellation without a reference (no speaker) cancels nothing.
    pub fn new(cleanup: Cleanup, reference: Option<Arc<EchoReference>>) -> Option<Cleaner> {
        if !cleanup.any() {
            return None;
        }
        let config = Config {
            echo_canceller: cleanup.echo.then(EchoCanceller::default),
            noise_suppression: cleanup.noise.then(NoiseSuppression::default),
            gain_controller2: cleanup.gain.then(GainController2::default),
            ..Default::default()
        };
        let stream = StreamConfig::new(16_000, 1);
        let apm = AudioProcessing::builder().config(config).capture_config(stream).render_config(stream).build();
        let reference = reference.filter(|_| cleanup.echo);
        Some(Cleaner {
            apm,
            reference,
            far: VecDeque::new(),
            scratch: [0; HALF_FRAME],
            meter: (0.0, 0.0, 0),
            last_far_active: None,
            stats: EchoStats::default(),
            double_talk: DoubleTalk::default(),
        })
    }

    pub fn stats(&self) -> EchoStats {
        self.stats
    }

    /// Cleans a 20 ms frame in place; `at` is when its last sample was taken.
    pub fn process(&mut self, frame: &mut [i16], at: Instant) {
        if let Some(reference) = &self.reference {
            reference.read(|f| self.far.push_back(f));
        }
        let raw: f64 = energy(frame);
        // What the microphone heard, kept in case double talk calls for it.
        let heard: Option<[i16; 2 * HALF_FRAME]> = self.reference.as_ref().and_then(|_| frame.try_into().ok());
        let start = at.checked_sub(Duration::from_micros(19_937)).unwrap_or(at);
        for (i, half) in frame.chunks_exact_mut(HALF_FRAME).enumerate() {
            let begins = start + Duration::from_millis(10 * i as u64);
            self.feed_far_until(begins + Duration::from_millis(10));
            // The timestamps have lined the two up already.
            let _ = self.apm.set_stream_delay_ms(0);
            let input: [i16; HALF_FRAME] = half.try_into().expect("10 ms halves");
            if self.apm.process_capture_i16(&input, half).is_err() {
                half.copy_from_slice(&input);
            }
        }
        let mut clean = energy(frame);
        // The user clearly over Sori, but the suppressor took them out with
        // the echo (6 dB or more quieter): what the microphone heard is kept
        // (the echo in it is at least 12 dB below them).
        if let Some(heard) = heard {
            let raw_db = crate::audio::vad::dbfs(raw / heard.len() as f64);
            if self.double_talk.near_end(raw_db, at) && clean < raw * KEEP_BELOW {
                frame.copy_from_slice(&heard);
                clean = raw;
            }
        }
        self.measure(raw, clean, at);
    }

    /// Plays into the canceller every far-end frame that had started playing
    /// by `until`, oldest first; stale ones are dropped unheard. When the
    /// speaker gave nothing for this 10 ms (a stream that stalled or was
    /// reopened), silence goes in instead: AEC3 wants one far frame per
    /// microphone frame, and a far end that stops makes it lose its alignment.
    fn feed_far_until(&mut self, until: Instant) {
        let mut fed = false;
        while let Some(f) = self.far.front() {
            if f.at >= until {
                break;
            }
            let f = self.far.pop_front().expect("looked at");
            if until.duration_since(f.at) > STALE {
                continue;
            }
            let level = crate::audio::vad::rms_dbfs(&f.samples);
            if level >= FAR_ACTIVE_DBFS {
                self.last_far_active = Some(f.at);
            }
            self.double_talk.far(f.at, level);
            let _ = self.apm.process_render_i16(&f.samples, &mut self.scratch);
            fed = true;
        }
        // Nothing due and nothing about to be (a frame a little late is drift, not a gap).
        let gap = self.far.front().is_none_or(|f| f.at >= until + Duration::from_millis(10));
        if self.reference.is_some() && !fed && gap {
            let _ = self.apm.process_render_i16(&[0; HALF_FRAME], &mut self.scratch);
        }
    }

    /// ERLE over each second in which Sori was heard (within the last 300 ms).
    fn measure(&mut self, raw: f64, clean: f64, at: Instant) {
        let far_on = self.last_far_active.is_some_and(|t| at.checked_duration_since(t).is_none_or(|d| d < Duration::from_millis(300)));
        if !far_on {
            return;
        }
        self.meter.0 += raw;
        self.meter.1 += clean;
        self.meter.2 += 1;
        if self.meter.2 == 50 {
            let (raw, clean, _) = std::mem::take(&mut self.meter);
            self.stats.erle_db = (raw > 0.0).then(|| (10.0 * (raw / clean.max(1.0)).log10()) as f32);
            self.stats.delay_ms = self.apm.statistics().delay_ms;
        }
    }
}

fn energy(frame: &[i16]) -> f64 {
    frame.iter().map(|&s| (s as f64) * (s as f64)).sum()
}

#[cfg(test)]
#[path = "cleaner_tests.rs"]
mod tests;
