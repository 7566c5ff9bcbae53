//! Finds utterances in a stream of frames and speech decisions: speech starts
//! after `onset` of continuous speech, keeps `pre_roll` of audio from before
//! (the first syllable is never lost), ends after `end_silence` of silence
//! (the hangover), and is cut at `max_utterance`. A shorter `pause` of silence
//! first says the utterance may be over (so it can be transcribed early), and
//! speech after that pause says it was not. Pure logic: it never looks
//! at the clock, only at frames, so tests drive it exactly.

use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmenterConfig {
    /// Samples per frame (16 kHz: 320 = 20 ms).
    pub frame_samples: usize,
    pub onset_ms: u32,
    pub end_silence_ms: u32,
    pub pre_roll_ms: u32,
    pub max_utterance_ms: u32,
    /// Silence after which the utterance may be over (early transcription);
    /// 0, or not shorter than `end_silence_ms`: never.
    pub pause_ms: u32,
}

impl Default for SegmenterConfig {
    fn default() -> Self {
        SegmenterConfig { frame_samples: 320, onset_ms: 60, end_silence_ms: 600, pre_roll_ms: 300, max_utterance_ms: 60_000, pause_ms: 0 }
    }
}

impl SegmenterConfig {
    fn frames(&self, ms: u32) -> usize {
        let frame_ms = (self.frame_samples as u32 * 1000 / 16_000).max(1);
        (ms.div_ceil(frame_ms)) as usize
    }
}

/// A finished utterance. Frame numbers count from the segmenter's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    /// The audio, pre-roll included, 16 kHz mono.
    pub samples: Vec<i16>,
    /// The first frame of `samples`.
    pub first_frame: u64,
    /// The first frame judged speech.
    pub speech_start: u64,
    /// The frame after the last one judged speech.
    pub speech_end: u64,
    /// Cut at the maximum length rather than ended by silence.
    pub cut: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentEvent {
    /// Speech began at this frame.
    SpeechStarted {
        frame: u64,
    },
    SpeechEnded(Utterance),
    /// `pause` of silence: the utterance so far, in case it is over.
    Paused(Utterance),
    /// Speech again after a pause: the utterance was not over.
    Resumed,
}

#[derive(Debug)]
enum State {
    Waiting { recent: VecDeque<Vec<i16>>, run: usize },
    Speaking { samples: Vec<i16>, first_frame: u64, speech_start: u64, last_speech: u64, silence: usize, paused: bool },
}

#[derive(Debug)]
pub struct UtteranceSegmenter {
    config: SegmenterConfig,
    state: State,
    frame: u64,
}

impl UtteranceSegmenter {
    pub fn new(config: SegmenterConfig) -> Self {
        UtteranceSegmenter { config, state: State::Waiting { recent: VecDeque::new(), run: 0 }, frame: 0 }
    }

    pub fn is_speaking(&self) -> bool {
        matches!(self.state, State::Speaking { .. })
    }

    /// The index the next frame will get.
    pub fn next_frame(&self) -> u64 {
        self.frame
    }

    /// Takes one frame and its speech decision.
    pub fn push(&mut self, frame: &[i16], speech: bool) -> Option<SegmentEvent> {
        let index = self.frame;
        self.frame += 1;
        let c = self.config;
        match &mut self.state {
            State::Waiting { recent, run } => {
                recent.push_back(frame.to_vec());
                *run = if speech { *run + 1 } else { 0 };
                let keep = c.frames(c.pre_roll_ms) + c.frames(c.onset_ms);
                while recent.len() > keep {
                    recent.pop_front();
                }
                if *run < c.frames(c.onset_ms).max(1) {
                    return None;
                }
                let speech_start = index + 1 - *run as u64;
                let first_frame = index + 1 - recent.len() as u64;
                let samples: Vec<i16> = recent.drain(..).flatten().collect();
                self.state = State::Speaking { samples, first_frame, speech_start, last_speech: index, silence: 0, paused: false };
                Some(SegmentEvent::SpeechStarted { frame: speech_start })
            }
            State::Speaking { samples, first_frame, speech_start, last_speech, silence, paused } => {
                samples.extend_from_slice(frame);
                if speech {
                    *last_speech = index;
                    *silence = 0;
                    if std::mem::take(paused) {
                        return Some(SegmentEvent::Resumed);
                    }
                } else {
                    *silence += 1;
                }
                let too_long = samples.len() >= c.max_utterance_ms as usize * 16;
                if *silence >= c.frames(c.end_silence_ms) || too_long {
                    return self.finish(too_long);
                }
                if c.pause_ms > 0 && c.pause_ms < c.end_silence_ms && *silence == c.frames(c.pause_ms) {
                    *paused = true;
                    let so_far = Utterance {
                        samples: samples.clone(),
                        first_frame: *first_frame,
                        speech_start: *speech_start,
                        speech_end: *last_speech + 1,
                        cut: false,
                    };
                    return Some(SegmentEvent::Paused(so_far));
                }
                None
            }
        }
    }

    /// Ends the utterance now (push-to-talk released): the utterance if speech
    /// had started, `None` if nothing was said.
    pub fn end_now(&mut self) -> Option<Utterance> {
        match self.finish(false) {
            Some(SegmentEvent::SpeechEnded(u)) => Some(u),
            _ => {
                self.state = State::Waiting { recent: VecDeque::new(), run: 0 };
                None
            }
        }
    }

    fn finish(&mut self, cut: bool) -> Option<SegmentEvent> {
        let state = std::mem::replace(&mut self.state, State::Waiting { recent: VecDeque::new(), run: 0 });
        match state {
            State::Speaking { samples, first_frame, speech_start, last_speech, .. } => {
                Some(SegmentEvent::SpeechEnded(Utterance { samples, first_frame, speech_start, speech_end: last_speech + 1, cut }))
            }
            waiting => {
                self.state = waiting;
                None
            }
        }
    }
}

#[cfg(test)]
#[path = "segmenter_tests.rs"]
mod tests;
