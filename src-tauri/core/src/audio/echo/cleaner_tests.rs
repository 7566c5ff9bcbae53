use super::*;
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};

/// Speech as 16 kHz i16, from espeak-ng.
fn speech(text: &str, lang: &str) -> Vec<i16> {
    read_wav(&espeak_wav(text, lang, 0.0, 0.0).unwrap()).unwrap().0
}

/// A laptop: Sori's voice leaves the speaker through a room (a decaying
/// impulse response) `delay_ms` later and 6 dB quieter, the two devices'
/// clocks `drift` apart; the user speaks `near` from `near_at` seconds on.
struct Scene {
    far: Vec<i16>,
    mic: Vec<i16>,
    near_at: usize,
    near_len: usize,
}

fn scene(delay_ms: f64, drift: f64) -> Scene {
    scene_with(delay_ms, drift, 0..0)
}

/// The same, with the speaker silent over `silent` (far-end samples).
fn scene_with(delay_ms: f64, drift: f64, silent: std::ops::Range<usize>) -> Scene {
    let mut far = speech("안녕하세요. 고객님의 주문을 확인해 보겠습니다. 주문하신 상품은 내일 오후에 도착할 예정이에요. 배송 조회는 홈페이지에서 언제든지 하실 수 있습니다. 다른 궁금한 점이 있으시면 말씀해 주세요.", "ko");
    let near = speech("Wait, I want to change the address for my order please.", "en");
    let (a, b) = (silent.start.min(far.len()), silent.end.min(far.len()));
    far[a..b].fill(0);
    let mut seed = 7u64;
    let mut noise = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as f64 / (1u64 << 31) as f64) - 1.0
    };
    let ir: Vec<f64> = (0..2400).map(|i| if i == 0 { 1.0 } else { noise() * (-(i as f64) / 480.0).exp() * 0.5 }).collect();
    let norm = ir.iter().map(|x| x * x).sum::<f64>().sqrt() * 2.0; // -6 dB
                                                                   // The far end as the room hears it: played at the speaker's (drifting) rate.
    let at = |x: f64| -> f64 {
        let i = x.floor();
        if i < 0.0 || i as usize + 1 >= far.len() {
            return 0.0;
        }
        let f = x - i;
        far[i as usize] as f64 * (1.0 - f) + far[i as usize + 1] as f64 * f
    };
    let n = far.len();
    let d = delay_ms * 16.0;
    let played: Vec<f64> = (0..n).map(|m| at((m as f64 - d) / (1.0 + drift))).collect();
    let near_at = n / 2;
    let mic = (0..n)
        .map(|m| {
            let echo: f64 = ir.iter().enumerate().take(m + 1).map(|(k, h)| h * played[m - k]).sum::<f64>() / norm;
            let user = if m >= near_at && m - near_at < near.len() { near[m - near_at] as f64 * 0.5 } else { 0.0 };
            (echo + user + noise() * 30.0).clamp(-32768.0, 32767.0) as i16
        })
        .collect();
    Scene { far, mic, near_at, near_len: near.len() }
}

/// Plays the scene through a cleaner: the far end into the reference in
/// 10 ms blocks dated on the speaker's clock, the microphone in 20 ms frames
/// dated by their last sample. Returns the cleaned microphone.
fn run(scene: &Scene, cleanup: Cleanup, drift: f64) -> Vec<i16> {
    run_with(scene, cleanup, drift, 0..0)
}

/// The same, the speaker giving no blocks at all over `missing` (a stream
/// that stalled and was reopened).
fn run_with(scene: &Scene, cleanup: Cleanup, drift: f64, missing: std::ops::Range<usize>) -> Vec<i16> {
    let reference = Arc::new(EchoReference::new());
    let mut cleaner = Cleaner::new(cleanup, Some(reference.clone())).unwrap();
    let t0 = Instant::now();
    let mut out = Vec::with_capacity(scene.mic.len());
    let mut written = 0;
    for (k, frame) in scene.mic.chunks_exact(320).enumerate() {
        let at = t0 + Duration::from_secs_f64((k * 320 + 319) as f64 / 16_000.0);
        // The output runs ahead of the microphone by a buffer, as a device does.
        while written < scene.far.len() && written < (k + 4) * 320 {
            let block = &scene.far[written..(written + 160).min(scene.far.len())];
            let played = t0 + Duration::from_secs_f64(written as f64 * (1.0 + drift) / 16_000.0);
            if !missing.contains(&written) {
                reference.write(block, 1, 16_000, played, |s| s as f32 / 32768.0);
            }
            written += block.len();
        }
        let mut f = frame.to_vec();
        cleaner.process(&mut f, at);
        out.extend_from_slice(&f);
    }
    out
}

fn db(a: &[i16], b: &[i16]) -> f64 {
    10.0 * (energy(a) / energy(b).max(1.0)).log10()
}

#[test]
fn sori_s_own_voice_is_removed_from_the_microphone_despite_delay_and_drift() {
    for (delay, drift) in [(40.0, 0.0), (80.0, 0.0005)] {
        let s = scene(delay, drift);
        let clean = run(&s, Cleanup { echo: true, ..Default::default() }, drift);
        // Converged within 2 s; measured up to the user's first word.
        let (from, to) = (32_000, s.near_at);
        let erle = db(&s.mic[from..to], &clean[from..to]);
        eprintln!("ERLE {delay} {drift}: {erle:.1}");
        assert!(erle >= 25.0, "{delay} ms, drift {drift}: ERLE {erle:.1} dB");
        // The user, speaking over Sori, is still there.
        let near = s.near_at..s.near_at + s.near_len;
        let user_only: Vec<i16> = speech("Wait, I want to change the address for my order please.", "en").iter().map(|x| x / 2).collect();
        let kept = db(&clean[near], &user_only);
        eprintln!("kept {kept:.1}");
        assert!(kept > -10.0, "{delay} ms: the user kept at {kept:.1} dB");
    }
}

#[test]
fn without_echo_cancellation_the_echo_stays() {
    let s = scene(40.0, 0.0);
    let clean = run(&s, Cleanup { noise: true, ..Default::default() }, 0.0);
    let erle = db(&s.mic[32_000..s.near_at], &clean[32_000..s.near_at]);
    assert!(erle < 10.0, "noise suppression alone is not echo cancellation: {erle:.1} dB");
    assert!(Cleaner::new(Cleanup::default(), None).is_none(), "nothing on: no cleaner");
}

#[test]
fn the_cleaner_reports_erle_and_noise_suppression_quiets_a_steady_hiss() {
    let s = scene(40.0, 0.0);
    let reference = Arc::new(EchoReference::new());
    let mut cleaner = Cleaner::new(Cleanup { echo: true, ..Default::default() }, Some(reference.clone())).unwrap();
    let t0 = Instant::now();
    for (k, frame) in s.mic[..s.near_at].chunks_exact(320).enumerate() {
        let played = t0 + Duration::from_millis(20 * k as u64);
        reference.write(&s.far[k * 320..k * 320 + 320], 1, 16_000, played, |x| x as f32 / 32768.0);
        cleaner.process(&mut frame.to_vec(), played + Duration::from_micros(19_937));
    }
    let erle = cleaner.stats().erle_db.expect("measured while Sori spoke");
    assert!(erle > 20.0, "{erle}");
    // A steady hiss alone: noise suppression takes most of it away.
    let mut ns = Cleaner::new(Cleanup { noise: true, ..Default::default() }, None).unwrap();
    let mut seed = 1u64;
    let hiss: Vec<i16> = (0..16_000 * 3)
        .map(|_| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((seed >> 48) as i16 as f64 / 40.0) as i16
        })
        .collect();
    let mut out = vec![];
    for frame in hiss.chunks_exact(320) {
        let mut f = frame.to_vec();
        ns.process(&mut f, Instant::now());
        out.extend(f);
    }
    let quieter = db(&hiss[32_000..], &out[32_000..]);
    assert!(quieter > 6.0, "hiss {quieter:.1} dB quieter");
}

#[test]
fn a_speaker_that_stops_for_a_moment_does_not_undo_the_cancellation() {
    // 400 ms with no blocks at all from the speaker, 4 s in, while it played nothing.
    let gap = 64_000..70_400;
    let s = scene_with(40.0, 0.0, gap.clone());
    let clean = run_with(&s, Cleanup { echo: true, ..Default::default() }, 0.0, gap.clone());
    let (from, to) = (gap.end + 8_000, s.near_at);
    let erle = db(&s.mic[from..to], &clean[from..to]);
    eprintln!("ERLE after the gap: {erle:.1}");
    assert!(erle >= 25.0, "half a second after the speaker came back: {erle:.1} dB");
}
