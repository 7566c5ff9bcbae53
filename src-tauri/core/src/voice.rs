//! The microphone side of a conversation: capture → listener on one thread,
//! driving the engine. Utterances become turns, push-to-talk comes in as
//! press/release, barge-in cancels the reply, and the level, speech starts and
//! microphone loss go out as events. The listener's detector is created on
//! this thread (webrtc-vad is not `Send`).

use crate::audio::capture::{Capture, CaptureError, CaptureEvent};
use crate::audio::listener::{Listener, ListenerEvent, Mode};
use crate::audio::segmenter::SegmenterConfig;
use crate::audio::vad::{NoiseGate, WebRtcVad};
use crate::engine::EngineHandle;
use crate::event::{Event, Phase};
use crate::turn::TurnInput;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How the microphone listens.
#[derive(Debug, Clone)]
pub struct VoiceSettings {
    pub device: Option<String>,
    pub mode: Mode,
    pub voice_barge_in: bool,
    pub vad_aggressiveness: u8,
    pub segmenter: SegmenterConfig,
}

enum Command {
    Press,
    Release,
    Phase(Phase),
    Stop,
}

/// A running microphone; dropping it stops capture.
pub struct VoiceInput {
    commands: mpsc::Sender<Command>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl VoiceInput {
    pub fn start(settings: VoiceSettings, engine: EngineHandle, events: UnboundedSender<Event>) -> Result<VoiceInput, CaptureError> {
        let (frames_tx, frames) = mpsc::channel();
        let (commands, commands_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_events = events.clone();
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
                run(&mut listener, frames, commands_rx, &engine, &thread_events);
                drop(capture);
            })
            .map_err(|e| CaptureError::Open(e.to_string()))?;
        ready_rx.recv().map_err(|e| CaptureError::Open(e.to_string()))??;
        let _ = events.send(Event::Status { phase: Phase::Listening });
        Ok(VoiceInput { commands, thread: Some(thread) })
    }

    /// The push-to-talk key went down.
    pub fn press(&self) {
        let _ = self.commands.send(Command::Press);
    }

    /// The push-to-talk key came up: the turn starts at once.
    pub fn release(&self) {
        let _ = self.commands.send(Command::Release);
    }

    /// Tells the microphone what the engine is doing (from its status events),
    /// so Sori does not take its own voice for the user's.
    pub fn engine_phase(&self, phase: Phase) {
        let _ = self.commands.send(Command::Phase(phase));
    }
}

fn run(
    listener: &mut Listener<NoiseGate<WebRtcVad>>,
    frames: mpsc::Receiver<CaptureEvent>,
    commands: mpsc::Receiver<Command>,
    engine: &EngineHandle,
    events: &UnboundedSender<Event>,
) {
    loop {
        let mut out = Vec::new();
        while let Ok(command) = commands.try_recv() {
            match command {
                Command::Press => out.extend(listener.press()),
                Command::Release => out.extend(listener.release()),
                Command::Phase(phase) => listener.set_assistant_speaking(phase == Phase::Speaking),
                Command::Stop => return,
            }
        }
        match frames.recv_timeout(Duration::from_millis(20)) {
            Ok(CaptureEvent::Frame { samples, .. }) => out.extend(listener.push(&samples)),
            Ok(CaptureEvent::Lost { message }) => drop(events.send(Event::warning("microphone_lost", message))),
            Ok(CaptureEvent::Resumed { device }) => drop(events.send(Event::device_warning("microphone_back", format!("Listening again on {device}."), Some(device)))),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        for event in out {
            let sent = match event {
                ListenerEvent::Level { dbfs, speech } => events.send(Event::Level { dbfs, speech }),
                ListenerEvent::SpeechStarted => events.send(Event::UserSpeechStarted),
                ListenerEvent::NoSpeech => events.send(Event::warning("no_speech", "No speech was heard. Hold the key while you speak.")),
                ListenerEvent::BargeIn => {
                    engine.cancel();
                    events.send(Event::UserSpeechStarted)
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
