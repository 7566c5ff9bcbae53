//! Microphone capture: cpal on its own thread (cpal streams are not `Send`).
//! The real-time data callback only mixes to mono and pushes into lock-free
//! rings (rtrb): the samples, and a [`Mark`] per block with its capture time;
//! the capture thread drains them, resamples to 16 kHz and sends 20 ms
//! frames, each dated by when its last sample was taken ([`FrameClock`]). Transient stream errors are counted and ridden over; a lost
//! device is reported and reopened as soon as one is there again, also when
//! capture had already followed the new default the server named first.

use super::clock::{FrameClock, Mark};
use super::devices::LeftBehind;
use super::resample::To16k;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{SizedSample, StreamConfig};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the capture thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureEvent {
    /// 20 ms of 16 kHz mono audio; `at` is when its last sample was taken
    /// (from the device's own timestamps).
    Frame { samples: Vec<i16>, at: Instant },
    /// The microphone went away; capture will resume when one is back.
    Lost { message: String },
    /// Capture resumed on this device.
    Resumed { device: String },
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("No microphone was found. Connect one or pick another in Settings.")]
    NoDevice,
    /// The device or the audio system refused; `source` says how.
    #[error("The microphone could not be opened: {source}")]
    Open {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl CaptureError {
    pub(crate) fn open(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        CaptureError::Open { source: source.into() }
    }
}

/// A running capture; dropping it stops the stream and the thread.
pub struct Capture {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Transient stream errors ridden over so far (diagnostics).
    pub transient_errors: Arc<AtomicU64>,
}

/// The device to capture from: by id (from the device list) or the default.
fn find_device(host: &cpal::Host, id: Option<&str>) -> Option<cpal::Device> {
    match id {
        Some(id) => host.input_devices().ok()?.find(|d| d.id().ok().map(|i| i.to_string()).as_deref() == Some(id)),
        None => host.default_input_device(),
    }
}

struct Open {
    stream: cpal::Stream,
    consumer: rtrb::Consumer<f32>,
    marks: rtrb::Consumer<Mark>,
    resampler: To16k,
    clock: FrameClock,
    name: String,
    id: Option<String>,
}

/// Opens the device's stream in its own format; the callback mixes to mono.
fn open(host: &cpal::Host, id: Option<&str>, lost: Arc<AtomicBool>, transient: Arc<AtomicU64>) -> Result<Open, CaptureError> {
    let device = find_device(host, id).ok_or(CaptureError::NoDevice)?;
    let device_id = device.id().ok().map(|i| i.to_string());
    let name = device.description().map(|d| d.name().to_string()).unwrap_or_else(|_| "microphone".into());
    let supported = device.default_input_config().map_err(CaptureError::open)?;
    let channels = supported.channels() as usize;
    let rate = supported.sample_rate();
    // Two seconds of room: the thread drains every few milliseconds.
    let (producer, consumer) = rtrb::RingBuffer::<f32>::new(rate as usize * 2);
    // Blocks are at least a millisecond long: room for two seconds of marks.
    let (mark_producer, marks) = rtrb::RingBuffer::<Mark>::new(2048);
    let rings = Rings { samples: producer, marks: mark_producer, pushed: 0 };
    let config = StreamConfig { channels: supported.channels(), sample_rate: rate, buffer_size: cpal::BufferSize::Default };
    let on_error = move |e: cpal::Error| match e.kind() {
        cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::HostUnavailable => lost.store(true, Ordering::SeqCst),
        _ => {
            transient.fetch_add(1, Ordering::Relaxed);
        }
    };
    let stream = match supported.sample_format() {
        cpal::SampleFormat::F32 => build::<f32>(&device, config, channels, rings, on_error),
        cpal::SampleFormat::I16 => build::<i16>(&device, config, channels, rings, on_error),
        cpal::SampleFormat::U16 => build::<u16>(&device, config, channels, rings, on_error),
        cpal::SampleFormat::I32 => build::<i32>(&device, config, channels, rings, on_error),
        other => return Err(CaptureError::open(format!("unsupported sample format {other}"))),
    }
    .map_err(CaptureError::open)?;
    stream.play().map_err(CaptureError::open)?;
    let resampler = To16k::new(rate).map_err(CaptureError::open)?;
    let clock = FrameClock::new(rate, resampler.delay());
    Ok(Open { stream, consumer, marks, resampler, clock, name, id: device_id })
}

/// The callback's side of the rings.
struct Rings {
    samples: rtrb::Producer<f32>,
    marks: rtrb::Producer<Mark>,
    /// Samples pushed so far (dropped ones are not counted, so marks stay true).
    pushed: u64,
}

fn build<T>(
    device: &cpal::Device,
    config: StreamConfig,
    channels: usize,
    mut rings: Rings,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + cpal::FromSample<T>,
    f32: cpal::FromSample<T>,
{
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], info: &cpal::InputCallbackInfo| {
            // Real-time: no locks, no allocation; a full ring drops samples.
            // The block's capture time on our clock: now, less how long ago
            // the device says its first sample was taken.
            let stamp = info.timestamp();
            let ago = stamp.callback.duration_since(stamp.capture);
            let now = Instant::now();
            let _ = rings.marks.push(Mark { index: rings.pushed, at: now.checked_sub(ago).unwrap_or(now) });
            for frame in data.chunks_exact(channels) {
                let sum: f32 = frame.iter().map(|&s| <f32 as cpal::FromSample<T>>::from_sample_(s)).sum();
                if rings.samples.push(sum / channels as f32).is_ok() {
                    rings.pushed += 1;
                }
            }
        },
        on_error,
        None,
    )
}

impl Capture {
    /// Starts capturing from `device` (an id from the device list) or the
    /// default input; frames and events go to `events`.
    pub fn start(device: Option<String>, events: Sender<CaptureEvent>) -> Result<Capture, CaptureError> {
        let stop = Arc::new(AtomicBool::new(false));
        let transient = Arc::new(AtomicU64::new(0));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let (stop, transient) = (stop.clone(), transient.clone());
            std::thread::Builder::new()
                .name("sori-capture".into())
                .spawn(move || run(device, events, stop, transient, ready_tx))
                .map_err(CaptureError::open)?
        };
        ready_rx.recv().map_err(CaptureError::open)??;
        Ok(Capture { stop, thread: Some(thread), transient_errors: transient })
    }
}

fn run(
    device: Option<String>,
    events: Sender<CaptureEvent>,
    stop: Arc<AtomicBool>,
    transient: Arc<AtomicU64>,
    ready: Sender<Result<(), CaptureError>>,
) {
    let lost = Arc::new(AtomicBool::new(false));
    // One host for the thread's life: with PulseAudio each host is a server connection.
    let host = cpal::default_host();
    let mut current = match open(&host, device.as_deref(), lost.clone(), transient.clone()) {
        Ok(o) => {
            let _ = ready.send(Ok(()));
            Some(o)
        }
        Err(e) => return drop(ready.send(Err(e))),
    };
    let mut scratch = Vec::with_capacity(4096);
    let mut last_try = Instant::now();
    // A live microphone always delivers samples, silence included: a second
    // without any means the device is gone, whether or not the backend said so.
    let mut last_data = Instant::now();
    let mut last_check = Instant::now();
    let mut left: Option<LeftBehind> = None;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5));
        if let Some(o) = current.as_mut() {
            scratch.clear();
            while let Ok(s) = o.consumer.pop() {
                scratch.push(s);
            }
            while let Ok(mark) = o.marks.pop() {
                o.clock.mark(mark);
            }
            let now = Instant::now();
            if !scratch.is_empty() {
                last_data = now;
            } else if now - last_data > Duration::from_secs(1) {
                lost.store(true, Ordering::SeqCst);
            }
            let mut frames = Vec::new();
            o.resampler.push(&scratch, |f| frames.push(f.to_vec()));
            for samples in frames {
                let at = o.clock.next_frame(samples.len()).unwrap_or(now);
                if events.send(CaptureEvent::Frame { samples, at }).is_err() {
                    return; // nobody listens any more
                }
            }
            // Servers may move a stream elsewhere when its device goes (PulseAudio
            // does), so check that the device is still there and still the
            // one wanted; a new default is followed.
            if last_check.elapsed() >= Duration::from_millis(500) {
                last_check = Instant::now();
                let listed: Vec<Option<String>> =
                    host.input_devices().map(|ds| ds.map(|d| d.id().ok().map(|i| i.to_string())).collect()).unwrap_or_default();
                if let Some(gone) = left.as_ref().and_then(|l| l.gone(&listed)) {
                    if let Some(l) = left.take().filter(|_| gone) {
                        let _ = events.send(CaptureEvent::Lost { message: format!("{} was disconnected.", l.name) });
                        let _ = events.send(CaptureEvent::Resumed { device: o.name.clone() });
                    }
                }
                if !listed.contains(&o.id) {
                    lost.store(true, Ordering::SeqCst);
                } else if device.is_none() && host.default_input_device().and_then(|d| d.id().ok()).map(|i| i.to_string()) != o.id {
                    if let Ok(next) = open(&host, None, lost.clone(), transient.clone()) {
                        left = LeftBehind::new(o.id.clone(), o.name.clone());
                        let _ = events.send(CaptureEvent::Resumed { device: next.name.clone() });
                        current = Some(next);
                        continue;
                    }
                }
            }
            if lost.swap(false, Ordering::SeqCst) {
                drop(current.take());
                let _ = events
                    .send(CaptureEvent::Lost { message: "The microphone was disconnected. Sori will use it again as soon as it is back.".into() });
                last_try = Instant::now();
            }
        } else if last_try.elapsed() >= Duration::from_millis(250) {
            last_try = Instant::now();
            if let Ok(o) = open(&host, device.as_deref(), lost.clone(), transient.clone()) {
                last_data = Instant::now();
                let _ = events.send(CaptureEvent::Resumed { device: o.name.clone() });
                current = Some(o);
            }
        }
    }
    drop(current.map(|o| o.stream));
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
