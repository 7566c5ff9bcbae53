//! Where a reply's audio goes: the sound device (rodio), or memory (for
//! `--out` files and benchmarks). The turn queues decoded pieces and reads how
//! many samples were played, which is how history keeps only what was heard.

use crate::provider::Pcm;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A queue of mono audio in front of a listener.
///
/// Counts are in queued samples (of whatever rate each piece had) since the
/// output was created; `played ≤ queued` always.
pub trait AudioOutput: Send + Sync {
    /// Appends audio behind what is queued.
    fn queue(&self, pcm: &Pcm);
    /// Silences the output at once and drops everything queued.
    fn flush(&self);
    /// Samples the listener has been given so far.
    fn played_samples(&self) -> u64;
    /// Samples queued so far.
    fn queued_samples(&self) -> u64;
}

/// Failure to open a sound device.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("no sound output device is available")]
    NoDevice,
    #[error("the sound output could not be opened: {0}")]
    Open(String),
}

/// The system's sound output through rodio. The device stream lives on its own
/// thread (cpal streams are not `Send`); samples are counted as the mixer takes
/// them, which runs ahead of the loudspeaker by the device buffer (~50 ms).
pub struct DeviceOutput {
    player: rodio::Player,
    played: Arc<AtomicU64>,
    queued: AtomicU64,
    _keep_alive: std::sync::mpsc::Sender<()>,
}

impl DeviceOutput {
    /// Opens the default output device.
    pub fn open_default() -> Result<Self, OutputError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (alive_tx, alive_rx) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sori-playback".into())
            .spawn(move || {
                let sink = match rodio::DeviceSinkBuilder::open_default_sink() {
                    Ok(mut sink) => {
                        sink.log_on_drop(false);
                        sink
                    }
                    Err(rodio::DeviceSinkError::NoDevice) => return drop(ready_tx.send(Err(OutputError::NoDevice))),
                    Err(e) => return drop(ready_tx.send(Err(OutputError::Open(e.to_string())))),
                };
                let player = rodio::Player::connect_new(sink.mixer());
                let _ = ready_tx.send(Ok(player));
                // Keep the device open until the DeviceOutput is dropped.
                let _ = alive_rx.recv();
                drop(sink);
            })
            .map_err(|e| OutputError::Open(e.to_string()))?;
        let player = ready_rx.recv().map_err(|e| OutputError::Open(e.to_string()))??;
        Ok(DeviceOutput { player, played: Arc::default(), queued: AtomicU64::new(0), _keep_alive: alive_tx })
    }
}

impl AudioOutput for DeviceOutput {
    fn queue(&self, pcm: &Pcm) {
        if pcm.samples.is_empty() || pcm.sample_rate == 0 {
            return;
        }
        let samples: Vec<f32> = pcm.samples.iter().map(|&s| s as f32 / 32768.0).collect();
        let buffer = rodio::buffer::SamplesBuffer::new(1.try_into().unwrap(), pcm.sample_rate.try_into().unwrap(), samples);
        self.queued.fetch_add(pcm.samples.len() as u64, Ordering::SeqCst);
        self.player.append(Counted { inner: buffer, counter: self.played.clone() });
        self.player.play();
    }

    fn flush(&self) {
        self.player.clear();
        // Nothing is left to play; what was cut off was heard by nobody, and a
        // caller reads `played_samples` before flushing to know what was heard.
        self.played.store(self.queued.load(Ordering::SeqCst), Ordering::SeqCst);
        self.player.play();
    }

    fn played_samples(&self) -> u64 {
        self.played.load(Ordering::SeqCst).min(self.queued.load(Ordering::SeqCst))
    }

    fn queued_samples(&self) -> u64 {
        self.queued.load(Ordering::SeqCst)
    }
}

/// A rodio source that counts the samples the mixer takes from it.
struct Counted<S> {
    inner: S,
    counter: Arc<AtomicU64>,
}

impl<S: Iterator<Item = f32>> Iterator for Counted<S> {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        let s = self.inner.next()?;
        self.counter.fetch_add(1, Ordering::Relaxed);
        Some(s)
    }
}

impl<S: rodio::Source> rodio::Source for Counted<S> {
    fn current_span_len(&self) -> Option<usize> {
        self.inner.current_span_len()
    }
    fn channels(&self) -> rodio::ChannelCount {
        self.inner.channels()
    }
    fn sample_rate(&self) -> rodio::SampleRate {
        self.inner.sample_rate()
    }
    fn total_duration(&self) -> Option<std::time::Duration> {
        self.inner.total_duration()
    }
}

/// Keeps everything queued in memory and counts it as played at once: for
/// writing replies to files and for benchmarks that measure the providers.
#[derive(Debug, Default)]
pub struct MemoryOutput {
    audio: Mutex<Vec<Pcm>>,
    queued: AtomicU64,
}

impl MemoryOutput {
    /// Everything queued so far, joined (at the first piece's rate).
    pub fn take_audio(&self) -> Pcm {
        let pieces = std::mem::take(&mut *self.audio.lock().unwrap());
        let sample_rate = pieces.first().map(|p| p.sample_rate).unwrap_or(crate::audio::decode::PCM_RATE);
        Pcm { samples: pieces.into_iter().flat_map(|p| p.samples).collect(), sample_rate }
    }
}

impl AudioOutput for MemoryOutput {
    fn queue(&self, pcm: &Pcm) {
        self.queued.fetch_add(pcm.samples.len() as u64, Ordering::SeqCst);
        self.audio.lock().unwrap().push(pcm.clone());
    }

    fn flush(&self) {}

    fn played_samples(&self) -> u64 {
        self.queued.load(Ordering::SeqCst)
    }

    fn queued_samples(&self) -> u64 {
        self.queued.load(Ordering::SeqCst)
    }
}

/// Plays on one output while keeping a copy in memory (`--play --out`).
pub struct TeeOutput {
    pub main: Arc<dyn AudioOutput>,
    pub copy: Arc<MemoryOutput>,
}

impl AudioOutput for TeeOutput {
    fn queue(&self, pcm: &Pcm) {
        self.main.queue(pcm);
        self.copy.queue(pcm);
    }
    fn flush(&self) {
        self.main.flush();
    }
    fn played_samples(&self) -> u64 {
        self.main.played_samples()
    }
    fn queued_samples(&self) -> u64 {
        self.main.queued_samples()
    }
}
