//! The microphone side of a conversation: capture → listener on one thread,
//! driving the engine. Utterances become turns, push-to-talk comes in as
//! press/release, barge-in cancels the reply, and the level, speech starts and
//! microphone loss go out as events. Sori's own voice is gated by following
//! the engine's phase directly: no front end has to pass it on. The
//! listener's detector is created on this thread (webrtc-vad is not `Send`).
//! Each frame is cleaned first (Sori's echo, noise, level: see
//! [`crate::audio::echo`]), so the listener, the meter and speech-to-text
//! all hear the cleaned microphone.

use crate::audio::capture::{Capture, CaptureError, CaptureEvent};
use crate::audio::echo::{Cleaner, Cleanup, EchoReference};
use crate::audio::listener::{Listener, ListenerEvent, Mode};
use crate::audio::segmenter::SegmenterConfig;
use crate::audio::vad::{NoiseGate, WebRtcVad};
use crate::engine::EngineHandle;
use crate::event::{Event, Phase, WarningCode};
use crate::turn::TurnInput;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// How the microphone listens.
#[derive(Clone)]
pub struct VoiceSettings {
    pub device: Option<String>,
    pub mode: Mode,
    pub voice_barge_in: bool,
    pub vad_aggressiveness: u8,
    pub segmenter: SegmenterConfig,
    /// What is cleaned out of the microphone.
    pub cleanup: Cleanup,
    /// What the speaker plays (for echo cancellation).
    pub echo_reference: Option<Arc<EchoReference>>,
    /// The Realtime server's voice detection ends the turns: every cleaned
    /// frame streams to it, and the listener only meters the level.
    pub server_turns: bool,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        VoiceSettings {
            device: None,
            mode: Mode::PushToTalk,
            voice_barge_in: false,
            vad_aggressiveness: 2,
            segmenter: SegmenterConfig::default(),
            cleanup: Cleanup::default(),
            echo_reference: None,
            server_turns: false,
        }
    }
}

type BargeIns = Arc<std::sync::Mutex<Vec<Instant>>>;
/// How many of the latest interruptions `VoiceInput::barge_ins` keeps.
const BARGE_INS_KEPT: usize = 64;

enum Command {
    Press,
    Release,
    Stop,
}

/// A running microphone; dropping it stops capture.
pub struct VoiceInput {
    commands: mpsc::Sender<Command>,
    barge_ins: BargeIns,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl VoiceInput {
    pub fn start(settings: VoiceSettings, engine: EngineHandle, events: UnboundedSender<Event>) -> Result<VoiceInput, CaptureError> {
        let (frames_tx, frames) = mpsc::channel();
        let (commands, commands_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_events = events.clone();
        let barge_ins = BargeIns::default();
        let log = barge_ins.clone();
        let thread = std::thread::Builder::new()
            .name("sori-voice".into())
            .spawn(move || {
                let capture = match Capture::start(settings.device.clone(), frames_tx) {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => return drop(ready_tx.send(Err(e))),
                };
                let vad = NoiseGate::new(WebRtcVad::new(settings.vad_aggressiveness));
                let mut listener = Listener::new(vad, settings.mode, settings.segmenter);
                listener.voice_barge_in = settings.voice_barge_in;
                let mut cleaner = Cleaner::new(settings.cleanup, settings.echo_reference.clone());
                let streams = settings.server_turns && settings.mode == Mode::HandsFree;
                let to = Outlets { engine: &engine, events: &thread_events, barge_ins: &log, streams };
                run(&mut listener, cleaner.as_mut(), frames, commands_rx, to);
                drop(capture);
            })
            .map_err(CaptureError::open)?;
        ready_rx.recv().map_err(CaptureError::open)??;
        Ok(VoiceInput { commands, barge_ins, thread: Some(thread) })
    }

    /// When each of the latest 64 interruptions by voice was heard: the
    /// capture time of the frame that decided it, on the microphone's own timeline.
    pub fn barge_ins(&self) -> Vec<Instant> {
        self.barge_ins.lock().unwrap().clone()
    }

    /// The push-to-talk key went down.
    pub fn press(&self) {
        let _ = self.commands.send(Command::Press);
    }

    /// The push-to-talk key came up: the turn starts at once.
    pub fn release(&self) {
        let _ = self.commands.send(Command::Release);
    }
}

/// Where the listening thread's results go.
struct Outlets<'a> {
    engine: &'a EngineHandle,
    events: &'a UnboundedSender<Event>,
    barge_ins: &'a BargeIns,
    /// Every cleaned frame streams to the engine (the server ends the turns).
    streams: bool,
}

fn run(
    listener: &mut Listener<NoiseGate<WebRtcVad>>,
    mut cleaner: Option<&mut Cleaner>,
    frames: mpsc::Receiver<CaptureEvent>,
    commands: mpsc::Receiver<Command>,
    to: Outlets,
) {
    let Outlets { engine, events, barge_ins, streams } = to;
    let mut phase = engine.phase();
    listener.set_assistant_speaking(*phase.borrow_and_update() == Phase::Speaking);
    loop {
        let mut out = Vec::new();
        // Sori's own voice is not the user's: gated while the engine speaks.
        if phase.has_changed().unwrap_or(false) {
            listener.set_assistant_speaking(*phase.borrow_and_update() == Phase::Speaking);
        }
        while let Ok(command) = commands.try_recv() {
            match command {
                Command::Press => out.extend(listener.press()),
                Command::Release => out.extend(listener.release()),
                Command::Stop => return,
            }
        }
        match frames.recv_timeout(Duration::from_millis(20)) {
            Ok(CaptureEvent::Frame { mut samples, at }) => {
                if let Some(c) = cleaner.as_deref_mut() {
                    c.process(&mut samples, at);
                }
                let mut heard = listener.push(&samples);
                if streams {
                    // The server hears the turns; the listener only meters the level.
                    engine.stream(samples);
                    heard.retain(|e| matches!(e, ListenerEvent::Level { .. }));
                }
                if heard.contains(&ListenerEvent::BargeIn) {
                    let mut heard = barge_ins.lock().unwrap();
                    // The latest ones only: a session may run for days.
                    if heard.len() >= BARGE_INS_KEPT {
                        heard.remove(0);
                    }
                    heard.push(at);
                }
                out.extend(heard)
            }
            Ok(CaptureEvent::Lost { message }) => drop(events.send(Event::warning(WarningCode::MicrophoneLost, message))),
            Ok(CaptureEvent::Resumed { device }) => {
                drop(events.send(Event::device_warning(WarningCode::MicrophoneBack, format!("Listening again on {device}."), Some(device))))
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        for event in out {
            let sent = match event {
                ListenerEvent::Level { dbfs, speech } => events.send(Event::Level { dbfs, speech }),
                ListenerEvent::SpeechStarted => {
                    engine.user_speaking();
                    events.send(Event::UserSpeechStarted)
                }
                ListenerEvent::NoSpeech => {
                    engine.no_speech();
                    events.send(Event::warning(WarningCode::NoSpeech, "No speech was heard. Hold the key while you speak."))
                }
                ListenerEvent::BargeIn => {
                    engine.cancel();
                    engine.user_speaking();
                    events.send(Event::UserSpeechStarted)
                }
                ListenerEvent::Paused(u) => {
                    engine.transcribe_early(u.samples, 16_000);
                    Ok(())
                }
                ListenerEvent::Resumed => {
                    engine.forget_early();
                    Ok(())
                }
                ListenerEvent::Utterance(u) => {
                    engine.ask(TurnInput::Audio { samples: u.samples, sample_rate: 16_000 });
                    Ok(())
                }
            };
            if sent.is_err() {
                return; // nobody listens any more
            }
        }
    }
}

impl Drop for VoiceInput {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
