//! The commands of `sori-cli`, each returning the process exit code:
//! 0 done, 1 the turn reported errors, 2 it could not start.

use crate::{KeyAction, OutputArgs, ProviderArgs};
use serde_json::json;
use sori_core::audio::output::{AudioOutput, DeviceOutput, MemoryOutput, TeeOutput};
use sori_core::conversation::Conversation;
use sori_core::event::{Event, Stage};
use sori_core::provider::openai::OpenAi;
use sori_core::secrets::{check_key, ApiKey, KeyCheck, Keys};
use sori_core::settings::{Settings, SettingsFile};
use sori_core::turn::{run_turn, Emitter, Providers, TurnInput, TurnOutcome};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

/// Settings file, then environment, then flags.
fn settings(args: &ProviderArgs) -> Settings {
    let file = args.settings.clone().map(SettingsFile::at).or_else(SettingsFile::default_location);
    let loaded = file.map(|f| f.load());
    let mut s = loaded.as_ref().map(|l| l.settings.clone()).unwrap_or_default();
    for w in loaded.map(|l| l.warnings).unwrap_or_default() {
        eprintln!("warning: {w}");
    }
    if let Ok(url) = std::env::var("OPENAI_BASE_URL") {
        s.base_url = url;
    }
    let set = |target: &mut String, value: &Option<String>| {
        if let Some(v) = value {
            *target = v.clone();
        }
    };
    set(&mut s.base_url, &args.base_url);
    set(&mut s.stt_model, &args.stt_model);
    set(&mut s.chat_model, &args.chat_model);
    set(&mut s.tts_model, &args.tts_model);
    set(&mut s.voice, &args.voice);
    set(&mut s.style, &args.style);
    set(&mut s.language, &args.language);
    if let Some(speed) = args.speed {
        s.speed = speed;
    }
    s
}

/// A client with the provider's key: from the keychain, else OPENAI_API_KEY.
fn client(s: &Settings) -> Result<OpenAi, String> {
    let key = Keys::open().resolve(&s.base_url).map_err(|e| e.to_string())?.map(|(k, _)| k);
    OpenAi::new(&s.base_url, key).map_err(|e| e.to_string())
}

pub fn key(action: KeyAction, provider: ProviderArgs) -> i32 {
    let settings = settings(&provider);
    let keys = Keys::open();
    let show = |status: sori_core::secrets::KeyStatus| {
        println!("{}", serde_json::to_string(&status).expect("status serializes"));
        0
    };
    match action {
        KeyAction::Status => show(keys.status(&settings.base_url)),
        KeyAction::Clear => match keys.clear(&settings.base_url) {
            Ok(s) => show(s),
            Err(e) => fail(&e.to_string()),
        },
        KeyAction::Set { session_only } => {
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).is_err() {
                return fail("could not read the key from standard input");
            }
            let Some(key) = ApiKey::new(line) else { return fail("no key was given on standard input") };
            if let Err(e) = OpenAi::new(&settings.base_url, Some(key.clone())) {
                return fail(&e.to_string());
            }
            match keys.set(&settings.base_url, key, session_only) {
                Ok(s) => show(s),
                Err(e) => fail(&format!("{e} (use --session-only to keep it for this command only)")),
            }
        }
        KeyAction::Check => {
            let key = match keys.resolve(&settings.base_url) {
                Ok(k) => k.map(|(k, _)| k),
                Err(e) => return fail(&e.to_string()),
            };
            let result = runtime().block_on(check_key(&settings.base_url, key));
            println!("{}", serde_json::to_string(&result).expect("check serializes"));
            i32::from(!matches!(result, KeyCheck::Works { .. }))
        }
    }
}

/// The output the flags ask for, and the memory copy to write `--out` from.
fn output(args: &OutputArgs) -> Result<(Arc<dyn AudioOutput>, Arc<MemoryOutput>), String> {
    let memory = Arc::new(MemoryOutput::default());
    if !args.play {
        return Ok((memory.clone(), memory));
    }
    let device: Arc<dyn AudioOutput> = Arc::new(DeviceOutput::open_default().map_err(|e| e.to_string())?);
    Ok((Arc::new(TeeOutput { main: device, copy: memory.clone() }), memory))
}

/// Reads a WAV file as mono 16-bit samples at its own rate.
fn read_wav(path: &PathBuf) -> Result<(Vec<i16>, u32), String> {
    let mut reader = hound::WavReader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = reader.spec();
    let channels = spec.channels.max(1) as usize;
    let interleaved: Vec<i16> = match spec.sample_format {
        hound::SampleFormat::Int if spec.bits_per_sample == 16 => reader.samples::<i16>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let shift = spec.bits_per_sample.saturating_sub(16);
            reader.samples::<i32>().map(|s| s.map(|v| (v >> shift) as i16)).collect::<Result<_, _>>()
        }
        hound::SampleFormat::Float => reader.samples::<f32>().map(|s| s.map(|v| (v.clamp(-1.0, 1.0) * 32767.0) as i16)).collect::<Result<_, _>>(),
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let mono = interleaved.chunks(channels).map(|f| (f.iter().map(|&s| s as i32).sum::<i32>() / channels as i32) as i16).collect();
    Ok((mono, spec.sample_rate))
}

fn write_wav(path: &PathBuf, memory: &MemoryOutput) -> Result<(), String> {
    let audio = memory.take_audio();
    let spec = hound::WavSpec { channels: 1, sample_rate: audio.sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).map_err(|e| format!("{}: {e}", path.display()))?;
    for s in audio.samples {
        w.write_sample(s).map_err(|e| e.to_string())?;
    }
    w.finalize().map_err(|e| e.to_string())
}

/// Peak resident memory of this process in MB (Linux), for the metrics line.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Shows events as they come: progress on stdout, or on stderr with `--json`
/// so that stdout holds only the JSON line. Returns whether an error was shown.
async fn show(mut events: mpsc::UnboundedReceiver<Event>, json: bool) -> bool {
    let mut errors = false;
    let mut out: Box<dyn Write + Send> = if json { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) };
    let mut replying = false;
    while let Some(event) = events.recv().await {
        match event {
            Event::UserTranscript { text, .. } => drop(writeln!(out, "you:  {text}")),
            Event::AssistantDelta { text, .. } => {
                if !replying {
                    replying = true;
                    let _ = write!(out, "sori: ");
                }
                let _ = write!(out, "{text}");
                let _ = out.flush();
            }
            Event::Retrying { stage, wait_ms, message, .. } => eprintln!("\n{}: {message} Retrying in {:.1} s.", stage_name(stage), wait_ms as f64 / 1000.0),
            Event::Error { stage, message, .. } => {
                errors = true;
                eprintln!("\nerror ({}): {message}", stage_name(stage));
            }
            Event::TurnEnded { interrupted, incomplete, .. } => {
                let note = if interrupted { " [interrupted]" } else if incomplete { " [incomplete]" } else { "" };
                let _ = writeln!(out, "{note}");
            }
            _ => {}
        }
    }
    errors
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Transcription => "speech-to-text",
        Stage::Chat => "chat",
        Stage::Speech => "text-to-speech",
        Stage::Playback => "playback",
    }
}

fn metrics_json(outcome: &TurnOutcome) -> serde_json::Value {
    let m = &outcome.metrics;
    json!({
        "user_text": outcome.user_text, "reply": outcome.reply, "heard": outcome.heard,
        "interrupted": outcome.interrupted, "incomplete": outcome.incomplete,
        "transcript_ms": m.transcript_ms, "llm_first_token_ms": m.llm_first_token_ms, "first_chunk_ms": m.first_chunk_ms,
        "tts_first_byte_ms": m.tts_first_byte_ms, "ttfa_ms": m.ttfa_ms, "total_ms": m.total_ms,
        "bytes_up": m.bytes_up, "bytes_down": m.bytes_down, "peak_rss_mb": peak_rss_mb(),
    })
}

pub fn ask(audio: Option<PathBuf>, text: Option<String>, out: OutputArgs, provider: ProviderArgs) -> i32 {
    let settings = settings(&provider);
    let input = match (audio, text) {
        (Some(path), _) => match read_wav(&path) {
            Ok((samples, sample_rate)) => TurnInput::Audio { samples, sample_rate },
            Err(e) => return fail(&e),
        },
        (None, Some(text)) => TurnInput::Text(text),
        (None, None) => return fail("give --audio or --text"),
    };
    let client = match client(&settings) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let (output, memory) = match output(&out) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let bytes = Some(client.bytes.clone());
    let client = Arc::new(client);
    let providers = Providers { stt: client.clone(), chat: client.clone(), tts: client, bytes };
    let conversation = Conversation::with_persona(&settings.persona);
    let turn_settings = settings.turn_settings();
    runtime().block_on(async move {
        let (tx, rx) = mpsc::unbounded_channel();
        let shower = tokio::spawn(show(rx, out.json));
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.cancel();
            }
        });
        let outcome = run_turn(input, &conversation, &providers, &turn_settings, output, Emitter { turn: 1, tx }, cancel).await;
        report(outcome, shower, &out, &memory).await
    })
}

pub fn say(text: String, out: OutputArgs, provider: ProviderArgs) -> i32 {
    let settings = settings(&provider);
    let client = match client(&settings) {
        Ok(c) => Arc::new(c),
        Err(e) => return fail(&e),
    };
    let (output, memory) = match output(&out) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    // Speaking is a turn whose reply is given: the same chunking, voice and metrics.
    let providers = Providers { stt: client.clone(), chat: Arc::new(Given(text)), tts: client.clone(), bytes: Some(client.bytes.clone()) };
    let turn_settings = settings.turn_settings();
    runtime().block_on(async move {
        let (tx, rx) = mpsc::unbounded_channel();
        let shower = tokio::spawn(show(rx, true));
        let mut outcome = run_turn(TurnInput::Text(".".into()), &Conversation::default(), &providers, &turn_settings, output, Emitter { turn: 1, tx }, CancellationToken::new()).await;
        outcome.user_text = None;
        report(outcome, shower, &out, &memory).await
    })
}

/// Ends a command: waits for the event display, writes `--out`, prints the
/// `--json` line, and gives the exit code.
async fn report(outcome: TurnOutcome, shower: tokio::task::JoinHandle<bool>, out: &OutputArgs, memory: &MemoryOutput) -> i32 {
    let errors = shower.await.unwrap_or(true);
    if let Some(path) = &out.out {
        if let Err(e) = write_wav(path, memory) {
            return fail(&e);
        }
    }
    if out.json {
        println!("{}", metrics_json(&outcome));
    }
    i32::from(errors)
}

/// A chat model that answers with a given text: how `say` reuses the turn.
struct Given(String);

#[async_trait::async_trait]
impl sori_core::provider::ChatModel for Given {
    async fn stream_chat(&self, _: sori_core::provider::ChatRequest<'_>) -> Result<sori_core::provider::ProviderStream<sori_core::provider::ChatEvent>, sori_core::provider::ProviderError> {
        use sori_core::provider::ChatEvent;
        let events = vec![Ok(ChatEvent::Text(self.0.clone())), Ok(ChatEvent::Done { finish_reason: None })];
        Ok(Box::pin(futures_util::stream::iter(events)))
    }
}

pub fn devices() -> i32 {
    match sori_core::audio::list_devices() {
        Ok(list) => {
            println!("host: {}", list.host);
            for (title, devices) in [("inputs", &list.inputs), ("outputs", &list.outputs)] {
                println!("{title}:");
                for d in devices.iter() {
                    println!("  {}{}", d.name, if d.is_default { "  (default)" } else { "" });
                }
            }
            0
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> i32 {
    eprintln!("sori-cli: {message}");
    2
}
