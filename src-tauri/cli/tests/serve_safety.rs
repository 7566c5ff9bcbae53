//! `sori-cli serve` is safe by default: no token, a wrong one or a revoked
//! one is a 401; too many requests a 429 with Retry-After; CORS only for the
//! origin named; `--no-auth` refused off loopback; the logs, the files and
//! the responses never hold a token or the provider's key; SIGTERM lets the
//! turn in flight finish and refuses new ones.

mod common;

use common::served::{fresh_dir, Served};
use serde_json::Value;
use sori_core::audio::recording::decode_recording;
use sori_testkit::latency::LatencyModel;
use sori_testkit::{ServerConfig, TestServer};
use std::time::Duration;

const KEY: &str = "sori-serve-redaction-key-7c1d04aa";

fn text_question(text: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().text("text", text.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_rate_limits_and_cors_guard_the_server_and_no_secret_is_ever_written() {
    let kit = TestServer::start_in_background(ServerConfig { api_key: Some(KEY.into()), ..Default::default() }).unwrap();
    let dir = fresh_dir("safety");
    std::fs::write(dir.join("server.toml"), "rate_limit_per_minute = 6\nrate_limit_burst = 3\n").unwrap();
    let config = dir.join("server.toml");
    let mut served =
        Served::start_with_key(&dir, &kit.base_url(), &["--config", config.to_str().unwrap(), "--cors-origin", "https://shop.example"], KEY);
    let url = format!("{}/voice-chat", served.url);
    let client = reqwest::Client::new();
    let front_desk = served.add_token("front-desk");
    let kiosk = served.add_token("kiosk");
    assert!(front_desk.starts_with("sori_") && front_desk != kiosk);

    // No token, a wrong one: 401, saying what to do.
    let none = client.post(&url).multipart(text_question("hello")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert!(none.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("sori-cli serve token add"));
    let wrong = client.post(&url).bearer_auth(format!("{front_desk}x")).multipart(text_question("hello")).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    // The right one works.
    let ok = client.post(&url).bearer_auth(&front_desk).multipart(text_question("When will my order arrive?")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(decode_recording(&ok.bytes().await.unwrap(), None, None, Duration::from_secs(60)).is_ok());

    // A burst of 3, then 429 with the wait; another token has its own budget.
    for i in 0..3 {
        let r = client.post(&url).bearer_auth(&kiosk).multipart(text_question("hi")).send().await.unwrap();
        assert_eq!(r.status(), 200, "request {i} of the burst");
        let _ = r.bytes().await;
    }
    let limited = client.post(&url).bearer_auth(&kiosk).multipart(text_question("hi")).send().await.unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((5..=10).contains(&wait), "6 a minute: one every 10 s, said as {wait} s");
    assert_eq!(limited.json::<Value>().await.unwrap()["error"]["code"], "rate_limited");
    let other = client.post(&url).bearer_auth(&front_desk).multipart(text_question("hi")).send().await.unwrap();
    assert_eq!(other.status(), 200, "the other token is not limited");
    let _ = other.bytes().await;

    // Revoked by another process while the server runs: refused at once.
    let revoked = served.token_command(&["revoke", "front-desk"]);
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    let after = client.post(&url).bearer_auth(&front_desk).multipart(text_question("hi")).send().await.unwrap();
    assert_eq!(after.status(), 401);
    let list = String::from_utf8(served.token_command(&["list"]).stdout).unwrap();
    assert!(list.contains("front-desk") && list.contains("revoked") && list.contains("kiosk\t") && list.contains("active"), "{list}");

    // CORS for the origin named, not for another.
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let shop = preflight("https://shop.example").await.unwrap();
    assert_eq!(shop.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()), Some("https://shop.example"));
    let evil = preflight("https://evil.example").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    let metrics = client.get(format!("{}/metrics", served.url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("sori_errors_total{code=\"unauthorized\"} 3"), "{metrics}");
    assert!(metrics.contains("sori_errors_total{code=\"rate_limited\"} 1"), "{metrics}");
    assert!(metrics.contains("sori_turns_total{form=\"mp3\"} 5"), "{metrics}");

    assert!(served.stop().success());
    // The key reached the provider, and nothing secret was written anywhere.
    assert!(kit.requests().iter().any(|r| r.authorization.as_deref() == Some(&format!("Bearer {KEY}"))));
    let files = sori_testkit::leaks::files_under(&dir);
    assert!(files.iter().any(|(p, _)| p.contains("/conversations/")) && files.iter().any(|(p, _)| p.ends_with("tokens.json")));
    let logs = served.logs();
    for (path, text) in files.iter().chain([("token list".to_string(), list.clone()), ("the logs".to_string(), logs.clone())].iter()) {
        for secret in [KEY, front_desk.as_str(), kiosk.as_str()] {
            sori_testkit::leaks::assert_absent(path, text, secret);
        }
    }
    assert!(logs.contains("\"status\":401") && logs.contains("\"status\":429"), "the refusals are logged: {logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_is_refused_off_loopback() {
    let dir = fresh_dir("open");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sori-cli"))
        .args(["serve", "--no-auth", "--listen", "0.0.0.0", "--port", "0", "--base-url", "http://127.0.0.1:9/v1", "--data-dir"])
        .arg(dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-auth lets anyone"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_turn_in_flight_finish_and_takes_no_new_one() {
    let kit = TestServer::start_in_background(ServerConfig { latency: LatencyModel::typical(), ..Default::default() }).unwrap();
    let dir = fresh_dir("shutdown");
    let mut served = Served::start(&dir, &kit.base_url(), &["--no-auth"]);
    let client = reqwest::Client::new();
    let url = format!("{}/voice-chat", served.url);
    let asking = tokio::spawn(client.post(&url).multipart(text_question("When will my order arrive?")).send());
    // Stop once the turn is under way (its chat request reached the provider).
    for _ in 0..200 {
        if kit.requests().iter().any(|r| r.endpoint == sori_testkit::Endpoint::Chat) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stopping = tokio::task::spawn_blocking(move || {
        let status = served.stop();
        (status, served)
    });
    let reply = asking.await.unwrap().unwrap();
    assert_eq!(reply.status(), 200);
    let mp3 = reply.bytes().await.unwrap();
    let speech = decode_recording(&mp3, None, None, Duration::from_secs(60)).expect("the whole reply, after SIGTERM");
    assert!(speech.samples.len() as f64 / f64::from(speech.sample_rate) > 2.0);
    let (status, served) = stopping.await.unwrap();
    assert!(status.success(), "{status:?}");
    assert!(client.post(&url).multipart(text_question("hi")).send().await.is_err(), "no new turn after SIGTERM");
    assert!(served.logs().contains("shutting down"));
}
