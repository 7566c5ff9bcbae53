//! Playback on a sound device through rodio: the chosen output or the system
//! default (followed when it changes), surviving the device going away.
//!
//! The device stream lives on its own thread (cpal streams are not `Send`).
//! That thread also watches the device twice a second, like capture does:
//! when it is gone, playback moves to the default output (or waits for one)
//! and goes back to the chosen device when it returns. What had not been
//! played yet is kept and continues on the new device from where it was cut,
//! so a reply survives a headset being unplugged mid-sentence.

use super::devices::LeftBehind;
use super::echo::EchoReference;
use super::output::{AudioOutput, OutputError};
use super::output_stream::MixerStream;
use super::Pcm;
use cpal::traits::{DeviceTrait, HostTrait};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A change of the device playback runs on.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputEvent {
    /// The device went away; `fallback` names where playback went instead.
    Lost { message: String, fallback: Option<String> },
    /// Playback is back on this device (the chosen one, or a new default).
    Resumed { device: String },
}

type Notify = Box<dyn Fn(OutputEvent) + Send + 'static>;

/// A piece of queued audio, kept until it has been played so that it can be
/// queued again on another device.
struct Piece {
    start: u64,
    samples: Arc<[f32]>,
    rate: u32,
}

/// The queue the device stream plays from. rodio's `Player` is not used:
/// its `clear` counts the pieces to skip and lets each skip itself at its
/// next 5 ms check, so a piece that ended in between left a skip behind,
/// and the next reply's first piece was dropped unplayed and uncounted
/// (`tests/rig_playback.rs` catches it). Pieces here end themselves when
/// the cut generation moves on, at their very next sample.
type Queue = Arc<rodio::queue::SourcesQueueInput>;

#[derive(Default)]
struct Shared {
    /// `None` while no output device exists at all.
    queue: Mutex<Option<Queue>>,
    /// Bumped by every cut (a flush, a new device, no device): all older
    /// pieces end, whichever queue they were given to.
    generation: Arc<AtomicU64>,
    pending: Mutex<VecDeque<Piece>>,
    played: Arc<AtomicU64>,
    queued: AtomicU64,
    stop: AtomicBool,
    /// The chosen device (`None`: the default), changeable while playing.
    wanted: Mutex<Option<String>>,
    recheck: AtomicBool,
    /// What the device plays, for echo cancellation on the microphone.
    reference: Arc<EchoReference>,
    /// Streams reopened because they stopped taking samples.
    stalls: AtomicU64,
}

/// Watches that a stream keeps taking what is queued.
#[derive(Default)]
struct Progress {
    played: u64,
    since: Option<std::time::Instant>,
}

/// A second without a sample taken while some wait: far past any device buffer.
const STALL: Duration = Duration::from_secs(1);

impl Progress {
    fn stalled(&mut self, played: u64, queued: u64) -> bool {
        let now = std::time::Instant::now();
        if played >= queued || played != self.played {
            (self.played, self.since) = (played, Some(now));
            return false;
        }
        let since = *self.since.get_or_insert(now);
        if now - since >= STALL {
            self.since = Some(now);
            return true;
        }
        false
    }
}

/// The system's sound output. Samples are counted as the mixer takes them,
/// which runs ahead of the loudspeaker by the device buffer (~50 ms).
pub struct DeviceOutput {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The device to play on: by id (from the device list) or the default.
fn find_device(host: &cpal::Host, id: Option<&str>) -> Option<cpal::Device> {
    match id {
        Some(id) => host.output_devices().ok()?.find(|d| d.id().ok().map(|i| i.to_string()).as_deref() == Some(id)),
        None => host.default_output_device(),
    }
}

fn id_of(device: &cpal::Device) -> Option<String> {
    device.id().ok().map(|i| i.to_string())
}

fn name_of(device: &cpal::Device) -> String {
    device.description().map(|d| d.name().to_string()).unwrap_or_else(|_| "speaker".into())
}

/// An open device stream and where it goes.
struct Open {
    stream: MixerStream,
    /// Set by this stream's error callback; a stream of its own so that a
    /// dead stream's last errors do not condemn its successor.
    lost: Arc<AtomicBool>,
    id: Option<String>,
    name: String,
}

/// Opens `id` (or the default) on a server connection of its own: with
/// PulseAudio a second stream on a connection that already plays is refused
/// ("Invalid argument"), and a stream whose sink is unloaded can take its
/// connection down with it.
fn open(id: Option<&str>, reference: &Arc<EchoReference>) -> Result<Open, OutputError> {
    let device = find_device(&cpal::default_host(), id).ok_or(OutputError::NoDevice)?;
    let (id, name) = (id_of(&device), name_of(&device));
    let lost = Arc::new(AtomicBool::new(false));
    let flag = lost.clone();
    let on_error = move |e: cpal::Error| {
        if matches!(e.kind(), cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::HostUnavailable) {
            flag.store(true, Ordering::SeqCst);
        }
    };
    let stream = super::output_stream::open(&device, Some(reference.clone()), on_error)?;
    Ok(Open { stream, lost, id, name })
}

impl DeviceOutput {
    /// Opens the default output device, following the default when it changes.
    pub fn open_default() -> Result<Self, OutputError> {
        Self::open(None, None)
    }

    /// Opens `device` (an id from the device list) or, with `None`, the
    /// default. Device changes are reported to `notify`. A chosen device that
    /// is missing now is waited for on the default; fails only when no output
    /// can be opened at all.
    pub fn open(device: Option<String>, notify: Option<Notify>) -> Result<Self, OutputError> {
        let shared = Arc::new(Shared { wanted: Mutex::new(device), ..Shared::default() });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new().name("sori-playback".into()).spawn(move || run(shared, notify, ready_tx)).map_err(OutputError::open)?
        };
        ready_rx.recv().map_err(OutputError::open)??;
        Ok(DeviceOutput { shared, thread: Some(thread) })
    }

    /// What this output plays, for echo cancellation on the microphone.
    pub fn echo_reference(&self) -> Arc<EchoReference> {
        self.shared.reference.clone()
    }

    /// How many times a stream that stopped taking samples was reopened.
    pub fn stalls(&self) -> u64 {
        self.shared.stalls.load(Ordering::SeqCst)
    }

    /// Moves playback to `device` (`None`: the default) within ~50 ms.
    pub fn choose(&self, device: Option<String>) {
        *self.shared.wanted.lock().unwrap() = device;
        self.shared.recheck.store(true, Ordering::SeqCst);
    }
}

fn run(shared: Arc<Shared>, notify: Option<Notify>, ready: std::sync::mpsc::Sender<Result<(), OutputError>>) {
    let notify = |e: OutputEvent| {
        if let Some(n) = &notify {
            n(e)
        }
    };
    let wanted = shared.wanted.lock().unwrap().clone();
    // The connection that watches the devices (streams have their own).
    let mut host = cpal::default_host();
    // A chosen device that is not there now: play on the default meanwhile.
    let first = match open(wanted.as_deref(), &shared.reference) {
        Err(OutputError::NoDevice) if wanted.is_some() => open(None, &shared.reference)
            .inspect(|o| notify(OutputEvent::Lost { message: "The chosen speaker is not connected.".into(), fallback: Some(o.name.clone()) })),
        other => other,
    };
    let mut current = match first {
        Ok(o) => {
            shared.connect(&o);
            let _ = ready.send(Ok(()));
            Some(o)
        }
        Err(e) => return drop(ready.send(Err(e))),
    };
    let mut last_check = std::time::Instant::now();
    let mut progress = Progress::default();
    let mut left: Option<LeftBehind> = None;
    while !shared.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
        // A stream that stopped taking samples while some wait (an audio
        // server that stopped calling back) is as good as gone.
        let stalled = current.is_some() && progress.stalled(shared.played.load(Ordering::SeqCst), shared.queued.load(Ordering::SeqCst));
        if stalled {
            shared.stalls.fetch_add(1, Ordering::SeqCst);
        }
        let flagged = stalled || current.as_ref().is_some_and(|o| o.lost.load(Ordering::SeqCst));
        if !flagged && !shared.recheck.swap(false, Ordering::SeqCst) && last_check.elapsed() < Duration::from_millis(250) {
            continue;
        }
        let wanted = shared.wanted.lock().unwrap().clone();
        last_check = std::time::Instant::now();
        let here: Vec<Option<String>> = host.output_devices().map(|ds| ds.map(|d| id_of(&d)).collect()).unwrap_or_default();
        let on = current.as_ref().map(|o| o.id.clone());
        if let Some(gone) = left.as_ref().and_then(|l| l.gone(&here)) {
            if let (Some(l), Some(o)) = (left.take().filter(|_| gone), current.as_ref()) {
                notify(OutputEvent::Lost { message: format!("{} was disconnected.", l.name), fallback: Some(o.name.clone()) });
            }
        }
        // PulseAudio moves a stream whose sink vanished without telling the
        // client, so the device list is the judge, not only stream errors.
        let gone = flagged || on.as_ref().is_some_and(|id| !here.contains(id));
        // Where playback should be: the chosen device when it is there, else the default.
        let target = match &wanted {
            Some(w) if here.contains(&Some(w.clone())) => Some(w.clone()),
            _ => host.default_output_device().and_then(|d| id_of(&d)),
        };
        let elsewhere = target.is_some()
            && match &on {
                None => true,
                Some(None) => false, // a backend without ids: nothing to compare
                Some(id) => *id != target,
            };
        if !gone && !elsewhere {
            continue;
        }
        if gone {
            host = cpal::default_host(); // in case the loss took the watcher's connection too
        }
        // A vanishing device may still be listed for a moment: the default is the second choice.
        let next = open(target.as_deref(), &shared.reference).or_else(|e| if gone { open(None, &shared.reference) } else { Err(e) });
        match next {
            Ok(next) => {
                shared.connect(&next);
                let name = next.name.clone();
                let next_id = next.id.clone();
                let was = current.replace(next);
                if stalled && was.as_ref().is_some_and(|w| w.id == next_id) {
                    // The same device again: nothing for the user to know.
                } else if let Some(was) = was.as_ref().filter(|_| gone) {
                    notify(OutputEvent::Lost { message: format!("{} was disconnected.", was.name), fallback: Some(name) });
                } else {
                    if wanted.is_none() {
                        left = was.and_then(|w| LeftBehind::new(w.id, w.name));
                    }
                    notify(OutputEvent::Resumed { device: name });
                }
            }
            Err(_) if gone => {
                shared.disconnect();
                if let Some(was) = current.take() {
                    let message = format!("{} was disconnected and no other speaker is available.", was.name);
                    notify(OutputEvent::Lost { message, fallback: None });
                }
            }
            // The better device is listed but will not open yet: stay where we are.
            Err(_) => {}
        }
    }
    shared.disconnect();
}

impl Shared {
    /// Plays on `o` from now on, continuing what had not been played yet.
    fn connect(&self, o: &Open) {
        let (queue, source) = rodio::queue::queue(true);
        o.stream.mixer.add(source);
        let mut slot = self.queue.lock().unwrap();
        if let Some(old) = slot.take() {
            self.cut(&old);
        }
        let played = self.played.load(Ordering::SeqCst);
        let mut pending = self.pending.lock().unwrap();
        pending.retain(|p| p.start + p.samples.len() as u64 > played);
        for p in pending.iter() {
            let skip = played.saturating_sub(p.start) as usize;
            self.append(&queue, p.samples[skip..].to_vec(), p.rate);
        }
        *slot = Some(queue);
    }

    /// Ends every piece queued so far (on any device), at its next sample,
    /// and drops `queue`'s waiting ones. Call with the queue slot held, so
    /// that no `append` falls between the two and is cut or dropped too.
    fn cut(&self, queue: &Queue) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        queue.clear();
    }

    /// No device at all: nothing can be heard, so what is queued counts as
    /// played rather than keeping a turn waiting for a speaker.
    fn disconnect(&self) {
        if let Some(old) = self.queue.lock().unwrap().take() {
            self.cut(&old);
        }
        self.pending.lock().unwrap().clear();
        self.played.store(self.queued.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    fn append(&self, queue: &Queue, samples: Vec<f32>, rate: u32) {
        let buffer = rodio::buffer::SamplesBuffer::new(1.try_into().unwrap(), rate.try_into().unwrap(), samples);
        let (cut, generation) = (self.generation.clone(), self.generation.load(Ordering::SeqCst));
        queue.append(Counted { inner: buffer, counter: self.played.clone(), cut, generation });
    }
}

impl AudioOutput for DeviceOutput {
    fn queue(&self, pcm: &Pcm) {
        if pcm.samples.is_empty() || pcm.sample_rate == 0 {
            return;
        }
        let samples: Arc<[f32]> = pcm.samples.iter().map(|&s| s as f32 / 32768.0).collect();
        let s = &self.shared;
        let slot = s.queue.lock().unwrap();
        let start = s.queued.fetch_add(samples.len() as u64, Ordering::SeqCst);
        match slot.as_ref() {
            Some(queue) => {
                let played = s.played.load(Ordering::SeqCst);
                let mut pending = s.pending.lock().unwrap();
                pending.retain(|p| p.start + p.samples.len() as u64 > played);
                pending.push_back(Piece { start, samples: samples.clone(), rate: pcm.sample_rate });
                s.append(queue, samples.to_vec(), pcm.sample_rate);
            }
            None => {
                s.played.fetch_add(samples.len() as u64, Ordering::SeqCst);
            }
        }
    }

    fn flush(&self) -> u64 {
        let s = &self.shared;
        let slot = s.queue.lock().unwrap();
        if let Some(queue) = slot.as_ref() {
            s.cut(queue);
        }
        // Read after the cut: every piece ends at its next sample, so this is
        // what the speaker got (within a sample). Read before it, the device
        // could take a whole buffer more in between, heard but not counted.
        let heard = self.played_samples();
        s.pending.lock().unwrap().clear();
        // Nothing is left to play; what was cut off was heard by nobody.
        s.played.store(s.queued.load(Ordering::SeqCst), Ordering::SeqCst);
        heard
    }

    fn played_samples(&self) -> u64 {
        self.shared.played.load(Ordering::SeqCst).min(self.shared.queued.load(Ordering::SeqCst))
    }

    fn queued_samples(&self) -> u64 {
        self.shared.queued.load(Ordering::SeqCst)
    }
}

impl Drop for DeviceOutput {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A rodio source that counts the samples the mixer takes from it, and ends
/// as soon as a cut moves the generation past its own.
struct Counted<S> {
    inner: S,
    counter: Arc<AtomicU64>,
    cut: Arc<AtomicU64>,
    generation: u64,
}

impl<S: Iterator<Item = f32>> Iterator for Counted<S> {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        // Relaxed: a cut racing the device thread lets at most one more
        // sample through and count, which nobody hears; `flush` sets `played`
        // anew and `played_samples` never reports more than was queued.
        if self.cut.load(Ordering::Relaxed) != self.generation {
            return None;
        }
        let s = self.inner.next()?;
        self.counter.fetch_add(1, Ordering::Relaxed);
        Some(s)
    }
}

impl<S: rodio::Source> rodio::Source for Counted<S> {
    fn current_span_len(&self) -> Option<usize> {
        // Not cut short here: rodio's queue reads this twice in a row, and a
        // cut between the two would make it report an empty span, which the
        // mixer takes for the end of the whole queue. `next` ends the piece.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_stalled_after_a_second_without_taking_what_waits() {
        let mut p = Progress::default();
        assert!(!p.stalled(100, 100), "nothing waits");
        assert!(!p.stalled(100, 500), "the wait starts");
        std::thread::sleep(Duration::from_millis(300));
        assert!(!p.stalled(200, 500), "it moved: the clock starts again");
        std::thread::sleep(Duration::from_millis(1050));
        assert!(p.stalled(200, 500), "a second without a sample");
        assert!(!p.stalled(200, 500), "said once, then counted again");
        std::thread::sleep(Duration::from_millis(1050));
        assert!(!p.stalled(500, 500), "all played");
    }
}
