//! `sori-testkit serve`: the local OpenAI-compatible server as a program, for
//! manual runs, UI tests and benchmarks. Prints its base URL on the first line.

use sori_testkit::{LatencyModel, ServerConfig, TestServer, TEST_API_KEY};
use std::net::SocketAddr;

const USAGE: &str = "usage: sori-testkit serve [--port N] [--api-key KEY | --no-auth] [--latency instant|typical]
       sori-testkit mirror --root DIR [--port N]

Serves /v1/models, /v1/chat/completions, /v1/audio/speech and
/v1/audio/transcriptions on 127.0.0.1, plus /__testkit/{faults,latency,
transcripts,replies,tool-replies,tool-answers,requests} to steer it. The default key is sori-test-key-0123.
Also a fake Google Speech-to-Text and Text-to-Speech: /v1/speech:recognize, /v1/text:synthesize,
/v1/voices and the OAuth /token (API key sori-google-test-key-4567, or the service account at
/__testkit/google/service-account; /__testkit/google steers it).
`mirror` serves a folder of models as a model host does (<id>/<file>, Range).";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("mirror") {
        return match parse_mirror(&args[1..]) {
            Ok((root, addr)) => mirror(root, addr),
            Err(message) => {
                eprintln!("{message}\n\n{USAGE}");
                std::process::exit(2);
            }
        };
    }
    match parse(&args) {
        Ok((addr, config)) => serve(addr, config),
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            std::process::exit(2);
        }
    }
}

fn parse(args: &[String]) -> Result<(SocketAddr, ServerConfig), String> {
    let mut it = args.iter();
    if it.next().map(String::as_str) != Some("serve") {
        return Err("expected the `serve` command".into());
    }
    let mut port = 0u16;
    let mut config = ServerConfig { api_key: Some(TEST_API_KEY.into()), ..Default::default() };
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => port = value()?.parse().map_err(|_| "--port takes a number".to_string())?,
            "--api-key" => config.api_key = Some(value()?),
            "--no-auth" => config.api_key = None,
            "--latency" => {
                config.latency = match value()?.as_str() {
                    "instant" => LatencyModel::instant(),
                    "typical" => LatencyModel::typical(),
                    other => return Err(format!("unknown latency model {other}")),
                }
            }
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((SocketAddr::from(([127, 0, 0, 1], port)), config))
}

/// Runs `start` on a two-worker runtime, prints the URL it gives, and serves
/// until Ctrl+C; a failed start exits with its error.
fn run_until_ctrl_c<S, F>(addr: SocketAddr, start: F)
where
    F: std::future::Future<Output = std::io::Result<(S, String)>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let (_running, url) = match start.await {
            Ok(started) => started,
            Err(e) => {
                eprintln!("sori-testkit: cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        };
        println!("{url}");
        let _ = tokio::signal::ctrl_c().await;
    });
}

fn serve(addr: SocketAddr, config: ServerConfig) {
    run_until_ctrl_c(addr, async move {
        let server = TestServer::bind(config, addr).await?;
        let url = server.base_url();
        Ok((server, url))
    });
}

fn parse_mirror(args: &[String]) -> Result<(std::path::PathBuf, SocketAddr), String> {
    let (mut root, mut port) = (None, 0u16);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--root" => root = Some(std::path::PathBuf::from(value()?)),
            "--port" => port = value()?.parse().map_err(|_| "--port takes a number".to_string())?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((root.ok_or("--root is required")?, SocketAddr::from(([127, 0, 0, 1], port))))
}

fn mirror(root: std::path::PathBuf, addr: SocketAddr) {
    run_until_ctrl_c(addr, async move {
        let mirror = sori_testkit::ModelMirror::bind(root, addr).await?;
        let url = mirror.url();
        Ok((mirror, url))
    });
}
