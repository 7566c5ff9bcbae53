//! The running conversation behind the window: the engine, the speaker, the
//! microphone, and the pump that carries their events to the web view over a
//! `tauri::ipc::Channel` (ordered, per window, no global event bus). The
//! microphone follows the engine's phase by itself; nothing flows back from
//! the window but commands. Settings changes are applied here without losing
//! the conversation. Starting and applying open devices: call them off the
//! main thread.

use sori_core::audio::echo::Cleanup;
use sori_core::audio::listener::Mode;
use sori_core::audio::output::{AudioOutput, DeviceOutput, OutputEvent, SilentOutput};
use sori_core::audio::segmenter::SegmenterConfig;
use sori_core::conversation::Conversation;
use sori_core::engine::{self, EngineHandle};
use sori_core::event::{Event, WarningCode};
use sori_core::history::History;
use sori_core::provider::Providers;
use sori_core::realtime::link::LinkSetup;
use sori_core::settings::{InputMode, Settings};
use sori_core::voice::{VoiceInput, VoiceSettings};
use std::sync::{Arc, Mutex};
use tauri::ipc::Channel;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// Where events go: the window's channel, replaced when the page reloads.
type Sink = Arc<Mutex<Option<Channel<Event>>>>;

/// The microphone settings a running microphone was started with.
type MicKey = (Option<String>, InputMode, bool, u8, SegmenterConfig, Cleanup, bool);

pub struct Session {
    pub engine: EngineHandle,
    device_output: Option<Arc<DeviceOutput>>,
    voice: Mutex<Option<(MicKey, Arc<VoiceInput>)>>,
    events: UnboundedSender<Event>,
    sink: Sink,
    /// The Realtime link's setup as running (its fingerprint), if any.
    realtime: Mutex<Option<String>>,
}

fn mic_key(s: &Settings) -> MicKey {
    // Whether the output is worn is asked of the system each time the
    // settings are applied: a headset plugged in since counts.
    let cleanup = s.cleanup(sori_core::audio::devices::output_is_worn(s.output_device.as_deref()));
    let server_turns = sori_core::app::realtime::server_turns(s);
    (s.input_device.clone(), s.input_mode, s.voice_barge_in, s.vad_aggressiveness, s.segmenter(), cleanup, server_turns)
}

fn output_warning(e: OutputEvent) -> Event {
    match e {
        OutputEvent::Lost { message, fallback: Some(to) } => {
            Event::device_warning(WarningCode::SpeakerLost, format!("{message} Playing on {to} instead."), Some(to))
        }
        OutputEvent::Lost { message, fallback: None } => Event::device_warning(WarningCode::SpeakerLost, message, None),
        OutputEvent::Resumed { device } => Event::device_warning(WarningCode::SpeakerBack, format!("Playing on {device}."), Some(device)),
    }
}

impl Session {
    /// Starts the engine, the speaker and (when there is one) the microphone.
    /// Blocking (it opens devices), on a thread of the async runtime.
    pub fn start(
        settings: &Settings,
        providers: Providers,
        realtime: Option<LinkSetup>,
        history: Option<History>,
        channel: Channel<Event>,
    ) -> Arc<Session> {
        let (events, mut own_events) = unbounded_channel::<Event>();
        let notify_tx = events.clone();
        let notify = Box::new(move |e: OutputEvent| drop(notify_tx.send(output_warning(e))));
        let (output, device_output): (Arc<dyn AudioOutput>, _) = match DeviceOutput::open(settings.output_device.clone(), Some(notify)) {
            Ok(o) => {
                let o = Arc::new(o);
                (o.clone(), Some(o))
            }
            Err(e) => {
                let _ = events.send(Event::warning(WarningCode::NoSpeaker, format!("{e}. Replies are shown but not spoken.")));
                (Arc::new(SilentOutput::default()), None)
            }
        };
        let history = history.filter(|_| settings.history_enabled);
        // The persona, and what is known of the chosen customer.
        let conversation = Conversation::with_persona(&sori_core::app::agent::instructions(settings));
        let (engine, mut engine_events) = engine::spawn(conversation, providers, settings.turn_settings(), output, history);
        let sink: Sink = Arc::new(Mutex::new(Some(channel)));
        let session = Arc::new(Session { engine, device_output, voice: Mutex::default(), events, sink: sink.clone(), realtime: Mutex::default() });
        session.apply_realtime(realtime);
        tauri::async_runtime::spawn(async move {
            loop {
                let event = tokio::select! {
                    e = engine_events.recv() => match e {
                        Some(e) => e,
                        None => break,
                    },
                    Some(e) = own_events.recv() => e,
                };
                if let Some(channel) = sink.lock().unwrap().as_ref() {
                    let _ = channel.send(event);
                }
            }
        });
        session.apply_microphone(settings);
        session
    }

    /// Shows a warning in the window, if there is one.
    pub fn notify(&self, warnings: impl IntoIterator<Item = Event>) {
        for w in warnings {
            let _ = self.events.send(w);
        }
    }

    /// A reloaded page takes over the events.
    pub fn attach(&self, channel: Channel<Event>) {
        *self.sink.lock().unwrap() = Some(channel);
    }

    pub fn has_microphone(&self) -> bool {
        self.voice.lock().unwrap().is_some()
    }

    pub fn has_speaker(&self) -> bool {
        self.device_output.is_some()
    }

    /// (Re)starts the microphone when its settings changed; a missing
    /// microphone is a warning, and typing still works.
    fn apply_microphone(&self, settings: &Settings) {
        let key = mic_key(settings);
        let mut voice = self.voice.lock().unwrap();
        if voice.as_ref().is_some_and(|(running, _)| *running == key) {
            return;
        }
        // The old capture stops before the new one opens the same device.
        drop(voice.take());
        let voice_settings = VoiceSettings {
            device: settings.input_device.clone(),
            mode: if settings.input_mode == InputMode::HandsFree { Mode::HandsFree } else { Mode::PushToTalk },
            voice_barge_in: settings.voice_barge_in,
            vad_aggressiveness: settings.vad_aggressiveness,
            segmenter: key.4,
            cleanup: key.5,
            echo_reference: self.device_output.as_ref().map(|o| o.echo_reference()),
            server_turns: key.6,
        };
        match VoiceInput::start(voice_settings, self.engine.clone(), self.events.clone()) {
            Ok(v) => *voice = Some((key, Arc::new(v))),
            Err(e) => drop(self.events.send(Event::warning(WarningCode::NoMicrophone, e.to_string()))),
        }
    }

    /// Switches the pipeline when Realtime mode (or its setup) changed; the
    /// conversation carries over.
    fn apply_realtime(&self, setup: Option<LinkSetup>) {
        let fingerprint = setup.as_ref().map(LinkSetup::fingerprint);
        let mut running = self.realtime.lock().unwrap();
        if *running != fingerprint {
            *running = fingerprint;
            self.engine.set_realtime(setup);
        }
    }

    /// Applies saved settings (or a new key) from the next turn on.
    pub fn apply(&self, settings: &Settings, providers: Providers, realtime: Option<LinkSetup>) {
        self.engine.set_providers(providers);
        self.apply_realtime(realtime);
        self.engine.set_settings(settings.turn_settings());
        self.engine.set_persona(&sori_core::app::agent::instructions(settings));
        if let Some(o) = &self.device_output {
            o.choose(settings.output_device.clone());
        }
        self.apply_microphone(settings);
    }

    fn microphone(&self) -> Option<Arc<VoiceInput>> {
        self.voice.lock().unwrap().as_ref().map(|(_, v)| v.clone())
    }

    /// Push-to-talk went down: stop Sori talking and start listening.
    pub fn press(&self) -> bool {
        match self.microphone() {
            Some(v) => {
                self.engine.cancel();
                v.press();
                true
            }
            None => false,
        }
    }

    pub fn release(&self) {
        if let Some(v) = self.microphone() {
            v.release();
        }
    }
}
