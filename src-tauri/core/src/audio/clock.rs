//! When each 16 kHz frame was captured, on the `Instant` clock: the capture
//! callback marks, for each block it receives, how many samples came before
//! it and when its first one was taken (cpal's capture timestamp, moved onto
//! `Instant` by the callback's own delay); the capture thread then dates
//! every resampled frame by its last sample, counting back through the
//! resampler's delay. Echo cancellation lines the microphone up with the
//! speaker by these times.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A block from the device: `index` samples (at the device rate) came
/// before it, and its first sample was taken `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub index: u64,
    pub at: Instant,
}

/// Dates the frames a capture stream produces.
#[derive(Debug)]
pub struct FrameClock {
    rate: f64,
    /// The resampler's delay, in 16 kHz samples.
    delay: u64,
    /// 16 kHz samples produced so far.
    produced: u64,
    marks: VecDeque<Mark>,
}

impl FrameClock {
    pub fn new(input_rate: u32, resampler_delay: usize) -> Self {
        FrameClock { rate: input_rate as f64, delay: resampler_delay as u64, produced: 0, marks: VecDeque::new() }
    }

    pub fn mark(&mut self, mark: Mark) {
        self.marks.push_back(mark);
    }

    /// When input sample `index` is due, counting on from the newest mark.
    pub fn expected_at(&self, index: u64) -> Option<Instant> {
        let mark = self.marks.back()?;
        let ahead = index.saturating_sub(mark.index) as f64 / self.rate;
        Some(mark.at + Duration::from_secs_f64(ahead))
    }

    /// The capture time of the last sample of the next frame, `len` samples
    /// long; `None` before the device has said anything.
    pub fn next_frame(&mut self, len: usize) -> Option<Instant> {
        self.produced += len as u64;
        let last = (self.produced - 1).saturating_sub(self.delay);
        let input = last as f64 * self.rate / 16_000.0;
        // The newest mark at or before that sample; older ones are no longer needed.
        while self.marks.len() > 1 && self.marks[1].index as f64 <= input {
            self.marks.pop_front();
        }
        let mark = self.marks.front()?;
        let offset = (input - mark.index as f64) / self.rate;
        Some(if offset >= 0.0 {
            mark.at + Duration::from_secs_f64(offset)
        } else {
            mark.at.checked_sub(Duration::from_secs_f64(-offset)).unwrap_or(mark.at)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_dated_by_their_last_sample_through_the_marks() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // 48 kHz blocks of 10 ms, the second one delivered a little late (its own mark says so).
        let mut clock = FrameClock::new(48_000, 0);
        clock.mark(Mark { index: 0, at: ms(0) });
        clock.mark(Mark { index: 480, at: ms(10) });
        clock.mark(Mark { index: 960, at: ms(25) });
        let first = clock.next_frame(320).unwrap(); // 16 kHz samples 0..320: 48 kHz 0..960
        let d = |a: Instant, b: Instant| (a - b).as_secs_f64() * 1000.0;
        assert!((d(first, ms(0)) - 19.94).abs() < 0.1, "{}", d(first, ms(0)));
        let second = clock.next_frame(320).unwrap(); // ends at 48 kHz sample 1917: 20 ms after the third mark
        assert!((d(second, ms(25)) - 19.94).abs() < 0.1, "{}", d(second, ms(0)));
        // The resampler's delay moves dates back.
        let mut delayed = FrameClock::new(16_000, 160);
        delayed.mark(Mark { index: 0, at: ms(100) });
        assert_eq!(delayed.next_frame(320), Some(ms(100) + Duration::from_secs_f64(159.0 / 16_000.0)));
        assert_eq!(FrameClock::new(16_000, 0).next_frame(320), None);
    }
}
