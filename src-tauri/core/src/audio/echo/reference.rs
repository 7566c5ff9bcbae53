//! The far end for echo cancellation: exactly what Sori's playback hands the
//! sound device, after mixing, dated by when the device says it will play
//! it. The output callback writes it into lock-free rings (no lock waited
//! on, nothing allocated); the capture thread reads it, resamples it to
//! 16 kHz and dates every 10 ms frame by its first sample's play time, so
//! the canceller can line it up with the microphone on one clock. A new
//! device (another rate, another latency) starts a new run of blocks, so a
//! device change is followed at once.

use crate::audio::clock::{FrameClock, Mark};
use crate::audio::resample::To16k;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Samples in 10 ms at 16 kHz: the canceller's frame.
pub const HALF_FRAME: usize = 160;

/// One block from the output callback: `len` mono samples at `rate`, the
/// first played at `at`.
#[derive(Debug, Clone, Copy)]
struct Block {
    len: u32,
    rate: u32,
    at: Instant,
}

/// The callback's side.
struct Writer {
    samples: rtrb::Producer<f32>,
    blocks: rtrb::Producer<Block>,
}

/// The capture thread's side: turns blocks back into dated 16 kHz frames.
struct Reader {
    samples: rtrb::Consumer<f32>,
    blocks: rtrb::Consumer<Block>,
    /// The current run: its rate, resampler, clock and samples seen so far.
    run: Option<(u32, To16k, FrameClock, u64)>,
    scratch: Vec<f32>,
}

/// A 10 ms frame of what was played, 16 kHz mono, and when its first sample
/// left the loudspeaker.
#[derive(Debug, Clone)]
pub struct FarFrame {
    pub samples: [i16; HALF_FRAME],
    pub at: Instant,
}

/// What the speaker plays, for the microphone to take back out.
pub struct EchoReference {
    writer: Mutex<Writer>,
    reader: Mutex<Reader>,
}

impl Default for EchoReference {
    fn default() -> Self {
        Self::new()
    }
}

impl EchoReference {
    pub fn new() -> Self {
        // Two seconds at 48 kHz: the capture thread drains every few ms, and
        // when no one captures, whole blocks are dropped, never half of one.
        let (samples, samples_rx) = rtrb::RingBuffer::new(96_000);
        let (blocks, blocks_rx) = rtrb::RingBuffer::new(4096);
        EchoReference {
            writer: Mutex::new(Writer { samples, blocks }),
            reader: Mutex::new(Reader { samples: samples_rx, blocks: blocks_rx, run: None, scratch: Vec::with_capacity(8192) }),
        }
    }

    /// From the output callback: `frames` interleaved frames of `channels`,
    /// mixed to mono as they go, the first played at `at`. Never blocks: if
    /// another stream holds the writer (a device switch under way) or the
    /// rings are full, the block is left out whole.
    pub fn write<T: Copy>(&self, data: &[T], channels: usize, rate: u32, at: Instant, to_f32: impl Fn(T) -> f32) {
        let Ok(mut w) = self.writer.try_lock() else { return };
        let len = data.len() / channels.max(1);
        if len == 0 || w.samples.slots() < len || w.blocks.slots() < 1 {
            return;
        }
        for frame in data.chunks_exact(channels.max(1)) {
            let sum: f32 = frame.iter().map(|&s| to_f32(s)).sum();
            let _ = w.samples.push(sum / channels.max(1) as f32);
        }
        let _ = w.blocks.push(Block { len: len as u32, rate, at });
    }

    /// From the capture thread: every far-end frame written since the last
    /// call, oldest first.
    pub fn read(&self, mut on_frame: impl FnMut(FarFrame)) {
        let Ok(mut r) = self.reader.lock() else { return };
        let r = &mut *r;
        while let Ok(block) = r.blocks.pop() {
            r.scratch.clear();
            for _ in 0..block.len {
                match r.samples.pop() {
                    Ok(s) => r.scratch.push(s),
                    Err(_) => break,
                }
            }
            // A new device (another rate) or a long gap (the stream stopped):
            // start a fresh run, dated from this block. Within a run every
            // block brings its own mark, so jitter and drift are followed.
            let continues = r.run.as_ref().is_some_and(|(rate, _, clock, seen)| {
                *rate == block.rate && clock.expected_at(*seen).is_some_and(|t| near(t, block.at, Duration::from_millis(250)))
            });
            if !continues {
                let Ok(resampler) = To16k::new(block.rate) else { continue };
                let clock = FrameClock::new(block.rate, resampler.delay());
                r.run = Some((block.rate, resampler, clock, 0));
            }
            let (_, resampler, clock, seen) = r.run.as_mut().expect("set above");
            clock.mark(Mark { index: *seen, at: block.at });
            *seen += r.scratch.len() as u64;
            resampler.push(&r.scratch, |frame| {
                // The clock dates a frame by its last sample; the canceller
                // wants each 10 ms half by its first.
                let Some(last) = clock.next_frame(frame.len()) else { return };
                let first = last.checked_sub(Duration::from_micros(19_937)).unwrap_or(last);
                for (i, half) in frame.chunks_exact(HALF_FRAME).enumerate() {
                    let mut samples = [0i16; HALF_FRAME];
                    samples.copy_from_slice(half);
                    on_frame(FarFrame { samples, at: first + Duration::from_millis(10 * i as u64) });
                }
            });
        }
    }
}

fn near(a: Instant, b: Instant, within: Duration) -> bool {
    a.checked_duration_since(b).or_else(|| b.checked_duration_since(a)).is_some_and(|d| d <= within)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn played_blocks_come_back_as_dated_16k_frames_and_a_new_device_restarts_the_run() {
        let reference = EchoReference::new();
        let t0 = Instant::now() + Duration::from_secs(1);
        // 48 kHz stereo, 10 ms blocks, a 1 kHz tone on the left only (mixed to half).
        for b in 0..30u64 {
            let data: Vec<f32> = (0..480)
                .flat_map(|i| {
                    let n = b * 480 + i;
                    [(std::f64::consts::TAU * 1000.0 * n as f64 / 48_000.0).sin() as f32 * 0.5, 0.0]
                })
                .collect();
            reference.write(&data, 2, 48_000, t0 + Duration::from_millis(10 * b), |s| s);
        }
        let mut frames = vec![];
        reference.read(|f| frames.push(f));
        assert!(frames.len() >= 24, "{} frames", frames.len());
        // Consecutive frames are 10 ms apart, and the first was played near t0.
        for w in frames.windows(2) {
            let step = w[1].at - w[0].at;
            assert!((step.as_secs_f64() - 0.010).abs() < 0.0005, "{step:?}");
        }
        let peak = frames[10].samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((7_000..9_000).contains(&peak), "mixed to mono at half level: {peak}");
        // A device at 44.1 kHz, half a second later: a new run, dated from its block.
        let t1 = t0 + Duration::from_millis(800);
        for b in 0..10u64 {
            reference.write(&vec![0.25f32; 441], 1, 44_100, t1 + Duration::from_millis(10 * b), |s| s);
        }
        let mut later = vec![];
        reference.read(|f| later.push(f));
        assert!(!later.is_empty());
        assert!(later[0].at >= t1 - Duration::from_millis(20) && later[0].at < t1 + Duration::from_millis(100), "dated from the new block");
    }

    #[test]
    fn a_busy_writer_or_a_full_ring_drops_whole_blocks() {
        let reference = EchoReference::new();
        let held = reference.writer.lock().unwrap();
        reference.write(&[0.5f32; 480], 1, 48_000, Instant::now(), |s| s);
        drop(held);
        // Nothing arrived while the writer was held, and the ring is still whole.
        let mut n = 0;
        reference.read(|_| n += 1);
        assert_eq!(n, 0);
        for _ in 0..250 {
            reference.write(&[0.5f32; 480], 1, 48_000, Instant::now(), |s| s);
        }
        let r = reference.reader.lock().unwrap();
        assert_eq!(r.samples.slots() % 480, 0, "only whole blocks are in the ring");
    }
}
