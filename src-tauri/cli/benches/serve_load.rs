//! The server under load: `C` conversations at once, each asking `R`
//! spoken questions one after another through the tutorial's `POST
//! /voice-chat` (a WAV upload, MP3 back), against the testkit under its
//! typical latency model. Reported: time from sending the request to the
//! first byte of MP3, as a ratio to the latency model's bound for that turn
//! (speech-to-text of the upload, the tokens of the first chunk spoken, the
//! speech's first byte), p50 and p90; errors; and the server's resident
//! memory after the first tenth of the requests and at the end.
//!
//! `cargo bench -p sori-cli --bench serve_load` runs 50 conversations of 20
//! questions (1000 requests); under `cargo test` a short form (10 × 2).
//! `-- --conversations C --requests R` changes the shape.

use sori_core::text::clauses::split_all;
use sori_core::text::SplitterConfig;
use sori_testkit::audio::test_audio::{espeak_wav, read_wav};
use sori_testkit::script::{default_reply, default_transcript, tokens_through};
use sori_testkit::{LatencyModel, ServerConfig, TestServer, TEST_API_KEY};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok()).unwrap_or(default)
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Resident memory of a process, in MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()).unwrap_or(0.0)
        / 1024.0
}

/// One question: the time to the first MP3 byte, or why it failed.
async fn ask(client: &reqwest::Client, url: &str, wav: &[u8], conversation: Option<&str>) -> Result<(Duration, String), String> {
    let mut form = reqwest::multipart::Form::new()
        .part("audio", reqwest::multipart::Part::bytes(wav.to_vec()).file_name("question.wav").mime_str("audio/wav").unwrap());
    if let Some(id) = conversation {
        form = form.text("conversation_id", id.to_string());
    }
    let start = Instant::now();
    let mut reply = client.post(url).multipart(form).send().await.map_err(|e| e.to_string())?;
    if !reply.status().is_success() {
        return Err(format!("{}: {}", reply.status(), reply.text().await.unwrap_or_default()));
    }
    let id = reply.headers()["x-conversation-id"].to_str().unwrap().to_string();
    let first = reply.chunk().await.map_err(|e| e.to_string())?.ok_or("an empty reply")?;
    let ttfb = start.elapsed();
    assert!(!first.is_empty());
    while reply.chunk().await.map_err(|e| e.to_string())?.is_some() {}
    Ok((ttfb, id))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let conversations = arg("--conversations", if full { 50 } else { 10 });
    let requests = arg("--requests", if full { 20 } else { 2 });
    let latency = LatencyModel::typical();
    let kit = TestServer::start_in_background(ServerConfig { latency, ..Default::default() }).expect("start the testkit");
    let dir = std::env::temp_dir().join(format!("sori-serve-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut server = Command::new(env!("CARGO_BIN_EXE_sori-cli"))
        .args(["serve", "--no-auth", "--port", "0", "--no-tools", "--rate-limit", "0", "--base-url", &kit.base_url(), "--data-dir"])
        .arg(dir.join("data"))
        .env("OPENAI_API_KEY", TEST_API_KEY)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .env("SORI_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("sori-cli serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = format!("{}/voice-chat", line.trim().rsplit(' ').next().unwrap());
    let pid = server.id();

    let wav = espeak_wav("When will my order arrive? I ordered it last week.", "en", 0.2, 0.2).unwrap();
    let (samples, rate) = read_wav(&wav).unwrap();
    let seconds = samples.len() as f64 / f64::from(rate);
    let reply = default_reply(default_transcript(None));
    let first_chunk = split_all(&reply, SplitterConfig::default()).remove(0);
    let bound = latency.ttfa_lower_bound(seconds, tokens_through(&reply, &first_chunk)).as_secs_f64() * 1000.0;
    println!(
        "Sori server load benchmark ({}): {conversations} conversations at once, {requests} spoken questions each ({} requests), POST /voice-chat, WAV in, MP3 out",
        if full { "full" } else { "short form" },
        conversations * requests
    );
    println!("latency model: typical; bound for each turn {bound:.0} ms (speech-to-text of {seconds:.1} s, first chunk, speech's first byte)");

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (ttfb, errors, rss_early, rss_end) = runtime.block_on(async {
        let client = reqwest::Client::builder().pool_max_idle_per_host(conversations).build().unwrap();
        let (wav, url) = (Arc::new(wav), Arc::new(url));
        // A warm-up, so the first request's setup is not counted.
        ask(&client, &url, &wav, None).await.expect("the warm-up answers");
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let rss_early = Arc::new(std::sync::Mutex::new(None));
        let tasks: Vec<_> = (0..conversations)
            .map(|_| {
                let (client, wav, url, done, rss_early) = (client.clone(), wav.clone(), url.clone(), done.clone(), rss_early.clone());
                let total = conversations * requests;
                tokio::spawn(async move {
                    let (mut times, mut errors, mut id) = (Vec::new(), Vec::new(), None::<String>);
                    for _ in 0..requests {
                        match ask(&client, &url, &wav, id.as_deref()).await {
                            Ok((t, conversation)) => {
                                times.push(t.as_secs_f64() * 1000.0);
                                id = Some(conversation);
                            }
                            Err(e) => errors.push(e),
                        }
                        if done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == total / 10 {
                            *rss_early.lock().unwrap() = Some(rss_mb(pid));
                        }
                    }
                    (times, errors)
                })
            })
            .collect();
        let (mut ttfb, mut errors) = (Vec::new(), Vec::new());
        for t in tasks {
            let (times, errs) = t.await.unwrap();
            ttfb.extend(times);
            errors.extend(errs);
        }
        let early = rss_early.lock().unwrap().unwrap_or(0.0);
        (ttfb, errors, early, rss_mb(pid))
    });
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);

    let ratios: Vec<f64> = ttfb.iter().map(|t| t / bound).collect();
    println!(
        "time to first MP3 byte: p50 {:.0} ms ({:.2}x the bound), p90 {:.0} ms ({:.2}x), max {:.0} ms",
        percentile(&ttfb, 0.5),
        percentile(&ratios, 0.5),
        percentile(&ttfb, 0.9),
        percentile(&ratios, 0.9),
        percentile(&ttfb, 1.0)
    );
    println!("errors: {} of {}", errors.len(), conversations * requests);
    for e in errors.iter().take(5) {
        println!("  {e}");
    }
    println!("server memory: {rss_early:.1} MB after a tenth of the requests, {rss_end:.1} MB after all of them");
    assert!(errors.is_empty(), "every request was answered");
    assert!(rss_end - rss_early < 50.0, "memory stays flat: {rss_early:.1} MB, then {rss_end:.1} MB");
}
