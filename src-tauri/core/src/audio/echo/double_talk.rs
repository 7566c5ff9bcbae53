//! Double talk: whether the microphone holds far more than Sori's echo could
//! explain, judged from the raw microphone against the loudest thing the
//! speaker played in the last 320 ms and how loud that usually comes back
//! (learned while Sori speaks). AEC3's suppressor now and then takes the
//! user's first word out with the echo when it lands on a loud syllable of
//! Sori's; when the user clearly stands above any echo, the cleaner keeps
//! what the microphone heard instead, so barge-in and the transcript hear it.

use super::cleaner::FAR_ACTIVE_DBFS;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far back the speaker's output can still be in the microphone: the
/// echo's delay and the room's tail.
const WINDOW: Duration = Duration::from_millis(320);
/// The microphone is never the user over Sori below this level (dBFS).
const NEAR_FLOOR_DBFS: f32 = -40.0;
/// Frames of Sori speaking learned from: about five seconds.
const HISTORY: usize = 250;
/// Frames learned before judging: a second of Sori's voice.
const WARM: usize = 50;
/// How far above the echo's usual level (its 90th percentile) the
/// microphone must be: far past the spread of an echo, as loud as a user
/// speaking over it.
const MARGIN_DB: f32 = 12.0;

#[derive(Debug, Default)]
pub struct DoubleTalk {
    /// Far-end frame levels by play time, the last `WINDOW` and a bit.
    far: VecDeque<(Instant, f32)>,
    /// Microphone level over the loudest far end, of frames while Sori spoke.
    ratios: VecDeque<f32>,
    /// The echo's usual ratio (90th percentile), refreshed as frames come.
    usual: Option<f32>,
    since_refresh: usize,
}

impl DoubleTalk {
    /// A far-end frame, as it goes into the canceller.
    pub fn far(&mut self, at: Instant, dbfs: f32) {
        self.far.push_back((at, dbfs));
    }

    /// Whether this microphone frame (raw level, captured by `at`) holds
    /// the user over Sori: far louder than its echo could be.
    pub fn near_end(&mut self, raw_dbfs: f32, at: Instant) -> bool {
        let since = at.checked_sub(WINDOW).unwrap_or(at);
        while self.far.front().is_some_and(|(t, _)| *t < since) {
            self.far.pop_front();
        }
        let loudest = self.far.iter().filter(|(t, _)| *t <= at).map(|(_, db)| *db).fold(f32::MIN, f32::max);
        if loudest < FAR_ACTIVE_DBFS || raw_dbfs <= -90.0 {
            return false; // no echo to tell apart, or nothing heard
        }
        let ratio = raw_dbfs - loudest;
        let judged = self.usual.is_some_and(|usual| raw_dbfs >= NEAR_FLOOR_DBFS && ratio >= usual + MARGIN_DB);
        // Every frame is learned from: the user speaks over Sori for a small
        // part of the time, and a louder echo (the volume turned up) must
        // become the usual level within seconds.
        self.ratios.push_back(ratio);
        if self.ratios.len() > HISTORY {
            self.ratios.pop_front();
        }
        self.since_refresh += 1;
        if self.ratios.len() >= WARM && (self.usual.is_none() || self.since_refresh >= 10) {
            let mut sorted: Vec<f32> = self.ratios.iter().copied().collect();
            let k = (sorted.len() * 9 / 10).min(sorted.len() - 1);
            let (_, p90, _) = sorted.select_nth_unstable_by(k, f32::total_cmp);
            self.usual = Some(*p90);
            self.since_refresh = 0;
        }
        judged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sori speaking at `far_db` in 10 ms frames, its echo `erl` dB quieter
    /// 50 ms later, and what the microphone hears on top: the judgments of
    /// 20 ms frames over `seconds`.
    fn run(dt: &mut DoubleTalk, t0: Instant, from: f64, seconds: f64, mic: impl Fn(f64, f32) -> f32) -> Vec<bool> {
        let mut out = vec![];
        let frames = (seconds * 50.0) as usize;
        for k in 0..frames {
            let t = from + k as f64 * 0.02;
            for half in 0..2 {
                let at = t + half as f64 * 0.01;
                dt.far(t0 + Duration::from_secs_f64(at), speech(at, -18.0));
            }
            let echo = speech(t - 0.05, -36.0);
            out.push(dt.near_end(mic(t, echo), t0 + Duration::from_secs_f64(t + 0.02)));
        }
        out
    }

    /// Sori's level at `at` seconds: syllables `loud` and 8 dB quieter in
    /// turn, a pause every 0.8 s.
    fn speech(at: f64, loud: f32) -> f32 {
        if (at * 1.25).fract() < 0.15 {
            -100.0
        } else if (at * 5.0).fract() < 0.5 {
            loud
        } else {
            loud - 8.0
        }
    }

    #[test]
    fn sori_s_own_echo_is_never_taken_for_the_user() {
        let mut dt = DoubleTalk::default();
        let t0 = Instant::now();
        // Twenty seconds of echo alone, a little noisy around its level.
        let judged = run(&mut dt, t0, 0.0, 20.0, |t, echo| echo + ((t * 37.0).sin() as f32) * 3.0);
        assert_eq!(judged.iter().filter(|&&j| j).count(), 0);
    }

    #[test]
    fn the_user_well_above_the_echo_is_heard_and_a_quiet_one_is_left_to_the_canceller() {
        let mut dt = DoubleTalk::default();
        let t0 = Instant::now();
        run(&mut dt, t0, 0.0, 3.0, |_, echo| echo);
        // The user 18 dB over the echo's loud syllables, as long as a
        // barge-in takes.
        let loud = run(&mut dt, t0, 3.0, 0.3, |_, _| -18.0);
        assert!(loud.iter().all(|&j| j), "{loud:?}");
        // A user only 6 dB over the echo: the canceller's to judge.
        let quiet = run(&mut dt, t0, 3.3, 0.5, |_, echo| if echo < -90.0 { -100.0 } else { echo + 6.0 });
        assert_eq!(quiet.iter().filter(|&&j| j).count(), 0, "{quiet:?}");
    }

    #[test]
    fn nothing_is_judged_before_sori_has_been_heard_or_while_it_is_silent() {
        let mut dt = DoubleTalk::default();
        let t0 = Instant::now();
        // Loud from the start: nothing learned yet.
        assert!(run(&mut dt, t0, 0.0, 0.5, |_, _| -15.0).iter().all(|&j| !j));
        // No far end at all: the user alone is no double talk.
        let mut quiet = DoubleTalk::default();
        assert!((0..100).all(|k| !quiet.near_end(-15.0, t0 + Duration::from_millis(20 * k))));
    }
}
