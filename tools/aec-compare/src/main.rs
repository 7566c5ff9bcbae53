//! Two echo cancellers on one synthetic laptop echo (far-end Korean speech through
//! a 60 ms delay and a decaying room response, 6 dB down, with English
//! near-end speech from 12 s): ERLE in the first 2 s and after, how much of the
//! near end survives double talk, and the cost per 10 ms frame. `./run.sh`.

use std::time::Instant;

fn read(p: &str) -> Vec<f32> {
    hound::WavReader::open(p).unwrap().samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect()
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as f32 / (1u64 << 31) as f32) - 1.0
    }
}

/// mic = far through a room (delay, decaying IR, gain) + near (from `near_at` s) + noise.
fn scene(rate: usize, delay_ms: usize, erl_db: f32) -> (Vec<f32>, Vec<f32>, Vec<f32>, usize) {
    let far = read(&format!("far{rate}.wav"));
    let near = read(&format!("near{rate}.wav"));
    let mut rng = Lcg(7);
    let ir_len = rate * 150 / 1000;
    let mut ir: Vec<f32> = (0..ir_len).map(|i| rng.next() * (-(i as f32) / (rate as f32 * 0.03)).exp()).collect();
    ir[0] = 1.0;
    let norm = ir.iter().map(|x| x * x).sum::<f32>().sqrt();
    let g = 10f32.powf(-erl_db / 20.0) / norm;
    let d = rate * delay_ms / 1000;
    let n = far.len();
    let mut echo = vec![0f32; n];
    for i in 0..n {
        let mut acc = 0.0;
        for (k, h) in ir.iter().enumerate() {
            if i >= d + k {
                acc += h * far[i - d - k];
            }
        }
        echo[i] = acc * g;
    }
    let near_at = rate * 12;
    let mut nearfull = vec![0f32; n];
    for (i, s) in near.iter().enumerate() {
        if near_at + i < n {
            nearfull[near_at + i] = *s * 0.5;
        }
    }
    let mic: Vec<f32> = (0..n).map(|i| echo[i] + nearfull[i] + rng.next() * 0.001).collect();
    (far, mic, nearfull, near_at)
}

fn report(name: &str, rate: usize, mic: &[f32], out: &[f32], near: &[f32], near_at: usize, secs: f64, nframes: usize) {
    let f = rate / 100;
    let p = |v: &[f32]| v.iter().map(|x| (x * x) as f64).sum::<f64>();
    // ERLE after 2 s, single talk only (before the near end starts).
    let a = 2 * rate;
    let erle = 10.0 * (p(&mic[a..near_at]) / p(&out[a..near_at])).log10();
    // ERLE over 0..2 s too, to see convergence.
    let early = 10.0 * (p(&mic[f..a]) / p(&out[f..a])).log10();
    // Double talk: near-end kept = P(near)/P(out - near) within the near segment.
    let nl = near.iter().rposition(|x| *x != 0.0).unwrap_or(near_at);
    let err: Vec<f32> = (near_at..nl).map(|i| out[i] - near[i]).collect();
    let snr = 10.0 * (p(&near[near_at..nl]) / p(&err)).log10();
    let kept = 10.0 * (p(&out[near_at..nl]) / p(&near[near_at..nl])).log10();
    println!("{name:>28}: ERLE 0-2s {early:5.1} dB, after 2s {erle:5.1} dB; double talk: near kept {kept:+5.1} dB, SNR vs near {snr:5.1} dB; {:.1} us/10ms frame (RTF {:.4})",
        secs * 1e6 / nframes as f64, secs / (nframes as f64 * 0.01));
}

fn sonora_run(rate: usize, ns: bool) {
    use sonora::config::{EchoCanceller, NoiseSuppression};
    use sonora::{AudioProcessing, Config, StreamConfig};
    let (far, mic, near, near_at) = scene(rate, 60, 6.0);
    let config = Config { echo_canceller: Some(EchoCanceller::default()), noise_suppression: ns.then(NoiseSuppression::default), ..Default::default() };
    let mut apm = AudioProcessing::builder().config(config).capture_config(StreamConfig::new(rate as u32, 1)).render_config(StreamConfig::new(rate as u32, 1)).build();
    let f = rate / 100;
    let mut out = vec![0f32; mic.len()];
    let t = Instant::now();
    let mut n = 0;
    let mut scratch = vec![0f32; f];
    for i in (0..mic.len() - f).step_by(f) {
        apm.process_render_f32(&[&far[i..i + f]], &mut [&mut scratch]).unwrap();
        let _ = apm.set_stream_delay_ms(0);
        apm.process_capture_f32(&[&mic[i..i + f]], &mut [&mut out[i..i + f]]).unwrap();
        n += 1;
    }
    let secs = t.elapsed().as_secs_f64();
    let s = apm.statistics();
    report(&format!("sonora {rate} ns={ns}"), rate, &mic, &out, &near, near_at, secs, n);
    println!("    stats: erle {:?} delay {:?}", s.echo_return_loss_enhancement, s.delay_median_ms);
}

fn webrtc_run(ns: bool) {
    use webrtc_audio_processing::*;
    let rate = 48000;
    let (far, mic, near, near_at) = scene(rate, 60, 6.0);
    let mut p = Processor::new(&InitializationConfig { num_capture_channels: 1, num_render_channels: 1, ..Default::default() }).unwrap();
    p.set_config(Config {
        echo_cancellation: Some(EchoCancellation {
            suppression_level: EchoCancellationSuppressionLevel::High,
            enable_extended_filter: true,
            enable_delay_agnostic: true,
            stream_delay_ms: None,
        }),
        noise_suppression: ns.then(|| NoiseSuppression { suppression_level: NoiseSuppressionLevel::High }),
        ..Default::default()
    });
    let f = 480;
    let mut out = mic.clone();
    let t = Instant::now();
    let mut n = 0;
    for i in (0..mic.len() - f).step_by(f) {
        let mut r = far[i..i + f].to_vec();
        p.process_render_frame(&mut r).unwrap();
        p.process_capture_frame(&mut out[i..i + f]).unwrap();
        n += 1;
    }
    let secs = t.elapsed().as_secs_f64();
    report(&format!("webrtc-ap 0.3 {rate} ns={ns}"), rate, &mic, &out, &near, near_at, secs, n);
}

fn main() {
    sonora_run(16000, false);
    sonora_run(16000, true);
    sonora_run(48000, false);
    webrtc_run(false);
    webrtc_run(true);
}
