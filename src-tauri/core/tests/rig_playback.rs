//! Playback on the rig's virtual devices: on a chosen output rather than the
//! default, and through that output being unplugged mid-reply (the rest of the
//! reply goes on on the default speaker) and plugged in again, and the
//! default device itself being unplugged.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use sori_core::audio::list_devices;
use sori_core::audio::output::{AudioOutput, DeviceOutput, OutputEvent};
use sori_core::audio::Pcm;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A folder for recordings, removed afterwards.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("sori-playback-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static DEVICES: Mutex<()> = Mutex::new(());
const RATE: u32 = 24_000;

fn pactl(args: &[&str]) -> String {
    let out = Command::new("pactl").args(args).output().expect("pactl (run through tests/rig/with-rig.sh)");
    String::from_utf8(out.stdout).unwrap()
}

/// A second output, as when a headset is plugged in; returns its module number.
fn plug_headset() -> String {
    pactl(&["load-module", "module-null-sink", "sink_name=headset", "rate=48000", "channels=2", "sink_properties=device.description=Virtual-Headset"])
        .trim()
        .to_string()
}

fn headset_id() -> String {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let list = list_devices().unwrap();
        if let Some(id) = list.outputs.iter().find(|d| d.name == "Virtual-Headset").and_then(|d| d.id.clone()) {
            return id;
        }
        assert!(Instant::now() < deadline, "the headset is not listed: {list:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A tone: loud enough to find, easy to measure.
fn tone(seconds: f64) -> Pcm {
    let n = (seconds * RATE as f64) as usize;
    let samples = (0..n).map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / RATE as f64).sin() * 8000.0) as i16).collect();
    Pcm { samples, sample_rate: RATE }
}

fn record(device: &str, path: &std::path::Path) -> Child {
    Command::new("parecord")
        .args(["-d", device, "--raw", "--format=s16le", "--rate=48000", "--channels=1", "--latency-msec=20"])
        .arg(path)
        .spawn()
        .expect("parecord")
}

fn stop(mut recorder: Child) {
    let _ = Command::new("kill").args(["-INT", &recorder.id().to_string()]).status();
    let _ = recorder.wait();
}

/// Seconds of sound in a 48 kHz mono recording, in 10 ms blocks.
fn sounding_seconds(path: &std::path::Path) -> f64 {
    let bytes = std::fs::read(path).unwrap_or_default();
    let samples: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    let loud = samples.chunks(480).filter(|b| b.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / b.len() as f64 > 1e6).count();
    loud as f64 * 0.01
}

/// Playback on `device` (`None`: the default), its device changes on a channel.
fn open_watched(device: Option<String>) -> (DeviceOutput, mpsc::Receiver<OutputEvent>) {
    let (events_tx, events) = mpsc::channel();
    let notify = Box::new(move |e: OutputEvent| drop(events_tx.send(e)));
    (DeviceOutput::open(device, Some(notify)).unwrap(), events)
}

fn wait_played(output: &DeviceOutput, samples: u64, within: Duration) {
    let started = Instant::now();
    while output.played_samples() < samples {
        assert!(started.elapsed() < within, "only {} of {samples} samples played", output.played_samples());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A cut (barge-in) can come at any moment, even as one queued piece ends
/// and the next begins: what is queued after it must play whole and be
/// counted, not be skipped by a clear left over from the cut (rodio's
/// `Player::clear` counted a piece that had just ended and then skipped the
/// next reply's first piece, which was then never counted as played).
#[test]
fn what_is_queued_after_a_cut_plays_whole_wherever_the_cut_came() {
    common::require_rig();
    let _one = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    let output = DeviceOutput::open_default().unwrap();
    for round in 0..40u64 {
        // A reply in 24 ms pieces, as small as a decoder hands them (a
        // length rodio's 5 ms check does not divide).
        for _ in 0..20 {
            output.queue(&tone(0.024));
        }
        std::thread::sleep(Duration::from_millis(100 + round * 37 % 200));
        output.flush();
        let from = output.queued_samples();
        output.queue(&tone(0.1));
        // 100 ms of sound, taken within 600 ms: a skipped piece would wait
        // for the stall watchdog (a second) instead.
        wait_played(&output, from + (0.1 * RATE as f64) as u64, Duration::from_millis(600));
    }
    assert_eq!(output.stalls(), 0, "playback streams reopened after stalling");
}

#[test]
fn plays_on_the_chosen_device_not_the_default() {
    common::require_rig();
    let _one = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    let module = plug_headset();
    let dir = TempDir::new();
    let (on_headset, on_speaker) = (dir.path().join("headset.raw"), dir.path().join("speaker.raw"));
    let (headset, speaker) = (record("headset.monitor", &on_headset), record("speaker.monitor", &on_speaker));
    std::thread::sleep(Duration::from_millis(300));

    let output = DeviceOutput::open(Some(headset_id()), None).unwrap();
    output.queue(&tone(1.0));
    wait_played(&output, RATE as u64, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    stop(headset);
    stop(speaker);
    drop(output);
    pactl(&["unload-module", &module]);

    let (h, s) = (sounding_seconds(&on_headset), sounding_seconds(&on_speaker));
    assert!((0.85..=1.15).contains(&h), "{h:.2} s of the 1 s tone reached the headset");
    assert!(s < 0.05, "{s:.2} s reached the default speaker");
}

#[test]
fn a_reply_goes_on_when_its_device_is_unplugged_and_returns_when_it_is_back() {
    common::require_rig();
    let _one = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    let module = plug_headset();
    let dir = TempDir::new();
    let (output, events) = open_watched(Some(headset_id()));

    // Four seconds of reply; the headset is pulled after one.
    let on_speaker = dir.path().join("speaker.raw");
    let speaker = record("speaker.monitor", &on_speaker);
    std::thread::sleep(Duration::from_millis(300));
    output.queue(&tone(4.0));
    wait_played(&output, RATE as u64, Duration::from_secs(5));
    pactl(&["unload-module", &module]);
    let unplugged = Instant::now();
    match events.recv_timeout(Duration::from_secs(2)).expect("the loss is reported") {
        OutputEvent::Lost { message, fallback } => {
            assert!(message.contains("Virtual-Headset"), "{message}");
            assert_eq!(fallback.as_deref(), Some("Virtual-Speaker"));
        }
        other => panic!("expected the loss, got {other:?}"),
    }
    eprintln!("playback moved {} ms after the unplug", unplugged.elapsed().as_millis());
    wait_played(&output, 4 * RATE as u64, Duration::from_secs(8));
    std::thread::sleep(Duration::from_millis(300));
    stop(speaker);
    // The rest of the reply, not a restart of it, came out of the speaker.
    // (PulseAudio may have moved the stream itself for a moment first, so
    // allow a little overlap, and the ~50 ms device buffer lost on the way.)
    let s = sounding_seconds(&on_speaker);
    assert!((2.6..=3.3).contains(&s), "{s:.2} s of the remaining ~3 s reached the speaker");

    // Plugged in again: playback goes back to it.
    let module = plug_headset();
    match events.recv_timeout(Duration::from_secs(3)).expect("the return is reported") {
        OutputEvent::Resumed { device } => assert_eq!(device, "Virtual-Headset"),
        other => panic!("expected the return, got {other:?}"),
    }
    let on_headset = dir.path().join("headset.raw");
    let headset = record("headset.monitor", &on_headset);
    std::thread::sleep(Duration::from_millis(300));
    output.queue(&tone(1.0));
    wait_played(&output, 5 * RATE as u64, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    stop(headset);
    drop(output);
    pactl(&["unload-module", &module]);
    let h = sounding_seconds(&on_headset);
    assert!((0.85..=1.15).contains(&h), "{h:.2} s of the tone reached the headset after it came back");
}

#[test]
fn a_missing_chosen_device_plays_on_the_default_and_says_so() {
    common::require_rig();
    let _one = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    let (output, events) = open_watched(Some("pulseaudio:no-such-headset".into()));
    match events.recv_timeout(Duration::from_secs(1)).expect("the fallback is reported") {
        OutputEvent::Lost { fallback, .. } => assert_eq!(fallback.as_deref(), Some("Virtual-Speaker")),
        other => panic!("expected the fallback, got {other:?}"),
    }
    output.queue(&tone(0.3));
    wait_played(&output, (0.3 * RATE as f64) as u64, Duration::from_secs(3));
}

#[test]
fn the_device_can_be_changed_while_playing() {
    common::require_rig();
    let _one = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    let module = plug_headset();
    let dir = TempDir::new();
    let (output, events) = open_watched(None);
    output.choose(Some(headset_id()));
    match events.recv_timeout(Duration::from_secs(1)).expect("the move is reported") {
        OutputEvent::Resumed { device } => assert_eq!(device, "Virtual-Headset"),
        other => panic!("expected the move, got {other:?}"),
    }
    let on_headset = dir.path().join("headset.raw");
    let headset = record("headset.monitor", &on_headset);
    std::thread::sleep(Duration::from_millis(300));
    output.queue(&tone(0.5));
    wait_played(&output, (0.5 * RATE as f64) as u64, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    stop(headset);
    drop(output);
    pactl(&["unload-module", &module]);
    let h = sounding_seconds(&on_headset);
    assert!((0.4..=0.6).contains(&h), "{h:.2} s of the 0.5 s tone reached the chosen headset");
}

#[test]
fn an_unplugged_default_device_is_reported_as_lost_not_just_switched() {
    common::require_rig();
    let _one = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    let module = plug_headset();
    pactl(&["set-default-sink", "headset"]);
    let (output, events) = open_watched(None);
    std::thread::sleep(Duration::from_millis(300));
    // As the server does on an unplug, but slow enough to be seen every time:
    // a new default first (followed at once), then the device leaves the list.
    pactl(&["set-default-sink", "speaker"]);
    match events.recv_timeout(Duration::from_secs(1)).expect("the new default is followed") {
        OutputEvent::Resumed { device } => assert_eq!(device, "Virtual-Speaker"),
        other => panic!("expected the move, got {other:?}"),
    }
    pactl(&["unload-module", &module]);
    let deadline = Instant::now() + Duration::from_secs(3);
    let lost = loop {
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(OutputEvent::Lost { message, fallback }) => break Some((message, fallback)),
            _ if Instant::now() > deadline => break None,
            _ => continue,
        }
    };
    let (message, fallback) = lost.expect("the unplugged default is reported");
    assert!(message.contains("Virtual-Headset"), "{message}");
    assert_eq!(fallback.as_deref(), Some("Virtual-Speaker"));
    output.queue(&tone(0.3));
    wait_played(&output, (0.3 * RATE as f64) as u64, Duration::from_secs(3));
}
