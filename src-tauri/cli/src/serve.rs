//! `sori-cli serve`: its flags (each with an environment variable), the
//! token commands, and starting the server on a multi-threaded runtime.

use crate::commands::{fail, providers, settings};
use crate::ProviderArgs;
use clap::{Args, Subcommand};
use sori_cli::server::config::{FileConfig, Overrides, ServeOptions};
use sori_cli::server::tokens::TokenBook;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    #[command(subcommand)]
    action: Option<ServeAction>,
    /// The address to listen on (default 127.0.0.1: this computer only).
    #[arg(long, env = "SORI_SERVE_LISTEN")]
    listen: Option<IpAddr>,
    /// The port (default 8765; 0 picks a free one).
    #[arg(long, env = "SORI_SERVE_PORT")]
    port: Option<u16>,
    /// The server's TOML config file (default: server.toml in Sori's config folder, if there).
    #[arg(long, env = "SORI_SERVE_CONFIG")]
    config: Option<PathBuf>,
    /// Clients need no token. Only on a loopback address (for the tutorial's front end as it is).
    #[arg(long)]
    no_auth: bool,
    /// A web page origin allowed to call the server from the browser (repeat, or separate with commas).
    #[arg(long = "cors-origin", env = "SORI_SERVE_CORS_ORIGIN", value_delimiter = ',')]
    cors_origin: Vec<String>,
    /// Keep conversations in this Redis (redis://host:port/db), shared by replicas.
    #[arg(long, env = "SORI_REDIS_URL")]
    redis: Option<String>,
    /// Where tokens and conversations live (default: Sori's data folder, server/).
    #[arg(long, env = "SORI_SERVE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The largest upload, in MB (default 25).
    #[arg(long, env = "SORI_SERVE_MAX_UPLOAD_MB")]
    max_upload_mb: Option<u64>,
    /// The longest recording, in seconds (default 300).
    #[arg(long, env = "SORI_SERVE_MAX_AUDIO_SECONDS")]
    max_audio_seconds: Option<u64>,
    /// The longest a turn may run, in seconds (default 120).
    #[arg(long, env = "SORI_SERVE_TURN_TIMEOUT_SECONDS")]
    turn_timeout_seconds: Option<u64>,
    /// Requests per minute per token (default 60; 0: no limit).
    #[arg(long, env = "SORI_SERVE_RATE_LIMIT")]
    rate_limit: Option<u32>,
    #[command(flatten)]
    provider: ProviderArgs,
}

#[derive(Subcommand)]
enum ServeAction {
    /// Client tokens: kept hashed; a token is shown once, when made.
    Token {
        #[command(subcommand)]
        action: TokenAction,
        /// Where the server keeps its tokens (as `serve --data-dir`).
        #[arg(long, env = "SORI_SERVE_DATA_DIR", global = true)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Makes a token and prints it (only this once).
    Add { name: String },
    /// Lists the tokens: id, name, when made, whether revoked. Never the tokens.
    List,
    /// Revokes a token by its id or name; a running server refuses it at once.
    Revoke { which: String },
}

pub fn serve(args: ServeArgs) -> i32 {
    if let Some(ServeAction::Token { action, data_dir }) = args.action {
        return token(action, data_dir);
    }
    let file = match FileConfig::load(args.config.as_deref()) {
        Ok(f) => f,
        Err(e) => return fail(&e.to_string()),
    };
    let options = ServeOptions::resolve(
        Overrides {
            listen: args.listen,
            port: args.port,
            no_auth: args.no_auth,
            cors: args.cors_origin,
            redis: args.redis,
            data_dir: args.data_dir,
            max_upload_mb: args.max_upload_mb,
            max_audio_seconds: args.max_audio_seconds,
            turn_timeout_seconds: args.turn_timeout_seconds,
            rate_limit_per_minute: args.rate_limit,
        },
        file,
    );
    // Structured logs on stderr, one JSON object a line; SORI_LOG sets the level.
    let filter = tracing_subscriber::EnvFilter::try_from_env("SORI_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().json().with_writer(std::io::stderr).with_env_filter(filter).init();
    let settings = settings(&args.provider);
    let providers = match providers(&settings, args.provider.offline) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(sori_cli::server::serve(options, providers, settings)) {
        Ok(()) => 0,
        Err(e) => fail(&e.to_string()),
    }
}

fn token(action: TokenAction, data_dir: Option<PathBuf>) -> i32 {
    let book = TokenBook::at(&data_dir.unwrap_or_else(sori_cli::server::config::default_data_dir));
    let result = match action {
        TokenAction::Add { name } => book.add(&name).map(|(entry, secret)| {
            eprintln!("Token {} ({}) made. It is shown only now: keep it where the client keeps secrets.", entry.id, entry.name);
            println!("{secret}");
        }),
        TokenAction::List => book.list().map(|tokens| {
            for t in tokens {
                let state = if t.revoked_ms.is_some() { "revoked" } else { "active" };
                println!("{}\t{}\t{}\t{state}", t.id, t.name, t.created_ms);
            }
        }),
        TokenAction::Revoke { which } => book.revoke(&which).map(|revoked| {
            for t in revoked {
                println!("revoked {} ({})", t.id, t.name);
            }
        }),
    };
    match result {
        Ok(()) => 0,
        Err(e) => fail(&e.to_string()),
    }
}
