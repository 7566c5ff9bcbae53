//! The running conversation behind the window: the engine, the speaker, the
//! microphone and the pump that carries their events to the web view over a
//! `tauri::ipc::Channel` (ordered, per window, no global event bus). Settings
//! changes are applied here without losing the conversation.

use crate::state::AppState;
use sori_core::audio::listener::Mode;
use sori_core::audio::output::{AudioOutput, DeviceOutput, OutputEvent, SilentOutput};
use sori_core::audio::segmenter::SegmenterConfig;
use sori_core::conversation::Conversation;
use sori_core::engine::{self, EngineHandle};
use sori_core::event::{Event, Phase};
use sori_core::provider::openai::OpenAi;
use sori_core::settings::{InputMode, Settings};
use sori_core::turn::Providers;
use sori_core::voice::{VoiceInput, VoiceSettings};
use std::sync::{Arc, Mutex};
use tauri::ipc::Channel;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// Where events go: the window's channel, replaced when the page reloads.
type Sink = Arc<Mutex<Option<Channel<Event>>>>;

pub struct Session {
    pub engine: EngineHandle,
    pub output: Arc<dyn AudioOutput>,
    device_output: Option<Arc<DeviceOutput>>,
    voice: Arc<Mutex<Option<Arc<VoiceInput>>>>,
    /// The microphone settings the running `voice` was started with.
    voice_settings: Mutex<Option<(Option<String>, InputMode, bool, u8, u32)>>,
    events: UnboundedSender<Event>,
    sink: Sink,
}

/// The provider client for these settings; without a key it still works
/// with servers that need none (Ollama, llama.cpp).
pub fn client(state: &AppState, settings: &Settings) -> Result<OpenAi, String> {
    let key = state.keys.resolve(&settings.base_url).ok().flatten().map(|(k, _)| k);
    OpenAi::new(&settings.base_url, key).map_err(|e| e.to_string())
}

/// The providers of a turn, all served by the one client.
pub fn providers(state: &AppState, settings: &Settings) -> Result<Providers, String> {
    let client = Arc::new(client(state, settings)?);
    Ok(Providers { stt: client.clone(), chat: client.clone(), tts: client.clone(), bytes: Some(client.bytes.clone()) })
}

fn mic_key(s: &Settings) -> (Option<String>, InputMode, bool, u8, u32) {
    (s.input_device.clone(), s.input_mode, s.voice_barge_in, s.vad_aggressiveness, s.end_silence_ms)
}

fn output_warning(e: OutputEvent) -> Event {
    match e {
        OutputEvent::Lost { message, fallback: Some(to) } => Event::device_warning("speaker_lost", format!("{message} Playing on {to} instead."), Some(to)),
        OutputEvent::Lost { message, fallback: None } => Event::device_warning("speaker_lost", message, None),
        OutputEvent::Resumed { device } => Event::device_warning("speaker_back", format!("Playing on {device}."), Some(device)),
    }
}

impl Session {
    /// Starts the engine, the speaker and (when there is one) the microphone.
    /// Must run on the async runtime.
    pub fn start(state: &AppState, channel: Channel<Event>) -> Result<Arc<Session>, String> {
        let settings = state.settings.lock().unwrap().clone();
        let (events, mut own_events) = unbounded_channel::<Event>();
        let notify_tx = events.clone();
        let notify = Box::new(move |e: OutputEvent| drop(notify_tx.send(output_warning(e))));
        let (output, device_output): (Arc<dyn AudioOutput>, _) = match DeviceOutput::open(settings.output_device.clone(), Some(notify)) {
            Ok(o) => {
                let o = Arc::new(o);
                (o.clone(), Some(o))
            }
            Err(e) => {
                let _ = events.send(Event::warning("no_speaker", format!("{e}. Replies are shown but not spoken.")));
                (Arc::new(SilentOutput::default()), None)
            }
        };
        let turn_settings = settings.turn_settings();
        let history = settings.history_enabled.then(|| state.history.clone()).flatten();
        let (engine, mut engine_events) = engine::spawn(Conversation::with_persona(&settings.persona), providers(state, &settings)?, turn_settings, output.clone(), history);
        let sink: Sink = Arc::new(Mutex::new(Some(channel)));
        let session = Arc::new(Session {
            engine,
            output,
            device_output,
            voice: Arc::default(),
            voice_settings: Mutex::new(None),
            events,
            sink: sink.clone(),
        });
        let voice = session.voice.clone();
        tauri::async_runtime::spawn(async move {
            loop {
                let event = tokio::select! {
                    e = engine_events.recv() => match e {
                        Some(e) => e,
                        None => break,
                    },
                    Some(e) = own_events.recv() => e,
                };
                if let Event::Status { phase } = &event {
                    if let Some(v) = voice.lock().unwrap().as_ref() {
                        v.engine_phase(*phase);
                    }
                }
                if let Some(channel) = sink.lock().unwrap().as_ref() {
                    let _ = channel.send(event);
                }
            }
        });
        session.apply_microphone(&settings);
        Ok(session)
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
        let mut current = self.voice_settings.lock().unwrap();
        if current.as_ref() == Some(&key) && self.has_microphone() {
            return;
        }
        // The old capture stops before the new one opens the same device.
        drop(self.voice.lock().unwrap().take());
        let voice_settings = VoiceSettings {
            device: settings.input_device.clone(),
            mode: if settings.input_mode == InputMode::HandsFree { Mode::HandsFree } else { Mode::PushToTalk },
            voice_barge_in: settings.voice_barge_in,
            vad_aggressiveness: settings.vad_aggressiveness,
            segmenter: SegmenterConfig { end_silence_ms: settings.end_silence_ms, ..SegmenterConfig::default() },
        };
        match VoiceInput::start(voice_settings, self.engine.clone(), self.events.clone()) {
            Ok(v) => *self.voice.lock().unwrap() = Some(Arc::new(v)),
            Err(e) => {
                let _ = self.events.send(Event::warning("no_microphone", e.to_string()));
                let _ = self.events.send(Event::Status { phase: Phase::Idle });
            }
        }
        *current = Some(key);
    }

    /// Applies saved settings (or a new key) from the next turn on.
    pub fn apply(&self, state: &AppState) -> Result<(), String> {
        let settings = state.settings.lock().unwrap().clone();
        self.engine.set_providers(providers(state, &settings)?);
        self.engine.set_settings(settings.turn_settings());
        self.engine.set_persona(&settings.persona);
        if let Some(o) = &self.device_output {
            o.choose(settings.output_device.clone());
        }
        self.apply_microphone(&settings);
        Ok(())
    }

    /// Push-to-talk went down: stop Sori talking and start listening.
    pub fn press(&self) -> bool {
        let voice = self.voice.lock().unwrap().clone();
        match voice {
            Some(v) => {
                self.engine.cancel();
                v.press();
                true
            }
            None => false,
        }
    }

    pub fn release(&self) {
        if let Some(v) = self.voice.lock().unwrap().as_ref() {
            v.release();
        }
    }
}
