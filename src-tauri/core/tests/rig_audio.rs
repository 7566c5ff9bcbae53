//! Smoke tests of the audio rig (tests/rig/with-rig.sh): cpal hears exactly what
//! is played into the virtual microphone, rodio's output reaches the virtual
//! speaker intact, and device listing sees both with the defaults marked.
//!
//! They need the rig's PulseAudio (sinks `micsink` and `speaker`); outside it
//! they fail and say so, they never skip.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

mod common;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

/// The two tests share one microphone and one speaker: run them one at a time.
static DEVICES: Mutex<()> = Mutex::new(());

fn assert_rig() {
    let ok = Command::new("pactl").args(["list", "short", "sinks"]).output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("micsink"));
    assert!(ok, "the audio rig is not running: run the tests through tests/rig/with-rig.sh");
}

/// A deterministic, speech-band signal with no silent stretch (so any window
/// of it pins down its position): two tones plus a little pseudo-random noise.
fn known_signal(n: usize, rate: f64) -> Vec<i16> {
    let mut seed = 0x2545_f491u32;
    (0..n)
        .map(|i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = ((seed >> 16) as f64 / 65_536.0 - 0.5) * 2000.0;
            let t = i as f64 / rate;
            (6000.0 * (std::f64::consts::TAU * 310.0 * t).sin() + 3000.0 * (std::f64::consts::TAU * 1130.0 * t).sin() + noise) as i16
        })
        .collect()
}

fn write_wav(path: &std::path::Path, samples: &[i16], rate: u32, channels: u16) {
    let spec = hound::WavSpec { channels, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    samples.iter().for_each(|&s| w.write_sample(s).unwrap());
    w.finalize().unwrap();
}

#[test]
fn capture_hears_exactly_what_the_virtual_microphone_plays() {
    common::require_rig();
    let _one_at_a_time = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    assert_rig();
    let known = known_signal(16_000, 16_000.0);
    let dir = std::env::temp_dir().join(format!("sori-rig-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("known.wav");
    write_wav(&wav, &known, 16_000, 1);

    let device = cpal::default_host().default_input_device().expect("a default input device in the rig");
    let config = cpal::StreamConfig { channels: 1, sample_rate: 16_000, buffer_size: cpal::BufferSize::Default };
    let (tx, rx) = mpsc::channel::<Vec<i16>>();
    let stream = device
        .build_input_stream(config, move |data: &[i16], _| drop(tx.send(data.to_vec())), |e| eprintln!("capture error (ridden over): {e}"), None)
        .expect("open the microphone at 16 kHz mono");
    stream.play().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let status = Command::new("paplay").args(["-d", "micsink"]).arg(&wav).status().unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(400));
    drop(stream);
    let captured: Vec<i16> = rx.try_iter().flatten().collect();
    let _ = std::fs::remove_dir_all(&dir);

    let probe = &known[100..164];
    let start = captured
        .windows(probe.len())
        .position(|w| w == probe)
        .map(|p| p as i64 - 100)
        .unwrap_or_else(|| panic!("the known signal is not in the {} captured samples", captured.len()));
    assert!(start >= 0, "capture began after the signal did");
    let got = &captured[start as usize..(start as usize + known.len()).min(captured.len())];
    let equal = got.iter().zip(&known).filter(|(a, b)| a == b).count();
    assert!(equal as f64 >= known.len() as f64 * 0.999, "only {equal} of {} samples match", known.len());
}

#[test]
fn rodio_plays_into_the_virtual_speaker_intact() {
    common::require_rig();
    let _one_at_a_time = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    assert_rig();
    // 48 kHz stereo, the speaker's own format, so nothing resamples on the way.
    let mono = known_signal(48_000, 48_000.0);
    // 100 ms of silence first: the ALSA→PulseAudio path garbles the first ~5 ms
    // of a new stream (with its snd_pcm_avail_delay error burst); the engine
    // keeps its output stream open, so only a stream's very start is affected.
    let lead_in = std::iter::repeat_n(0i16, 4800);
    let stereo_f32: Vec<f32> = lead_in.chain(mono.iter().copied()).flat_map(|s| [s as f32 / 32768.0, s as f32 / 32768.0]).collect();

    let dir = std::env::temp_dir().join(format!("sori-rig-playback-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("speaker.raw");
    let mut recorder = Command::new("parecord")
        .args(["-d", "speaker.monitor", "--raw", "--format=s16le", "--rate=48000", "--channels=2", "--latency-msec=20"])
        .arg(&out)
        .stdout(Stdio::null())
        .spawn()
        .expect("parecord");
    std::thread::sleep(Duration::from_millis(500));
    {
        let sink = rodio::DeviceSinkBuilder::from_default_device()
            .and_then(|b| b.with_sample_rate(48_000.try_into().unwrap()).with_channels(2.try_into().unwrap()).open_stream())
            .expect("open the default output");
        let player = rodio::Player::connect_new(sink.mixer());
        player.append(rodio::buffer::SamplesBuffer::new(2.try_into().unwrap(), 48_000.try_into().unwrap(), stereo_f32));
        player.sleep_until_end();
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill").args(["-INT", &recorder.id().to_string()]).status();
    let _ = recorder.wait();
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let left: Vec<i16> = bytes.chunks_exact(4).map(|f| i16::from_le_bytes([f[0], f[1]])).collect();

    // Find where the signal starts in the recording, then compare sample by sample.
    let probe = &mono[1000..1256];
    let start = (0..left.len().saturating_sub(probe.len()))
        .find(|&i| left[i..i + probe.len()].iter().zip(probe).all(|(a, b)| (a - b).abs() <= 2))
        .map(|i| i as i64 - 1000)
        .unwrap_or_else(|| panic!("the played signal is not in the {} recorded frames", left.len()));
    assert!(start >= 0);
    let got = &left[start as usize..(start as usize + mono.len()).min(left.len())];
    assert!(got.len() as f64 >= mono.len() as f64 * 0.99, "recorded {} of {} frames", got.len(), mono.len());
    let close = got.iter().zip(&mono).filter(|(a, b)| (**a - **b).abs() <= 2).count();
    assert!(close as f64 >= mono.len() as f64 * 0.999, "only {close} of {} frames match within 2 LSB", mono.len());
}

#[test]
fn devices_are_listed_with_one_default_each() {
    common::require_rig();
    let _one_at_a_time = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    assert_rig();
    let list = sori_core::audio::list_devices().expect("list devices");
    assert!(!list.inputs.is_empty() && !list.outputs.is_empty(), "{list:?}");
    assert_eq!(list.inputs.iter().filter(|d| d.is_default).count(), 1, "{list:?}");
    assert_eq!(list.outputs.iter().filter(|d| d.is_default).count(), 1, "{list:?}");
    assert!(list.inputs.iter().all(|d| !d.name.is_empty()));
    eprintln!("{list:#?}");
    // The rig's PulseAudio is reachable, so the native PulseAudio host is used
    // and the devices are the rig's own, by their descriptions.
    assert_eq!(list.host, "PulseAudio");
    let default_in = list.inputs.iter().find(|d| d.is_default).unwrap();
    let default_out = list.outputs.iter().find(|d| d.is_default).unwrap();
    assert_eq!(default_in.name, "Virtual-Microphone");
    assert_eq!(default_out.name, "Virtual-Speaker");
}
