//! Voice activity: is this 10/20/30 ms frame of 16 kHz audio speech? Behind a
//! trait so the segmenter can be driven by anything (tests use scripted
//! decisions). The webrtc-vad implementation is created on the audio thread
//! (its `Vad` holds a raw pointer and is not `Send`).

/// Decides speech or not, frame by frame. `&mut self`: detectors keep state.
pub trait VoiceActivityDetector {
    /// Whether `frame` (16 kHz mono, 10, 20 or 30 ms) holds speech. Frames of
    /// other lengths are never speech.
    fn is_speech(&mut self, frame: &[i16]) -> bool;
}

/// webrtc-vad (libfvad) at 16 kHz.
pub struct WebRtcVad {
    vad: webrtc_vad::Vad,
    aggressiveness: u8,
}

fn mode(aggressiveness: u8) -> webrtc_vad::VadMode {
    match aggressiveness {
        0 => webrtc_vad::VadMode::Quality,
        1 => webrtc_vad::VadMode::LowBitrate,
        2 => webrtc_vad::VadMode::Aggressive,
        _ => webrtc_vad::VadMode::VeryAggressive,
    }
}

impl WebRtcVad {
    /// `aggressiveness` 0 (lenient: more is speech) to 3 (strict).
    pub fn new(aggressiveness: u8) -> Self {
        let vad = webrtc_vad::Vad::new_with_rate_and_mode(webrtc_vad::SampleRate::Rate16kHz, mode(aggressiveness));
        WebRtcVad { vad, aggressiveness: aggressiveness.min(3) }
    }

    /// Forgets what was heard. webrtc-vad's own `reset` also resets the rate to
    /// 8 kHz and the mode to 0, so both are set again here.
    pub fn reset(&mut self) {
        self.vad.reset();
        self.vad.set_sample_rate(webrtc_vad::SampleRate::Rate16kHz);
        self.vad.set_mode(mode(self.aggressiveness));
    }
}

impl VoiceActivityDetector for WebRtcVad {
    fn is_speech(&mut self, frame: &[i16]) -> bool {
        // webrtc-vad panics on an empty frame and errs on other lengths.
        matches!(frame.len(), 160 | 320 | 480) && self.vad.is_voice_segment(frame).unwrap_or(false)
    }
}

/// Level of a frame in dBFS (RMS; digital silence is -100).
pub fn rms_dbfs(frame: &[i16]) -> f32 {
    if frame.is_empty() {
        return -100.0;
    }
    dbfs(frame.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / frame.len() as f64)
}

/// The level of a frame whose mean square (of 16-bit samples) is known, in dBFS.
pub fn dbfs(mean_square: f64) -> f32 {
    (10.0 * (mean_square / (32768.0f64 * 32768.0)).log10()).max(-100.0) as f32
}

/// Speech must also stand out from the room: a frame counts only when its
/// level is `margin_db` above a tracked noise floor. webrtc-vad alone takes
/// noise for speech until its model adapts, which a fresh microphone stream
/// always makes it do. The floor follows quiet frames down at once and
/// creeps up slowly (about 2.5 dB a second), so speech never becomes "noise".
pub struct NoiseGate<V> {
    inner: V,
    floor_db: Option<f32>,
    pub margin_db: f32,
}

impl<V: VoiceActivityDetector> NoiseGate<V> {
    pub fn new(inner: V) -> Self {
        NoiseGate { inner, floor_db: None, margin_db: 9.0 }
    }

    /// The current noise floor, once a frame was seen.
    pub fn floor_db(&self) -> Option<f32> {
        self.floor_db
    }
}

impl<V: VoiceActivityDetector> VoiceActivityDetector for NoiseGate<V> {
    fn is_speech(&mut self, frame: &[i16]) -> bool {
        let level = rms_dbfs(frame);
        let floor = self.floor_db.get_or_insert(level);
        *floor = if level < *floor { level } else { *floor + 0.05 };
        // Run the detector on every frame, so its own model keeps adapting.
        let voiced = self.inner.is_speech(frame);
        voiced && level >= *floor + self.margin_db
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_ignores_a_steady_room_and_passes_what_stands_out() {
        struct Always;
        impl VoiceActivityDetector for Always {
            fn is_speech(&mut self, _: &[i16]) -> bool {
                true
            }
        }
        let mut gate = NoiseGate::new(Always);
        let room: Vec<i16> = (0..320).map(|i| if i % 2 == 0 { 100 } else { -100 }).collect();
        for _ in 0..50 {
            assert!(!gate.is_speech(&room), "the room is not speech");
        }
        let loud: Vec<i16> = room.iter().map(|s| s * 30).collect();
        assert!(gate.is_speech(&loud), "30 dB above the room");
        assert!((rms_dbfs(&room) - (-50.3)).abs() < 0.1);
        assert_eq!(rms_dbfs(&[0; 320]), -100.0);
    }

    #[test]
    fn silence_is_not_speech_and_odd_frames_are_refused() {
        let mut vad = WebRtcVad::new(2);
        assert!(!vad.is_speech(&[0; 320]));
        assert!(!vad.is_speech(&[]));
        assert!(!vad.is_speech(&[1000; 123]));
        vad.reset();
        assert!(!vad.is_speech(&[0; 320]), "still 16 kHz after reset");
    }
}
