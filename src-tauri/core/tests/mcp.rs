//! MCP tool servers against a real one nobody here wrote:
//! `@modelcontextprotocol/server-everything` from npm (installed by
//! `.ci/setup` into tests/ui/node_modules), started over stdio and over
//! streamable HTTP. Its tools are listed, switched off, called by the agent
//! through the testkit's scripted calls, and cancelled; its environment gets
//! the secrets Sori keeps in the keychain; failures say what to fix.

mod common;

use serde_json::Value;
use sori_core::audio::output::MemoryOutput;
use sori_core::conversation::Conversation;
use sori_core::provider::ToolCall;
use sori_core::tools::mcp::hub::Secrets;
use sori_core::tools::mcp::{McpHub, McpServerConfig, ServerStatus};
use sori_core::tools::Tools;
use sori_core::turn::{run_turn, Emitter, TurnInput};
use sori_testkit::{Endpoint, ServerConfig, TestServer};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn everything() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(path.is_file(), "{} is missing: run `npm install --prefix tests/ui` (bash .ci/setup does)", path.display());
    path
}

fn stdio_server(disabled_tools: &[&str]) -> McpServerConfig {
    McpServerConfig {
        command: Some("node".into()),
        args: vec![everything().display().to_string(), "stdio".into()],
        secrets: vec!["SORI_MCP_TEST_TOKEN".into()],
        disabled_tools: disabled_tools.iter().map(|s| s.to_string()).collect(),
        ..McpServerConfig::default()
    }
}

fn secrets(server: &str, value: &str) -> Secrets {
    HashMap::from([(server.to_string(), HashMap::from([("SORI_MCP_TEST_TOKEN".to_string(), value.to_string())]))])
}

async fn ready(hub: &McpHub, name: &str) -> Vec<sori_core::tools::mcp::ToolInfo> {
    hub.settled(Duration::from_secs(60)).await;
    match hub.status().remove(name) {
        Some(ServerStatus::Ready { tools }) => tools,
        other => panic!("{name} is not ready: {other:?}"),
    }
}

async fn call(tools: &Tools, name: &str, arguments: &str) -> sori_core::tools::ToolRun {
    let call = ToolCall { id: "call_1".into(), name: name.into(), arguments: arguments.into() };
    tools.run(&call, &CancellationToken::new()).await
}

#[tokio::test]
async fn the_agent_calls_a_real_mcp_server_over_stdio_with_its_secret_in_the_environment() {
    let config = BTreeMap::from([("everything".to_string(), stdio_server(&["get-tiny-image"]))]);
    let hub = McpHub::start(&config, &secrets("everything", "s3cret-from-keychain"));
    let listed = ready(&hub, "everything").await;
    let names: Vec<&str> = listed.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"echo") && names.contains(&"get-sum") && names.contains(&"get-env"), "{names:?}");
    let image = listed.iter().find(|t| t.name == "get-tiny-image").unwrap();
    assert!(!image.enabled && listed.iter().find(|t| t.name == "echo").unwrap().read_only);

    let tools = Tools::default().with_source(hub.clone());
    let offered: Vec<String> = tools.specs().into_iter().map(|s| s.name).collect();
    assert!(offered.contains(&"everything__echo".to_string()) && !offered.contains(&"everything__get-tiny-image".to_string()), "{offered:?}");
    assert!(!tools.needs_confirmation("everything__echo"), "it says it only reads");
    let env = call(&tools, "everything__get-env", "{}").await;
    assert!(env.result.contains("s3cret-from-keychain"), "the secret reached the server's environment: {}", &env.result[..200.min(env.result.len())]);

    // A spoken-style turn: the model calls the server's tool, and answers from its result.
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    server.add_tool_reply("메아리", "", &[("everything__echo", r#"{"message":"안녕 MCP"}"#)]);
    let providers = common::providers(&server).with_tools(tools);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let input = TurnInput::Text("메아리 도구를 써 주세요".into());
    let outcome = run_turn(
        input,
        &Conversation::default(),
        &providers,
        &common::settings(),
        Arc::new(MemoryOutput::default()),
        Emitter::new(1, tx),
        CancellationToken::new(),
    )
    .await;
    assert!(outcome.reply.contains("Echo: 안녕 MCP"), "{}", outcome.reply);
    let first = server.requests().into_iter().find(|r| r.endpoint == Endpoint::Chat).unwrap().body;
    let echo = first["tools"].as_array().unwrap().iter().find(|t| t["function"]["name"] == "everything__echo").unwrap().clone();
    assert_eq!(echo["function"]["parameters"]["properties"]["message"]["type"], "string", "{echo}");
}

#[tokio::test]
async fn a_slow_mcp_tool_is_cancelled_and_its_errors_are_results() {
    let config = BTreeMap::from([("everything".to_string(), stdio_server(&[]))]);
    let hub = McpHub::start(&config, &secrets("everything", "x"));
    ready(&hub, "everything").await;
    let tools = Tools::default().with_source(hub.clone());
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.cancel();
    });
    let long =
        ToolCall { id: "c".into(), name: "everything__trigger-long-running-operation".into(), arguments: r#"{"duration":30,"steps":3}"#.into() };
    let started = std::time::Instant::now();
    let run = tools.run(&long, &cancel).await;
    assert!(run.error.is_some() && started.elapsed() < Duration::from_secs(5), "stopped, not waited for: {run:?}");
    // Arguments the server's schema refuses come back as words the model can read.
    let wrong = call(&tools, "everything__get-sum", r#"{"a":"two"}"#).await;
    assert!(wrong.error.is_some(), "{wrong:?}");
    let sum = call(&tools, "everything__get-sum", r#"{"a":2,"b":3}"#).await;
    assert!(sum.error.is_none() && sum.result.contains('5'), "{sum:?}");
}

#[tokio::test]
async fn the_same_server_over_streamable_http() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = tokio::process::Command::new("node")
        .args([everything().display().to_string(), "streamableHttp".into()])
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let remote = McpServerConfig { url: Some(format!("http://127.0.0.1:{port}/mcp")), ..McpServerConfig::default() };
    let hub = McpHub::start(&BTreeMap::from([("remote".to_string(), remote)]), &Secrets::new());
    ready(&hub, "remote").await;
    let tools = Tools::default().with_source(hub.clone());
    let sum = call(&tools, "remote__get-sum", r#"{"a":20,"b":22}"#).await;
    assert!(sum.result.contains("42"), "{sum:?}");
    drop(hub);
    let _ = child.kill().await;
}

#[tokio::test]
async fn a_server_that_cannot_start_says_why_and_the_rest_still_work() {
    let broken = McpServerConfig { command: Some("/nonexistent/mcp-server".into()), ..McpServerConfig::default() };
    let no_secret = stdio_server(&[]);
    let off = McpServerConfig { disabled: true, ..stdio_server(&[]) };
    let config = BTreeMap::from([("broken".to_string(), broken), ("locked".to_string(), no_secret), ("off".to_string(), off)]);
    let hub = McpHub::start(&config, &Secrets::new());
    hub.settled(Duration::from_secs(30)).await;
    let status = hub.status();
    assert!(matches!(&status["broken"], ServerStatus::Failed { error } if error.contains("could not be started")), "{status:?}");
    assert!(
        matches!(&status["locked"], ServerStatus::Failed { error } if error.contains("SORI_MCP_TEST_TOKEN is not in the keychain")),
        "{status:?}"
    );
    assert_eq!(status["off"], ServerStatus::Off);
    let tools = Tools::default().with_source(hub.clone());
    assert!(tools.specs().is_empty());
    let json: Value = serde_json::to_value(&status["broken"]).unwrap();
    assert_eq!(json["state"], "failed");
}
