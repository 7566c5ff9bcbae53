//! The fake Realtime server's voice activity detection: a deterministic energy
//! detector over the appended 24 kHz PCM16 mono audio, on audio time (never
//! wall time), and the settings it reads from `audio.input.turn_detection`.
//!
//! Frames are 10 ms (240 samples) on a fixed grid from the session's first
//! appended sample; a partial frame waits for the next append. A frame is
//! speech when its RMS in dBFS is above `-60 + 50 × threshold` (threshold 0.5
//! → -35 dBFS). Speech starts after 3 speech frames in a row, at the start of
//! the first of them; it stops after `silence_duration_ms` of non-speech
//! frames in a row (rounded up to whole frames), at the end of the last of
//! them, so the stop is the end of the last speech frame plus the silence.
//!
//! The fake's simplification of `semantic_vad`: no turn model, the same
//! detector with threshold 0.5, 300 ms of prefix padding, and a fixed silence
//! by eagerness (`high` 500 ms, `medium` and `auto` 1000 ms, `low` 2000 ms).

use serde_json::Value;

/// Samples per frame: 10 ms at 24 kHz.
const FRAME_SAMPLES: usize = 240;
const FRAME_BYTES: usize = FRAME_SAMPLES * 2;
const FRAME_MS: u64 = 10;
/// Speech frames in a row that start speech.
const START_FRAMES: u32 = 3;

/// What the detector and the turns it ends need from the session's `turn_detection`.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// A frame above this RMS level (dBFS) is speech.
    pub threshold_dbfs: f64,
    pub prefix_padding_ms: u64,
    pub silence_ms: u64,
    /// Server VAD only: wall time without speech after a response before the server answers anyway.
    pub idle_timeout_ms: Option<u64>,
    pub create_response: bool,
    pub interrupt_response: bool,
}

impl Settings {
    /// The settings for `turn_detection`, or `None` when it is off (`null`) or unknown.
    pub fn from_turn_detection(td: &Value) -> Option<Settings> {
        let threshold_dbfs = |threshold: f64| -60.0 + 50.0 * threshold;
        let create_response = td["create_response"].as_bool().unwrap_or(true);
        let interrupt_response = td["interrupt_response"].as_bool().unwrap_or(true);
        match td["type"].as_str()? {
            "server_vad" => Some(Settings {
                threshold_dbfs: threshold_dbfs(td["threshold"].as_f64().unwrap_or(0.5)),
                prefix_padding_ms: td["prefix_padding_ms"].as_u64().unwrap_or(300),
                silence_ms: td["silence_duration_ms"].as_u64().unwrap_or(500),
                idle_timeout_ms: td["idle_timeout_ms"].as_u64(),
                create_response,
                interrupt_response,
            }),
            "semantic_vad" => Some(Settings {
                threshold_dbfs: threshold_dbfs(0.5),
                prefix_padding_ms: 300,
                silence_ms: match td["eagerness"].as_str() {
                    Some("high") => 500,
                    Some("low") => 2000,
                    _ => 1000,
                },
                idle_timeout_ms: None,
                create_response,
                interrupt_response,
            }),
            _ => None,
        }
    }
}

/// A change the detector found, in ms of audio time since the session's first appended audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// Speech began at `at_ms` (the start of its first speech frame; no padding).
    Started { at_ms: u64 },
    /// Speech ended: `at_ms` is the end of the last speech frame plus the silence.
    Stopped { at_ms: u64 },
}

/// The detector's state across appends.
#[derive(Debug, Default)]
pub struct Vad {
    /// The bytes of a frame not yet complete.
    partial: Vec<u8>,
    /// Whole frames seen since the session's first audio.
    frames: u64,
    speech_run: u32,
    silence_run: u64,
    speaking: bool,
}

impl Vad {
    /// Feeds appended audio; `settings` `None` (detection off) only moves the frame grid on.
    pub fn push(&mut self, audio: &[u8], settings: Option<&Settings>) -> Vec<Edge> {
        let mut edges = Vec::new();
        self.partial.extend_from_slice(audio);
        let whole = self.partial.len() / FRAME_BYTES * FRAME_BYTES;
        let pending: Vec<u8> = self.partial.drain(..whole).collect();
        for frame in pending.chunks_exact(FRAME_BYTES) {
            self.frames += 1;
            let Some(settings) = settings else {
                self.reset();
                continue;
            };
            let speech = frame_dbfs(frame) > settings.threshold_dbfs;
            if !self.speaking {
                self.speech_run = if speech { self.speech_run + 1 } else { 0 };
                if self.speech_run == START_FRAMES {
                    self.speaking = true;
                    self.silence_run = 0;
                    edges.push(Edge::Started { at_ms: (self.frames - u64::from(START_FRAMES)) * FRAME_MS });
                }
            } else if speech {
                self.silence_run = 0;
            } else {
                self.silence_run += 1;
                if self.silence_run * FRAME_MS >= settings.silence_ms.max(1) {
                    self.reset();
                    edges.push(Edge::Stopped { at_ms: self.frames * FRAME_MS });
                }
            }
        }
        edges
    }

    /// Back to no speech, as after a stop; the frame grid (and a partial frame) stay.
    pub fn reset(&mut self) {
        self.speaking = false;
        self.speech_run = 0;
        self.silence_run = 0;
    }
}

/// A frame's RMS level in dBFS (`-inf` for digital silence).
pub fn frame_dbfs(frame: &[u8]) -> f64 {
    let samples = frame.len() / 2;
    if samples == 0 {
        return f64::NEG_INFINITY;
    }
    let energy: f64 = frame.chunks_exact(2).map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])).powi(2)).sum();
    20.0 * ((energy / samples as f64).sqrt() / 32768.0).log10()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `ms` of a 300 Hz sine of `amplitude` (0 is silence), as PCM16 bytes.
    fn tone(ms: usize, amplitude: f64) -> Vec<u8> {
        (0..ms * 24)
            .map(|i| ((i as f64 * 2.0 * std::f64::consts::PI * 300.0 / 24_000.0).sin() * amplitude) as i16)
            .flat_map(i16::to_le_bytes)
            .collect()
    }

    fn server_vad() -> Settings {
        Settings::from_turn_detection(&json!({ "type": "server_vad" })).unwrap()
    }

    /// Pushes `audio` in chunks of `chunk` bytes.
    fn run(vad: &mut Vad, audio: &[u8], chunk: usize, settings: Option<&Settings>) -> Vec<Edge> {
        audio.chunks(chunk).flat_map(|c| vad.push(c, settings)).collect()
    }

    #[test]
    fn levels_and_the_threshold() {
        assert!((frame_dbfs(&tone(10, 8000.0)) - 20.0 * (8000.0 / 2f64.sqrt() / 32768.0).log10()).abs() < 0.1);
        assert_eq!(frame_dbfs(&tone(10, 0.0)), f64::NEG_INFINITY);
        assert_eq!(server_vad().threshold_dbfs, -35.0);
        let strict = Settings::from_turn_detection(&json!({ "type": "server_vad", "threshold": 0.9 })).unwrap();
        assert_eq!(strict.threshold_dbfs, -15.0);
        // Amplitude 8000 is about -15.3 dBFS: speech at 0.5, not at 0.9.
        assert_eq!(run(&mut Vad::default(), &tone(100, 8000.0), 4800, Some(&strict)), []);
    }

    #[test]
    fn settings_defaults_semantic_eagerness_and_off() {
        assert_eq!(
            server_vad(),
            Settings {
                threshold_dbfs: -35.0,
                prefix_padding_ms: 300,
                silence_ms: 500,
                idle_timeout_ms: None,
                create_response: true,
                interrupt_response: true
            }
        );
        let custom = json!({ "type": "server_vad", "threshold": 0.2, "prefix_padding_ms": 100, "silence_duration_ms": 200, "idle_timeout_ms": 6000,
            "create_response": false, "interrupt_response": false });
        let custom = Settings::from_turn_detection(&custom).unwrap();
        assert_eq!((custom.prefix_padding_ms, custom.silence_ms, custom.idle_timeout_ms), (100, 200, Some(6000)));
        assert!(!custom.create_response && !custom.interrupt_response && (custom.threshold_dbfs + 50.0).abs() < 1e-9);
        let semantic =
            |eagerness: &str| Settings::from_turn_detection(&json!({ "type": "semantic_vad", "eagerness": eagerness })).unwrap().silence_ms;
        assert_eq!([semantic("high"), semantic("medium"), semantic("auto"), semantic("low")], [500, 1000, 1000, 2000]);
        // Server VAD fields left behind by a merge do not apply to semantic VAD.
        let merged =
            Settings::from_turn_detection(&json!({ "type": "semantic_vad", "threshold": 0.9, "silence_duration_ms": 200, "idle_timeout_ms": 5000 }))
                .unwrap();
        assert_eq!((merged.threshold_dbfs, merged.silence_ms, merged.idle_timeout_ms), (-35.0, 1000, None));
        assert_eq!(Settings::from_turn_detection(&Value::Null), None);
    }

    #[test]
    fn speech_starts_after_three_frames_and_stops_after_the_silence() {
        let settings = server_vad();
        let mut audio = tone(500, 0.0);
        audio.extend(tone(800, 8000.0));
        audio.extend(tone(600, 0.0));
        // 70 ms chunks (1680 samples) leave partial frames between appends.
        let edges = run(&mut Vad::default(), &audio, 70 * 48, Some(&settings));
        assert_eq!(edges, [Edge::Started { at_ms: 500 }, Edge::Stopped { at_ms: 1800 }]);
        // An odd chunk size splits samples across appends too.
        assert_eq!(run(&mut Vad::default(), &audio, 333, Some(&settings)), edges);
    }

    #[test]
    fn short_sounds_and_short_pauses_do_not_count() {
        let settings = server_vad();
        let mut audio = tone(100, 0.0);
        // 20 ms of speech is too short to start.
        audio.extend(tone(20, 8000.0));
        audio.extend(tone(100, 0.0));
        // Speech with a 400 ms pause inside: one turn.
        audio.extend(tone(300, 8000.0));
        audio.extend(tone(400, 0.0));
        audio.extend(tone(300, 8000.0));
        audio.extend(tone(500, 0.0));
        assert_eq!(run(&mut Vad::default(), &audio, 960, Some(&settings)), [Edge::Started { at_ms: 220 }, Edge::Stopped { at_ms: 1720 }]);
    }

    #[test]
    fn quiet_audio_is_not_speech() {
        let edges = run(&mut Vad::default(), &tone(2000, 30.0), 2400, Some(&server_vad()));
        assert_eq!(edges, []);
    }

    #[test]
    fn off_keeps_the_grid_and_reset_forgets_the_speech() {
        let settings = server_vad();
        let mut vad = Vad::default();
        // Detection off: loud audio moves the grid on but finds nothing.
        assert_eq!(vad.push(&tone(200, 8000.0), None), []);
        assert_eq!(vad.push(&tone(100, 8000.0), Some(&settings)), [Edge::Started { at_ms: 200 }]);
        vad.reset();
        assert_eq!(vad.push(&tone(1000, 0.0), Some(&settings)), [], "no stop without a start");
        let edges = vad.push(&[tone(50, 8000.0), tone(1000, 0.0)].concat(), Some(&settings));
        assert_eq!(edges, [Edge::Started { at_ms: 1300 }, Edge::Stopped { at_ms: 1850 }]);
    }
}
