//! `sori-cli` as the agent and the model manager: it answers about the chosen
//! customer's orders from the sample shop (and calls no tools with
//! `--no-tools`); `models install` refuses a disk that is too small before
//! downloading anything.

use serde_json::Value;
use sori_testkit::{fixtures, Endpoint, ModelMirror, ServerConfig, TestServer};
use std::path::PathBuf;

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sori-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn sori_cli_answers_about_the_chosen_customers_orders_from_the_sample_shop() {
    let server = TestServer::start_in_background(ServerConfig { api_key: None, ..ServerConfig::default() }).unwrap();
    let home = std::env::temp_dir().join(format!("sori-agent-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let ask = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sori-cli"))
            .args(["ask", "--base-url", &server.base_url(), "--json"])
            .args(args)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .output()
            .unwrap()
    };
    let out = ask(&["--customer", "C-001", "--text", "Can you lookup order status for me?"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert!(report["reply"].as_str().unwrap().contains("2026-12-08"), "{report}");
    // Asked of the model beside the reply (the testkit's unscripted structured answer is the schema's first type).
    assert_eq!(report["request_type"], "order_status", "{report}");
    // The sample shop was made in the data folder, and the customer's profile went to the agent.
    assert!(home.join("data/sori/shop.sqlite").is_file() && home.join("data/sori/faq/배송.md").is_file());
    // The reply's requests, not the request-type question asked beside them.
    let chats: Vec<Value> =
        server.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat && r.body.get("response_format").is_none()).map(|r| r.body).collect();
    let system = chats[0]["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("김민지 (customer id C-001), Gold member") && system.contains("A-1001 (2026-11-28, shipped, expected 2026-12-08)"),
        "{system}"
    );

    // Without tools the model is offered none.
    let out = ask(&["--no-tools", "--text", "Hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let last = server.requests().into_iter().rfind(|r| r.endpoint == Endpoint::Chat).unwrap().body;
    assert!(last.get("tools").is_none_or(|t| t.as_array().is_none_or(Vec::is_empty)), "{last}");
    let _ = std::fs::remove_dir_all(&home);
}

/// `sori-cli models install` into a 16 MB tmpfs (mounted in a user and mount
/// namespace of its own, so no root is needed) says the disk is too small
/// before downloading anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_too_small_is_refused_before_downloading() {
    let mirror = ModelMirror::start(fixtures::models_root()).await.unwrap();
    let dir = fresh_dir("tmpfs");
    std::fs::create_dir_all(&dir).unwrap();
    let script = r#"mount -t tmpfs -o size=16m sori-small "$1" && exec "$2" models install whisper-base"#;
    // Blocking here is fine: the other worker serves the mirror.
    let out = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script, "sh"])
        .arg(&dir)
        .arg(env!("CARGO_BIN_EXE_sori-cli"))
        .env("SORI_MODELS_DIR", &dir)
        .env("SORI_MODEL_MIRROR", mirror.url())
        .output()
        .expect("unshare (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "installed into 16 MB? {stderr}");
    assert!(stderr.contains("Not enough disk space") && stderr.contains("MB are free"), "{stderr}");
    assert_eq!(mirror.bytes_sent(), 0, "nothing was downloaded");
    std::fs::remove_dir_all(&dir).unwrap();
}
