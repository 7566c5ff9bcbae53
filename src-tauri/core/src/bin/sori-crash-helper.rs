//! A helper for Sori's crash tests (`tests/crash.rs`), not a user tool: it does
//! durable work in a loop and says what it has finished on stdout, so a test
//! can `kill -9` it at any moment and check that nothing finished was lost.
//!
//!   sori-crash-helper settings <file>               saves settings over and over
//!   sori-crash-helper history <folder>              appends turns over and over
//!   sori-crash-helper turns <folder> <base-url>     real turns through the engine

use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::history::{now_ms, History, TurnRecord};
use sori_core::provider::openai::OpenAi;
use sori_core::secrets::ApiKey;
use sori_core::settings::{Settings, SettingsFile};
use sori_core::turn::TurnInput;
use std::io::Write;
use std::sync::Arc;

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["settings", path] => {
            let file = SettingsFile::at(*path);
            for i in 0u64.. {
                // A large unknown field makes each write take a while.
                let mut s = Settings { persona: format!("{i} saved"), ..Default::default() };
                s.extra.insert("padding".into(), "가".repeat(100_000).into());
                file.save(&s).expect("save");
                say(format!("saved {i}"));
            }
        }
        ["history", dir] => {
            let mut log = History::at(*dir).start().expect("start");
            say(format!("id {}", log.id));
            for turn in 1u64.. {
                let record = TurnRecord {
                    turn,
                    at_ms: now_ms(),
                    user: format!("question {turn}"),
                    assistant: "답".repeat(5_000),
                    interrupted: false,
                    incomplete: false,
                    reason: None,
                    metrics: Default::default(),
                    request_type: None,
                };
                log.append(&record).expect("append");
                say(format!("kept {turn}"));
            }
        }
        ["turns", dir, base_url] => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let providers = OpenAi::new(base_url, ApiKey::new(sori_testkit_key())).unwrap().providers();
                let settings = Settings::default().turn_settings();
                let (engine, _events) = sori_core::engine::spawn(
                    Conversation::default(),
                    providers,
                    settings,
                    Arc::new(MemoryOutput::default()),
                    Some(History::at(*dir)),
                );
                for i in 1..=2 {
                    engine.ask_and_wait(TurnInput::Text(format!("question {i}"))).await.expect("turn");
                    say(format!("done {i}"));
                }
                say("third".into());
                engine.ask_and_wait(TurnInput::Text("question 3".into())).await;
                say("done 3".into());
            });
        }
        _ => {
            eprintln!("usage: sori-crash-helper settings <file> | history <folder> | turns <folder> <base-url>");
            std::process::exit(2);
        }
    }
}

/// The testkit's default key, spelled here so the helper needs no testkit.
fn sori_testkit_key() -> &'static str {
    "sori-test-key-0123"
}
