use super::*;

/// Drives the segmenter with a script of speech decisions ('#' speech, '.'
/// silence), each frame filled with its own index so pre-roll can be checked.
fn run(script: &str, config: SegmenterConfig) -> Vec<SegmentEvent> {
    let mut s = UtteranceSegmenter::new(config);
    script.chars().enumerate().filter_map(|(i, c)| s.push(&vec![i as i16; config.frame_samples], c == '#')).collect()
}

fn small() -> SegmenterConfig {
    // 10 ms frames (160 samples) for readable scripts: onset 30 ms, end 50 ms, pre-roll 40 ms.
    SegmenterConfig { frame_samples: 160, onset_ms: 30, end_silence_ms: 50, pre_roll_ms: 40, max_utterance_ms: 60_000, pause_ms: 0 }
}

#[test]
fn speech_starts_after_onset_and_ends_after_the_hangover() {
    let events = run("..........####.##......", small());
    assert_eq!(events[0], SegmentEvent::SpeechStarted { frame: 10 });
    let SegmentEvent::SpeechEnded(u) = &events[1] else { panic!("{events:?}") };
    assert_eq!((u.speech_start, u.speech_end), (10, 17));
    // Pre-roll: 4 frames (40 ms) before the speech began are in the utterance.
    assert_eq!(u.first_frame, 6);
    assert_eq!(u.samples[0], 6);
    assert_eq!(u.samples.len(), 160 * (22 - 6), "through the end of the hangover");
    assert!(!u.cut);
}

#[test]
fn blips_shorter_than_the_onset_are_not_speech() {
    assert!(run("..#...##...#.#....", small()).is_empty());
}

#[test]
fn a_pause_shorter_than_the_hangover_does_not_end_the_utterance() {
    let events = run("....###....###.......", small());
    assert_eq!(events.len(), 2);
    let SegmentEvent::SpeechEnded(u) = &events[1] else { panic!() };
    assert_eq!((u.speech_start, u.speech_end), (4, 14));
}

#[test]
fn a_long_utterance_is_cut_at_the_maximum() {
    let config = SegmenterConfig { max_utterance_ms: 100, ..small() };
    let events = run(&"#".repeat(30), config);
    let ended: Vec<&Utterance> = events
        .iter()
        .filter_map(|e| match e {
            SegmentEvent::SpeechEnded(u) => Some(u),
            _ => None,
        })
        .collect();
    assert!(ended.len() >= 2 && ended.iter().all(|u| u.cut && u.samples.len() == 1600), "{events:?}");
}

#[test]
fn push_to_talk_release_ends_at_once_or_reports_no_speech() {
    let mut s = UtteranceSegmenter::new(small());
    for _ in 0..5 {
        s.push(&[0; 160], false);
    }
    assert_eq!(s.end_now(), None, "nothing was said");
    for c in "...####.".chars() {
        s.push(&[1; 160], c == '#');
    }
    let u = s.end_now().expect("released mid-utterance");
    assert_eq!(u.speech_end - u.speech_start, 4);
    assert!(!s.is_speaking());
}

#[test]
fn default_frames_are_20_ms() {
    let c = SegmenterConfig::default();
    assert_eq!((c.frames(c.onset_ms), c.frames(c.end_silence_ms), c.frames(c.pre_roll_ms)), (3, 30, 15));
}

#[test]
fn a_short_pause_offers_the_utterance_early_and_speech_after_it_takes_that_back() {
    let config = SegmenterConfig { end_silence_ms: 80, pause_ms: 30, ..small() };
    let events = run("....####...####........", config);
    assert_eq!(events[0], SegmentEvent::SpeechStarted { frame: 4 });
    // Three frames of silence: maybe over; the utterance so far comes with it.
    let SegmentEvent::Paused(early) = &events[1] else { panic!("{events:?}") };
    assert_eq!((early.speech_start, early.speech_end), (4, 8));
    assert_eq!(early.samples.len(), 160 * 11, "frames 0 to 10: the pre-roll, the speech, the pause");
    assert_eq!(events[2], SegmentEvent::Resumed, "speech again: it was not over");
    let SegmentEvent::Paused(again) = &events[3] else { panic!("{events:?}") };
    let SegmentEvent::SpeechEnded(whole) = &events[4] else { panic!("{events:?}") };
    assert_eq!(events.len(), 5);
    assert_eq!((whole.speech_start, whole.speech_end), (4, 15));
    // What was offered early is the start of the whole utterance.
    assert!(whole.samples.starts_with(&again.samples) && again.samples.len() < whole.samples.len());
    // Off when not shorter than the hangover.
    let off = run("....####........", SegmenterConfig { end_silence_ms: 50, pause_ms: 50, ..small() });
    assert!(off.iter().all(|e| !matches!(e, SegmentEvent::Paused(_))));
}
