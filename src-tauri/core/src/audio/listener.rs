//! What the microphone means for a conversation, frame by frame: push-to-talk
//! (with the 300 ms before the press kept), hands-free turns found by the
//! segmenter, no listening to Sori's own voice while it speaks unless voice
//! barge-in is on (then 180 ms of speech within 220 ms interrupts: on
//! speakers the microphone arrives with Sori's echo already taken out), and the level
//! meter (about 20 times a second). Pure logic over frames: the capture
//! thread feeds it, tests script it.

use super::segmenter::{SegmentEvent, SegmenterConfig, Utterance, UtteranceSegmenter};
use super::vad::{rms_dbfs, VoiceActivityDetector};
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    PushToTalk,
    HandsFree,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListenerEvent {
    /// Input level and whether it sounds like speech, for the meter.
    Level { dbfs: f32, speech: bool },
    /// The user started speaking (hands-free), or pressed the key.
    SpeechStarted,
    /// A finished utterance to answer.
    Utterance(Utterance),
    /// A short pause: the utterance so far, to transcribe early in case it is over.
    Paused(Utterance),
    /// The user went on after that pause: what was started early is dropped.
    Resumed,
    /// Push-to-talk was released without speech in it: no provider call.
    NoSpeech,
    /// The user spoke over Sori long enough to interrupt it.
    BargeIn,
}

pub struct Listener<V> {
    vad: V,
    mode: Mode,
    config: SegmenterConfig,
    segmenter: UtteranceSegmenter,
    /// The last `pre_roll` of audio, for push-to-talk presses.
    recent: VecDeque<Vec<i16>>,
    /// Push-to-talk held: the audio so far and how much of it was speech.
    held: Option<(Vec<i16>, usize, usize)>,
    /// Sori is speaking now.
    assistant_speaking: bool,
    pub voice_barge_in: bool,
    /// The last frames' speech decisions while Sori speaks, newest in bit 0.
    barge_window: u32,
    frames: u64,
    level_sum: f32,
    level_n: u32,
    level_speech: bool,
}

/// Milliseconds per level report (20 reports a second; 20 ms frames make
/// that every second or third frame).
const LEVEL_MS: u64 = 50;
/// Speech that interrupts Sori: this many 20 ms frames of speech (180 ms)
/// within the last `BARGE_IN_WINDOW` (220 ms), so that one frame the detector
/// missed mid-word does not start the count again, and a cough never counts.
/// On the echo rig this cuts Sori 170–270 ms after the user's first word.
const BARGE_IN_FRAMES: u32 = 9;
const BARGE_IN_WINDOW: u32 = 11;

impl<V: VoiceActivityDetector> Listener<V> {
    pub fn new(vad: V, mode: Mode, config: SegmenterConfig) -> Self {
        Listener {
            vad,
            mode,
            config,
            segmenter: UtteranceSegmenter::new(config),
            recent: VecDeque::new(),
            held: None,
            assistant_speaking: false,
            voice_barge_in: false,
            barge_window: 0,
            frames: 0,
            level_sum: 0.0,
            level_n: 0,
            level_speech: false,
        }
    }

    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        self.segmenter = UtteranceSegmenter::new(self.config);
    }

    /// Tells the listener whether Sori is speaking (to gate its own voice).
    pub fn set_assistant_speaking(&mut self, speaking: bool) {
        if self.assistant_speaking && !speaking {
            // Whatever was heard while Sori spoke was Sori: start fresh.
            self.segmenter = UtteranceSegmenter::new(self.config);
        }
        self.assistant_speaking = speaking;
        self.barge_window = 0;
    }

    /// The push-to-talk key went down: the last 300 ms are kept.
    pub fn press(&mut self) -> Vec<ListenerEvent> {
        let audio: Vec<i16> = self.recent.iter().flatten().copied().collect();
        let first_frame = (self.frames as usize).saturating_sub(self.recent.len());
        self.held = Some((audio, 0, first_frame));
        vec![ListenerEvent::SpeechStarted]
    }

    /// The key came up: the utterance at once, or "no speech".
    pub fn release(&mut self) -> Vec<ListenerEvent> {
        let Some((samples, speech_frames, first_frame)) = self.held.take() else { return vec![] };
        let onset = (self.config.onset_ms / 20).max(1) as usize;
        if speech_frames < onset {
            return vec![ListenerEvent::NoSpeech];
        }
        let end = self.frames;
        vec![ListenerEvent::Utterance(Utterance {
            samples,
            first_frame: first_frame as u64,
            speech_start: first_frame as u64,
            speech_end: end,
            cut: false,
        })]
    }

    /// Takes one 20 ms frame of 16 kHz audio.
    pub fn push(&mut self, frame: &[i16]) -> Vec<ListenerEvent> {
        let mut out = Vec::new();
        let speech = self.vad.is_speech(frame);
        self.frames += 1;

        self.level_sum += rms_dbfs(frame);
        self.level_n += 1;
        self.level_speech |= speech;
        if self.frames * 20 / LEVEL_MS > (self.frames - 1) * 20 / LEVEL_MS {
            out.push(ListenerEvent::Level { dbfs: self.level_sum / self.level_n as f32, speech: self.level_speech });
            (self.level_sum, self.level_n, self.level_speech) = (0.0, 0, false);
        }

        self.recent.push_back(frame.to_vec());
        while self.recent.len() > (self.config.pre_roll_ms / 20) as usize {
            self.recent.pop_front();
        }

        if let Some((samples, speech_frames, _)) = self.held.as_mut() {
            samples.extend_from_slice(frame);
            *speech_frames += usize::from(speech);
            return out;
        }
        if self.assistant_speaking {
            if self.voice_barge_in {
                self.barge_window = ((self.barge_window << 1) | u32::from(speech)) & ((1 << BARGE_IN_WINDOW) - 1);
                if speech && self.barge_window.count_ones() >= BARGE_IN_FRAMES {
                    out.push(ListenerEvent::BargeIn);
                    self.assistant_speaking = false;
                    // The 300 ms that interrupted are the start of the next question.
                    let mut seg = UtteranceSegmenter::new(self.config);
                    for f in self.recent.iter() {
                        seg.push(f, true);
                    }
                    self.segmenter = seg;
                }
            }
            return out;
        }
        if self.mode == Mode::HandsFree {
            match self.segmenter.push(frame, speech) {
                Some(SegmentEvent::SpeechStarted { .. }) => out.push(ListenerEvent::SpeechStarted),
                Some(SegmentEvent::SpeechEnded(u)) => out.push(ListenerEvent::Utterance(u)),
                Some(SegmentEvent::Paused(u)) => out.push(ListenerEvent::Paused(u)),
                Some(SegmentEvent::Resumed) => out.push(ListenerEvent::Resumed),
                None => {}
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "listener_tests.rs"]
mod tests;
