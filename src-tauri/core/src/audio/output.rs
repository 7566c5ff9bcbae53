//! Where a reply's audio goes: the sound device (`playback`), or memory (for
//! `--out` files and benchmarks). The turn queues decoded pieces and reads how
//! many samples were played, which is how history keeps only what was heard.

use super::Pcm;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use super::playback::{DeviceOutput, OutputEvent};

/// A queue of mono audio in front of a listener.
///
/// Counts are in queued samples (of whatever rate each piece had) since the
/// output was created; `played ≤ queued` always.
pub trait AudioOutput: Send + Sync {
    /// Appends audio behind what is queued.
    fn queue(&self, pcm: &Pcm);
    /// Silences the output at once and drops everything queued. Returns the
    /// samples played when it fell silent: what was heard, read in the same
    /// step as the cut, because the device keeps taking samples until then.
    /// Afterwards what was queued counts as played (`played == queued`).
    fn flush(&self) -> u64;
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
    /// The device or the audio system refused; `source` says how.
    #[error("the sound output could not be opened: {source}")]
    Open {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl OutputError {
    pub(crate) fn open(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        OutputError::Open { source: source.into() }
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
        let sample_rate = pieces.first().map(|p| p.sample_rate).unwrap_or(super::PCM_RATE);
        Pcm { samples: pieces.into_iter().flat_map(|p| p.samples).collect(), sample_rate }
    }
}

impl AudioOutput for MemoryOutput {
    fn queue(&self, pcm: &Pcm) {
        self.queued.fetch_add(pcm.samples.len() as u64, Ordering::SeqCst);
        self.audio.lock().unwrap().push(pcm.clone());
    }

    fn flush(&self) -> u64 {
        self.played_samples()
    }

    fn played_samples(&self) -> u64 {
        self.queued.load(Ordering::SeqCst)
    }

    fn queued_samples(&self) -> u64 {
        self.queued.load(Ordering::SeqCst)
    }
}

/// No sound device at all: audio is dropped and counts as played at once, so
/// turns finish and show their text.
#[derive(Debug, Default)]
pub struct SilentOutput {
    queued: AtomicU64,
}

impl AudioOutput for SilentOutput {
    fn queue(&self, pcm: &Pcm) {
        self.queued.fetch_add(pcm.samples.len() as u64, Ordering::SeqCst);
    }
    fn flush(&self) -> u64 {
        self.played_samples()
    }
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
    fn flush(&self) -> u64 {
        self.main.flush()
    }
    fn played_samples(&self) -> u64 {
        self.main.played_samples()
    }
    fn queued_samples(&self) -> u64 {
        self.main.queued_samples()
    }
}
