//! `sori-cli google`: the Google Cloud key in the OS keychain (an API key, or
//! a service account's JSON key file whose text, never its path, is kept)
//! and the voices Google offers.

use crate::commands::{fail, settings};
use crate::ProviderArgs;
use clap::Subcommand;
use sori_core::app::{google, KeyCheck};
use sori_core::secrets::{ApiKey, Keys};
use std::io::Read;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum GoogleAction {
    /// Keeps a Google key: a service-account key file (`--file`), or an API
    /// key or key file's text read from standard input (never the command line).
    SetKey {
        /// The service account's JSON key file; its text is kept, the file may then be deleted.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Keep it in memory for this command only, when there is no keychain.
        #[arg(long)]
        session_only: bool,
    },
    /// Says whether a Google key is set: an API key by its last 4 characters,
    /// a service account by its e-mail address.
    KeyStatus,
    /// Forgets the Google key.
    ClearKey,
    /// Tries the Google key by listing the voices.
    CheckKey,
    /// Lists Google's voices (for a language such as ko-KR) as JSON lines.
    Voices {
        #[arg(long)]
        language: Option<String>,
    },
}

fn show<T: serde::Serialize>(value: &T) -> i32 {
    println!("{}", serde_json::to_string(value).expect("JSON serializes"));
    0
}

pub fn google(action: GoogleAction, provider: ProviderArgs) -> i32 {
    let settings = settings(&provider);
    let keys = Keys::open();
    let runtime = || tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    match action {
        GoogleAction::KeyStatus => show(&google::status(&keys)),
        GoogleAction::ClearKey => match google::clear(&keys) {
            Ok(s) => show(&s),
            Err(e) => fail(&e.to_string()),
        },
        GoogleAction::SetKey { file, session_only } => {
            let text = match &file {
                Some(path) => std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display())),
                None => {
                    let mut text = String::new();
                    std::io::stdin().read_to_string(&mut text).map(|_| text).map_err(|e| format!("could not read standard input: {e}"))
                }
            };
            let text = match text {
                Ok(t) => t,
                Err(e) => return fail(&e),
            };
            let Some(key) = ApiKey::new(text) else { return fail("no key was given") };
            match google::set(&keys, key, session_only) {
                Ok(s) => show(&s),
                Err(google::GoogleKeyError::Keychain(e)) => fail(&format!("{e} (use --session-only to keep it for this command only)")),
                Err(e) => fail(&e.to_string()),
            }
        }
        GoogleAction::CheckKey => {
            let result = runtime().block_on(google::check(&settings, &keys));
            show(&result);
            i32::from(!matches!(result, KeyCheck::Works { .. }))
        }
        GoogleAction::Voices { language } => match runtime().block_on(google::voices(&settings, &keys, language.as_deref())) {
            Ok(voices) => {
                voices.iter().for_each(|v| {
                    show(v);
                });
                0
            }
            Err(e) => fail(&e.message),
        },
    }
}
