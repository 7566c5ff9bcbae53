//! The commands of `sori-cli`, each a few calls into `sori-core`, returning
//! the process exit code: 0 done, 1 the turn reported errors, 2 it could not
//! start.

use crate::{KeyAction, OutputArgs, ProviderArgs};
use serde::Serialize;
use sori_core::app::{self, KeyCheck, ProviderPlan};
use sori_core::audio::output::{AudioOutput, DeviceOutput, MemoryOutput, TeeOutput};
use sori_core::audio::wav::{read_wav, write_wav};
use sori_core::conversation::Conversation;
use sori_core::event::{Event, LinkState, Stage, TurnMetrics};
use sori_core::provider::Providers;
use sori_core::realtime::link::{Context, Link};
use sori_core::secrets::{ApiKey, Keys};
use sori_core::settings::{Settings, StageProvider};
use sori_core::turn::speaker::speak_text;
use sori_core::turn::{run_turn, Emitter, TurnInput, TurnOutcome};
use std::io::Write;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

/// Settings file, then environment, then flags.
pub fn settings(args: &ProviderArgs) -> Settings {
    let (mut s, warnings) = app::load_settings(args.settings.as_deref());
    for w in warnings {
        eprintln!("warning: {w}");
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
    set(&mut s.local_stt_model, &args.local_stt_model);
    set(&mut s.local_voice, &args.local_voice);
    set(&mut s.local_chat_model, &args.local_chat_model);
    if let Some(customer) = &args.customer {
        s.customer = Some(customer.clone());
    }
    if args.no_tools {
        s.agent_tools = false;
    }
    if let Some(speed) = args.speed {
        s.speed = speed;
    }
    set(&mut s.google_voice, &args.google_voice);
    set(&mut s.google_stt_model, &args.google_stt_model);
    set(&mut s.vocabulary, &args.vocabulary);
    if let Some(endpoint) = &args.google_endpoint {
        s.google_endpoint = Some(endpoint.clone());
    }
    if let Some(languages) = &args.google_languages {
        s.google_languages = languages.clone();
    }
    if let Some(pitch) = args.pitch {
        s.google_pitch = pitch;
    }
    if args.offline {
        s.stt_provider = StageProvider::Local;
        s.chat_provider = StageProvider::Local;
        s.tts_provider = StageProvider::Local;
    }
    let stage = |provider: &mut StageProvider, url: &mut Option<String>, value: &Option<String>| match value.as_deref() {
        Some("local") => *provider = StageProvider::Local,
        Some("google") => *provider = StageProvider::Google,
        Some(u) => {
            *provider = StageProvider::Server;
            *url = Some(u.to_string());
        }
        None => {}
    };
    stage(&mut s.stt_provider, &mut s.stt_base_url, &args.stt);
    stage(&mut s.chat_provider, &mut s.chat_base_url, &args.chat);
    stage(&mut s.tts_provider, &mut s.tts_base_url, &args.tts);
    s
}

pub fn providers(settings: &Settings, offline: bool) -> Result<Providers, String> {
    let plan = ProviderPlan::from_settings(settings);
    if offline && !plan.stays_on_this_computer() {
        return Err(format!(
            "--offline keeps everything on this computer, but chat is set to {}: leave out --chat (the chat model on this computer answers) or pass a server on this machine, --chat http://127.0.0.1:PORT/v1",
            settings.server_for(Stage::Chat)
        ));
    }
    let built = app::providers_for(settings, &Keys::open()).map_err(|e| e.to_string())?;
    if let Some(problem) = built.key_problem {
        eprintln!("warning: {problem} Going on without the key from the keychain.");
    }
    if let Some(problem) = built.tool_problem {
        eprintln!("warning: {problem}");
    }
    Ok(built.providers)
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
            if let Err(e) = sori_core::provider::openai::OpenAi::new(&settings.base_url, Some(key.clone())) {
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
            let result = runtime().block_on(app::check_key(&settings.base_url, key));
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
            Event::Retrying { stage, wait_ms, message, .. } => {
                eprintln!("\n{}: {message} Retrying in {:.1} s.", stage_name(stage), wait_ms as f64 / 1000.0)
            }
            Event::Error { stage, message, .. } => {
                errors = true;
                eprintln!("\nerror ({}): {message}", stage_name(stage));
            }
            Event::ToolStarted { name, arguments, .. } => drop(writeln!(out, "\n      [{name} {arguments}]")),
            Event::ToolFinished { name, error: Some(error), .. } => drop(writeln!(out, "      [{name} failed: {error}]")),
            Event::ConfirmationAsked { name, .. } => {
                let _ = writeln!(out, "      [{name} waits for your yes or no: answer with `sori-cli ask --continue --text \"네\"` (or \"no\")]");
            }
            Event::ConfirmationSettled { approved, .. } => {
                let what = match approved {
                    Some(true) => "confirmed",
                    Some(false) => "cancelled",
                    None => "dropped: the answer was neither yes nor no",
                };
                let _ = writeln!(out, "      [{what}]");
            }
            Event::Realtime { state: LinkState::Reconnecting, attempt, message, .. } => {
                eprintln!("\nrealtime: reconnecting (attempt {}): {}", attempt.unwrap_or(0), message.unwrap_or_default())
            }
            Event::Realtime { state: LinkState::Failed, message, .. } => eprintln!("\nrealtime: {}", message.unwrap_or_default()),
            Event::RequestClassified { request_type, .. } => drop(write!(out, "      [request: {}]", request_type.name())),
            Event::TurnEnded { interrupted, reason, .. } => {
                let note = match (interrupted, reason) {
                    (true, _) => " [interrupted]".to_string(),
                    (false, Some(reason)) => format!(" [incomplete: {}]", serde_json::to_string(&reason).unwrap_or_default().trim_matches('"')),
                    _ => String::new(),
                };
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

/// The `--json` line: the turn's texts, its metrics and the peak memory.
#[derive(Serialize)]
struct Report<'a> {
    user_text: Option<&'a str>,
    reply: &'a str,
    heard: &'a str,
    interrupted: bool,
    incomplete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_type: Option<sori_core::request_type::RequestType>,
    #[serde(flatten)]
    metrics: TurnMetrics,
    peak_rss_mb: Option<f64>,
}

pub fn ask(audio: Option<std::path::PathBuf>, text: Option<String>, continued: bool, realtime: bool, out: OutputArgs, provider: ProviderArgs) -> i32 {
    let mut settings = settings(&provider);
    if realtime {
        settings.conversation_mode = sori_core::settings::ConversationMode::Realtime;
    }
    let input = match (audio, text) {
        (Some(path), _) => match read_wav(&path) {
            Ok(pcm) => TurnInput::Audio { samples: pcm.samples, sample_rate: pcm.sample_rate },
            Err(e) => return fail(&e.to_string()),
        },
        (None, Some(text)) => TurnInput::Text(text),
        (None, None) => return fail("give --audio or --text"),
    };
    let providers = match providers(&settings, provider.offline) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let (output, memory) = match output(&out) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let mut conversation = Conversation::with_persona(&app::agent::instructions(&settings));
    let mut kept = None;
    if continued {
        match crate::history::continue_latest(&settings, &mut conversation) {
            Ok(c) => kept = Some(c),
            Err(e) => return fail(&e),
        }
    }
    let link = match app::realtime::link_setup(&settings, &Keys::open()) {
        Ok(link) => link,
        Err(e) => return fail(&e.to_string()),
    };
    let turn_settings = settings.turn_settings();
    runtime().block_on(async move {
        let (tx, rx) = mpsc::unbounded_channel();
        let shower = tokio::spawn(show(rx, out.json));
        let cancel = stop_on_ctrl_c();
        let outcome = match link {
            Some(mut setup) => {
                setup.tools = providers.tools.clone();
                let context = Context { instructions: conversation.persona.clone(), turns: conversation.turns().to_vec() };
                let link = Arc::new(Link::start(setup, context, tx.clone()));
                sori_core::realtime::turn::run_turn(input.into(), link, &providers, &turn_settings, output, Emitter::new(1, tx), cancel).await
            }
            None => run_turn(input, &conversation, &providers, &turn_settings, output, Emitter::new(1, tx), cancel).await,
        };
        if let Some(Err(e)) = kept.as_mut().map(|k| k.keep(&outcome)) {
            eprintln!("warning: {e}");
        }
        report(&outcome, shower, &out, &memory).await
    })
}

/// Speaks `text` directly in the configured voice: no turn, no model.
pub fn say(text: String, out: OutputArgs, provider: ProviderArgs) -> i32 {
    let settings = settings(&provider);
    let providers = match providers(&settings, provider.offline) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let (output, memory) = match output(&out) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let turn_settings = settings.turn_settings();
    runtime().block_on(async move {
        let (tx, rx) = mpsc::unbounded_channel();
        let shower = tokio::spawn(show(rx, true));
        let start = tokio::time::Instant::now();
        let emit = Emitter::new(1, tx.clone());
        let spoken = speak_text(&text, providers.tts.clone(), output, &turn_settings, emit.clone(), stop_on_ctrl_c()).await;
        if let Some(e) = &spoken.error {
            emit.error(Stage::Speech, e);
        }
        let ms = |t: Option<tokio::time::Instant>| t.map(|t| (t - start).as_secs_f64() * 1000.0);
        let (up, down) = providers.transfer.totals();
        let metrics = TurnMetrics {
            tts_first_byte_ms: ms(spoken.first_byte),
            ttfa_ms: ms(spoken.first_audio),
            total_ms: start.elapsed().as_secs_f64() * 1000.0,
            bytes_up: up,
            bytes_down: down,
            ..TurnMetrics::default()
        };
        let outcome = TurnOutcome {
            user_text: None,
            heard: text.clone(),
            heard_chars: text.chars().count(),
            reply: text,
            interrupted: false,
            incomplete: spoken.error.is_some(),
            reason: None,
            metrics,
            tool_messages: Vec::new(),
            answer_from: 0,
            request_type: None,
        };
        drop((emit, tx));
        report(&outcome, shower, &out, &memory).await
    })
}

/// A token that fires on Ctrl+C, so a reply can be stopped like in the window.
fn stop_on_ctrl_c() -> CancellationToken {
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    cancel
}

/// Ends a command: waits for the event display, writes `--out`, prints the
/// `--json` line, and gives the exit code.
async fn report(outcome: &TurnOutcome, shower: tokio::task::JoinHandle<bool>, out: &OutputArgs, memory: &MemoryOutput) -> i32 {
    let errors = shower.await.unwrap_or(true);
    if let Some(path) = &out.out {
        if let Err(e) = write_wav(path, &memory.take_audio()) {
            return fail(&e.to_string());
        }
    }
    if out.json {
        let report = Report {
            user_text: outcome.user_text.as_deref(),
            reply: &outcome.reply,
            heard: &outcome.heard,
            interrupted: outcome.interrupted,
            incomplete: outcome.incomplete,
            request_type: outcome.request_type,
            metrics: outcome.metrics,
            peak_rss_mb: peak_rss_mb(),
        };
        println!("{}", serde_json::to_string(&report).expect("the report serializes"));
    }
    i32::from(errors)
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

pub fn fail(message: &str) -> i32 {
    eprintln!("sori-cli: {message}");
    2
}
