//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use sori_core::provider::openai::OpenAi;
use sori_core::provider::retry::RetryPolicy;
use sori_core::provider::{AudioFormat, Providers};
use sori_core::secrets::ApiKey;
use sori_core::text::SplitterConfig;
use sori_core::turn::speaker::Voice;
use sori_core::turn::TurnSettings;
use sori_testkit::{TestServer, TEST_API_KEY};
use std::time::Duration;

pub fn providers(s: &TestServer) -> Providers {
    OpenAi::new(&s.base_url(), ApiKey::new(TEST_API_KEY)).unwrap().providers()
}

/// Fails the test at once, with how to run it, outside the headless rig:
/// rig tests load and unload sound modules on whatever PulseAudio they reach.
pub fn require_rig() {
    if std::env::var_os("SORI_RIG").is_none() {
        panic!("this test rewires the sound system it reaches, so it runs only inside Sori's rig: tests/rig/with-rig.sh cargo test -p sori-core");
    }
}

pub fn settings() -> TurnSettings {
    TurnSettings {
        stt_model: "gpt-4o-transcribe".into(),
        language: None,
        stt_prompt: None,
        chat_model: "gpt-4o-mini".into(),
        temperature: None,
        max_tokens: None,
        voice: Voice {
            model: "gpt-4o-mini-tts".into(),
            voice: "coral".into(),
            style: Some("Warm.".into()),
            speed: 1.0,
            pitch: 0.0,
            format: AudioFormat::Pcm,
        },
        speak: true,
        tts_concurrency: 2,
        retry: RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(20), max_delay: Duration::from_secs(2) },
        splitter: SplitterConfig::default(),
    }
}

/// A reply without pauses (Hangul syllables only, no spaces): silence on the
/// speaker can then only mean that playback stopped.
pub const LONG_REPLY: &str = "네고객님주문하신상품은내일오후세시에서다섯시사이에도착할예정이고요배송기사님이출발하시면문자로다시안내해드릴게요.";

/// A long sentence whose only pauses are the 50 ms between words: shorter
/// than the 100 ms of silence that means playback stopped.
pub const LONG_SPACED_REPLY: &str =
    "네 고객님 주문하신 상품은 내일 오후 세시에서 다섯시 사이에 도착할 예정이고요 배송 기사님이 출발하시면 문자로 다시 안내해 드릴게요.";

/// Listens to the rig speaker's monitor through Sori's own capture, so every
/// 20 ms of what the speaker played carries its capture time on the test's clock.
pub fn listen_to_speaker() -> (sori_core::audio::capture::Capture, std::sync::mpsc::Receiver<sori_core::audio::capture::CaptureEvent>) {
    let monitor = sori_core::audio::list_devices()
        .unwrap()
        .inputs
        .into_iter()
        .find(|d| d.name == "Monitor of Virtual-Speaker")
        .and_then(|d| d.id)
        .expect("the speaker's monitor");
    let (tx, rx) = std::sync::mpsc::channel();
    (sori_core::audio::capture::Capture::start(Some(monitor), tx).unwrap(), rx)
}

/// The frames a capture sent so far, with their capture times.
pub fn frames(rx: &std::sync::mpsc::Receiver<sori_core::audio::capture::CaptureEvent>) -> Vec<(Vec<i16>, std::time::Instant)> {
    rx.try_iter()
        .filter_map(|e| match e {
            sori_core::audio::capture::CaptureEvent::Frame { samples, at } => Some((samples, at)),
            _ => None,
        })
        .collect()
}

pub fn loud(samples: &[i16]) -> bool {
    samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / samples.len() as f64 > 1e6
}

/// When the speaker's sound stopped after `since`: the capture time of the
/// last loud frame before the first 100 ms of silence after `since`, and how
/// many loud frames came before that.
pub fn went_silent(frames: &[(Vec<i16>, std::time::Instant)], since: std::time::Instant) -> (std::time::Instant, usize) {
    let cut = frames
        .iter()
        .enumerate()
        .position(|(i, (_, at))| *at > since && frames[i..].iter().take(5).all(|(f, _)| !loud(f)))
        .expect("the speaker went silent");
    let sounding: Vec<std::time::Instant> = frames[..cut].iter().filter(|(f, _)| loud(f)).map(|(_, at)| *at).collect();
    (*sounding.last().expect("the speaker played"), sounding.len())
}

/// A slow tool for the agent's tests: it asks "the warehouse" and answers
/// when `open` is notified or after `wait`, and stops on its cancel.
pub struct Warehouse {
    pub open: std::sync::Arc<tokio::sync::Notify>,
    pub wait: Duration,
}

impl Warehouse {
    /// One that only time (or a cancel) ends.
    pub fn taking(wait: Duration) -> Self {
        Warehouse { open: Default::default(), wait }
    }
}

#[async_trait::async_trait]
impl sori_core::tools::Tool for Warehouse {
    fn spec(&self) -> sori_core::provider::ToolSpec {
        sori_core::provider::ToolSpec {
            name: "check_warehouse".into(),
            description: "Asks the warehouse (slow).".into(),
            parameters: serde_json::json!({ "type": "object", "properties": {} }),
        }
    }

    async fn call(&self, _args: serde_json::Value, cancel: tokio_util::sync::CancellationToken) -> Result<String, sori_core::tools::ToolError> {
        tokio::select! {
            _ = self.open.notified() => Ok(r#"{"in_stock":3}"#.into()),
            _ = tokio::time::sleep(self.wait) => Ok(r#"{"in_stock":3}"#.into()),
            _ = cancel.cancelled() => Err(sori_core::tools::ToolError::new("stopped")),
        }
    }
}

/// Waits for the first event that `want` picks, within `secs`; on a timeout
/// the panic shows the last events seen (not the reply's text deltas).
pub async fn until<T>(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<sori_core::event::Event>,
    secs: u64,
    mut want: impl FnMut(&sori_core::event::Event) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    loop {
        let Ok(e) = tokio::time::timeout_at(deadline, events.recv()).await else {
            panic!("the event did not come in {secs} s; the last ones: {:#?}", &seen[seen.len().saturating_sub(12)..]);
        };
        let e = e.expect("the engine runs");
        if let Some(t) = want(&e) {
            return t;
        }
        if !matches!(e, sori_core::event::Event::AssistantDelta { .. }) {
            seen.push(e);
        }
    }
}

/// Waits until the speaker has played `samples` (within 15 s).
pub async fn wait_played(output: &sori_core::audio::output::DeviceOutput, samples: u64) {
    use sori_core::audio::output::AudioOutput;
    let start = std::time::Instant::now();
    while output.played_samples() < samples {
        assert!(start.elapsed() < Duration::from_secs(15), "playback never got going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A speaker that plays in real time at 24 kHz (as a client's does): from
/// its first piece, and again from the next piece after a flush, which
/// stops it where it is.
#[derive(Default)]
pub struct ClockOutput {
    /// Queued, when playing started, and what had played before that.
    state: std::sync::Mutex<(u64, Option<std::time::Instant>, u64)>,
}

impl ClockOutput {
    fn played(q: &(u64, Option<std::time::Instant>, u64)) -> u64 {
        q.2 + q.1.map_or(0, |t| ((t.elapsed().as_secs_f64() * 24_000.0) as u64).min(q.0 - q.2))
    }
}

impl sori_core::audio::output::AudioOutput for ClockOutput {
    fn queue(&self, pcm: &sori_core::audio::Pcm) {
        let mut q = self.state.lock().unwrap();
        if q.1.is_none() || ClockOutput::played(&q) == q.0 {
            // Idle: playing (re)starts now.
            let played = ClockOutput::played(&q);
            *q = (played, Some(std::time::Instant::now()), played);
        }
        q.0 += pcm.samples.len() as u64;
    }
    fn flush(&self) -> u64 {
        let mut q = self.state.lock().unwrap();
        let played = ClockOutput::played(&q);
        *q = (played, None, played);
        played
    }
    fn played_samples(&self) -> u64 {
        ClockOutput::played(&self.state.lock().unwrap())
    }
    fn queued_samples(&self) -> u64 {
        self.state.lock().unwrap().0
    }
}

/// Realtime mode against the testkit with `key`, as Sori's English settings ask for it.
pub fn realtime_setup(kit: &TestServer, key: &str) -> sori_core::realtime::link::LinkSetup {
    let settings = sori_core::settings::Settings { language: "en".into(), ..Default::default() };
    let session = sori_core::app::realtime::session(&settings);
    sori_core::realtime::link::LinkSetup::new(kit.base_url(), Some(ApiKey::new(key).unwrap()), "gpt-realtime", session)
}

/// The Realtime client events of `kind` the test server has received.
pub fn realtime_sent(kit: &TestServer, kind: &str) -> Vec<serde_json::Value> {
    kit.realtime_events().into_iter().filter(|e| e["type"] == kind).collect()
}

/// The events of `kind` once there are `n` (what the link sent may still be on its way; 3 s at most).
pub async fn realtime_sent_at_least(kit: &TestServer, kind: &str, n: usize) -> Vec<serde_json::Value> {
    let start = std::time::Instant::now();
    while realtime_sent(kit, kind).len() < n && start.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    realtime_sent(kit, kind)
}
