//! `sori-cli`: Sori without a window. Ask from a WAV file or typed text, speak
//! a text, list sound devices. Only argument parsing lives here; the commands
//! are in `commands.rs`, on top of `sori-core`.

mod commands;
mod google;
mod history;
mod models;
mod serve;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "sori-cli", version, about = "Sori (소리), the voice assistant, from the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Asks one question (spoken in a WAV file, or typed) and speaks the answer.
    Ask {
        /// The question as speech, a WAV file.
        #[arg(long, conflicts_with = "text", required_unless_present = "text")]
        audio: Option<PathBuf>,
        /// The question as text.
        #[arg(long)]
        text: Option<String>,
        /// Goes on with the latest conversation in history (the model hears
        /// its turns) and keeps this turn there.
        #[arg(long = "continue")]
        continue_conversation: bool,
        /// Speech to speech over the Realtime API (`realtime_model` and
        /// `realtime_voice` from the settings) instead of the chained stages.
        #[arg(long, conflicts_with = "offline")]
        realtime: bool,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        provider: ProviderArgs,
    },
    /// Speaks a text.
    Say {
        text: String,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        provider: ProviderArgs,
    },
    /// Lists the sound devices.
    Devices,
    /// The speech and chat models on this computer (in the OS data folder, or $SORI_MODELS_DIR).
    Models {
        #[command(subcommand)]
        action: ModelAction,
    },
    /// Answers voice questions over HTTP: the tutorial's `POST /voice-chat`
    /// (multipart `audio` in, `audio/mpeg` out, or streamed as events), a
    /// WebSocket at `/v1/voice`, and a demo page at `/`.
    Serve(serve::ServeArgs),
    /// Google Cloud speech: its key in the OS keychain, and its voices.
    Google {
        #[command(subcommand)]
        action: google::GoogleAction,
        #[command(flatten)]
        provider: ProviderArgs,
    },
    /// Manages the provider's API key in the OS keychain.
    Key {
        #[command(subcommand)]
        action: KeyAction,
        #[command(flatten)]
        provider: ProviderArgs,
    },
}

#[derive(Subcommand)]
pub enum KeyAction {
    /// Reads a key from standard input (never from the command line) and keeps it.
    Set {
        /// Keep it in memory for this command only, when there is no keychain.
        #[arg(long)]
        session_only: bool,
    },
    /// Says whether a key is set, where it comes from, and its last 4 characters.
    Status,
    /// Forgets the key.
    Clear,
    /// Tries the key with a cheap call to the provider.
    Check,
}

#[derive(Subcommand)]
pub enum ModelAction {
    /// Lists the models Sori offers, their sizes and licences, and which are installed.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Downloads and installs a model (resumes an unfinished download; Ctrl+C keeps what is downloaded).
    Install { id: String },
    /// Installs a model from a folder that already holds its files (checked against the catalogue).
    Import { id: String, path: PathBuf },
    /// Copies any GGUF chat model file into Sori's models and prints the id to choose it by.
    ImportGguf { file: PathBuf },
    /// Removes an installed model.
    Remove { id: String },
}

#[derive(Args, Clone)]
pub struct OutputArgs {
    /// Writes the spoken reply to this WAV file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Plays the reply on the default sound output.
    #[arg(long)]
    pub play: bool,
    /// Prints the turn's metrics as one JSON object on the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// Overrides of the settings file. The key comes from OPENAI_API_KEY.
#[derive(Args, Clone, Default)]
pub struct ProviderArgs {
    /// The provider's base URL (else OPENAI_BASE_URL, else the settings file).
    #[arg(long)]
    pub base_url: Option<String>,
    /// The settings file to read (default: Sori's own).
    #[arg(long)]
    pub settings: Option<PathBuf>,
    #[arg(long)]
    pub stt_model: Option<String>,
    #[arg(long)]
    pub chat_model: Option<String>,
    #[arg(long)]
    pub tts_model: Option<String>,
    #[arg(long)]
    pub voice: Option<String>,
    /// Style instructions for the voice.
    #[arg(long)]
    pub style: Option<String>,
    #[arg(long)]
    pub speed: Option<f32>,
    /// auto, ko, en, …
    #[arg(long)]
    pub language: Option<String>,
    /// Nothing leaves this computer: all three stages run here (chat may
    /// instead be a server on this machine: Ollama, llama.cpp, LM Studio,
    /// with --chat http://127.0.0.1:PORT/v1).
    #[arg(long)]
    pub offline: bool,
    /// Where speech-to-text runs: `local`, `google` (Google Cloud), or a server's base URL.
    #[arg(long, value_name = "local|google|URL")]
    pub stt: Option<String>,
    /// Where chat runs: `local`, or a server's base URL.
    #[arg(long, value_name = "local|URL")]
    pub chat: Option<String>,
    /// Where speech runs: `local`, `google` (Google Cloud), or a server's base URL.
    #[arg(long, value_name = "local|google|URL")]
    pub tts: Option<String>,
    /// Google Cloud's address for both speech APIs (default: Google's own hosts).
    #[arg(long, value_name = "URL")]
    pub google_endpoint: Option<String>,
    /// The Google voice (`ko-KR-Standard-A`, …; `sori-cli google voices` lists them).
    #[arg(long, value_name = "NAME")]
    pub google_voice: Option<String>,
    /// Languages Google recognition chooses from, the main one first (`ko-KR,en-US`).
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub google_languages: Option<Vec<String>>,
    /// Google's recognition model (`latest_short`, `latest_long`, `default`, …).
    #[arg(long, value_name = "MODEL")]
    pub google_stt_model: Option<String>,
    /// Google voice pitch in semitones, -20 to 20.
    #[arg(long, allow_negative_numbers = true)]
    pub pitch: Option<f32>,
    /// Names and product words speech-to-text should expect, comma separated.
    #[arg(long)]
    pub vocabulary: Option<String>,
    /// The installed speech-to-text model local speech-to-text uses.
    #[arg(long, value_name = "ID")]
    pub local_stt_model: Option<String>,
    /// The installed chat model local chat uses (`auto` picks one).
    #[arg(long, value_name = "ID")]
    pub local_chat_model: Option<String>,
    /// The customer the agent is speaking with (their id in the shop, e.g.
    /// C-001 in the sample shop): their profile and orders go to the agent.
    #[arg(long, value_name = "ID")]
    pub customer: Option<String>,
    /// The agent calls no tools (no order lookups, help pages or tickets).
    #[arg(long)]
    pub no_tools: bool,
    /// The local voice (`auto`, `ko`, `en-us`, …).
    #[arg(long)]
    pub local_voice: Option<String>,
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Ask { audio, text, continue_conversation, realtime, out, provider } => {
            commands::ask(audio, text, continue_conversation, realtime, out, provider)
        }
        Command::Say { text, out, provider } => commands::say(text, out, provider),
        Command::Devices => commands::devices(),
        Command::Models { action } => models::models(action),
        Command::Key { action, provider } => commands::key(action, provider),
        Command::Google { action, provider } => google::google(action, provider),
        Command::Serve(args) => serve::serve(args),
    };
    std::process::exit(code);
}
