use super::*;

/// A detector that says "speech" for frames whose first sample is non-zero.
struct Scripted;

impl VoiceActivityDetector for Scripted {
    fn is_speech(&mut self, frame: &[i16]) -> bool {
        frame[0] != 0
    }
}

fn frame(speech: bool, tag: i16) -> Vec<i16> {
    let mut f = vec![if speech { 3000 } else { 0 }; 320];
    f[1] = tag;
    f
}

fn feed(l: &mut Listener<Scripted>, script: &str) -> Vec<ListenerEvent> {
    script.chars().enumerate().flat_map(|(i, c)| l.push(&frame(c == '#', i as i16))).filter(|e| !matches!(e, ListenerEvent::Level { .. })).collect()
}

fn listener(mode: Mode) -> Listener<Scripted> {
    Listener::new(Scripted, mode, SegmenterConfig { end_silence_ms: 100, ..Default::default() })
}

#[test]
fn push_to_talk_keeps_the_300_ms_before_the_press_and_ends_on_release() {
    let mut l = listener(Mode::PushToTalk);
    assert!(feed(&mut l, &".".repeat(20)).is_empty(), "push-to-talk ignores speech until pressed");
    assert!(feed(&mut l, "..##").is_empty());
    assert_eq!(l.press(), [ListenerEvent::SpeechStarted]);
    feed(&mut l, "#####..");
    let events = l.release();
    let [ListenerEvent::Utterance(u)] = events.as_slice() else { panic!("{events:?}") };
    // 15 frames of pre-roll (300 ms), then the 7 held.
    assert_eq!(u.samples.len(), 320 * (15 + 7));
    assert_eq!(u.samples[1], 9, "the pre-roll starts 300 ms before the press");
    assert_eq!((u.first_frame, u.speech_end), (9, 31));
}

#[test]
fn a_press_without_speech_is_no_speech() {
    let mut l = listener(Mode::PushToTalk);
    feed(&mut l, "....");
    l.press();
    feed(&mut l, "..#...");
    assert_eq!(l.release(), [ListenerEvent::NoSpeech]);
    assert_eq!(l.release(), [], "released twice: nothing more");
}

#[test]
fn hands_free_turns_come_from_the_segmenter() {
    let mut l = listener(Mode::HandsFree);
    let events = feed(&mut l, "....######.....");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], ListenerEvent::SpeechStarted);
    assert!(matches!(&events[1], ListenerEvent::Utterance(u) if u.speech_end - u.speech_start == 6));
}

#[test]
fn sori_does_not_hear_itself_unless_barge_in_is_on() {
    let mut l = listener(Mode::HandsFree);
    l.set_assistant_speaking(true);
    assert!(feed(&mut l, &"#".repeat(40)).is_empty(), "its own voice is not a turn");
    l.set_assistant_speaking(false);
    assert!(feed(&mut l, ".....").is_empty(), "nothing carried over");

    l.voice_barge_in = true;
    l.set_assistant_speaking(true);
    assert!(feed(&mut l, &"#".repeat(8)).is_empty(), "160 ms is not enough");
    assert!(feed(&mut l, "...").is_empty(), "a pause lets the count run out");
    assert!(feed(&mut l, "#.#.#.#.#.#.#.").is_empty(), "scattered frames are not speech");
    assert!(feed(&mut l, "....").is_empty());
    let events = feed(&mut l, "########.#");
    assert_eq!(events.first(), Some(&ListenerEvent::BargeIn), "180 ms of speech with one frame missed mid-word interrupts");
    let events = [events, feed(&mut l, &format!("{}.....", "#".repeat(5)))].concat();
    assert!(matches!(events.last(), Some(ListenerEvent::Utterance(_))), "the interruption becomes the next question: {events:?}");
}

#[test]
fn the_level_is_reported_20_times_a_second() {
    let mut l = listener(Mode::PushToTalk);
    let levels: Vec<ListenerEvent> = (0..50).flat_map(|i| l.push(&frame(i >= 30, 0))).collect();
    assert_eq!(levels.len(), 20);
    assert!(matches!(levels[0], ListenerEvent::Level { dbfs, speech: false } if dbfs < -90.0));
    assert!(matches!(levels[19], ListenerEvent::Level { dbfs, speech: true } if (dbfs + 20.8).abs() < 0.5));
}
