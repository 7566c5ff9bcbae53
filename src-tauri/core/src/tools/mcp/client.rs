//! One MCP server, through `rmcp` (the official Rust SDK): started over
//! stdio (a child process with its secrets in its environment) or reached
//! over streamable HTTP (its secrets as headers), and each of its tools as
//! a [`Tool`] the agent can call. A tool's error result, a dropped server
//! and a cancel all come back as words the model can pass on.

use super::config::McpServerConfig;
use crate::provider::ToolSpec;
use crate::tools::{Tool, ToolError};
use async_trait::async_trait;
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{Peer, RoleClient, ServiceExt};
use serde_json::Value;
use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub type Client = RunningService<RoleClient, ClientConfig>;

/// A server gets this long to start and answer (`npx` may download first).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

fn info() -> ClientConfig {
    ClientConfig::new(ClientCapabilities::default(), Implementation::new("sori", env!("CARGO_PKG_VERSION")))
}

/// Starts or reaches the server and does MCP's handshake.
pub async fn connect(name: &str, config: &McpServerConfig, secrets: &HashMap<String, String>) -> Result<Client, String> {
    let started = async {
        if let Some(command) = &config.command {
            let mut cmd = tokio::process::Command::new(command);
            cmd.args(&config.args).envs(secrets);
            let (transport, _) = TokioChildProcess::builder(cmd)
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("{name}: {command} could not be started ({e}). Is it installed and on the PATH?"))?;
            info().serve(transport).await.map_err(|e| format!("{name}: the server did not answer MCP's handshake ({e})."))
        } else if let Some(url) = &config.url {
            let mut headers = HashMap::new();
            for (key, value) in secrets {
                let header = reqwest::header::HeaderName::from_bytes(key.as_bytes()).map_err(|_| format!("{name}: {key:?} is not a header name."))?;
                let value = reqwest::header::HeaderValue::from_str(value).map_err(|_| format!("{name}: the value of {key} cannot be a header."))?;
                headers.insert(header, value);
            }
            let transport =
                StreamableHttpClientTransport::from_config(StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(headers));
            info().serve(transport).await.map_err(|e| format!("{name}: {url} did not answer MCP's handshake ({e})."))
        } else {
            Err(format!("{name}: give the command that starts it, or its url."))
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, started).await.map_err(|_| format!("{name}: no answer in {} s.", CONNECT_TIMEOUT.as_secs()))?
}

/// The name the model sees: the server's and the tool's, as OpenAI allows
/// names (letters, digits, `_`, `-`; 64 at most).
pub fn model_name(server: &str, tool: &str) -> String {
    let name: String = format!("{server}__{tool}").chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    name.chars().take(64).collect()
}

/// One tool of a connected server.
pub struct McpTool {
    pub server: String,
    pub tool: rmcp::model::Tool,
    pub peer: Peer<RoleClient>,
    /// Ask the user first unless the tool says it only reads.
    pub confirm_changes: bool,
}

impl McpTool {
    pub fn read_only(&self) -> bool {
        self.tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)
    }
}

#[async_trait]
impl Tool for McpTool {
    fn spec(&self) -> ToolSpec {
        let description = self.tool.description.as_deref().or(self.tool.title.as_deref()).unwrap_or_default();
        ToolSpec {
            name: model_name(&self.server, &self.tool.name),
            description: format!("{description} (from the {} tool server)", self.server),
            parameters: Value::Object((*self.tool.input_schema).clone()),
        }
    }

    fn side_effects(&self) -> bool {
        self.confirm_changes && !self.read_only()
    }

    async fn call(&self, args: Value, cancel: CancellationToken) -> Result<String, ToolError> {
        let Value::Object(args) = args else { return Err(ToolError::new("The arguments must be a JSON object.")) };
        let params = CallToolRequestParams::new(self.tool.name.to_string()).with_arguments(args);
        // Dropping the call on a cancel makes rmcp send MCP's cancellation.
        let result = tokio::select! {
            r = self.peer.call_tool(params) => r.map_err(|e| ToolError::new(format!("The {} tool server failed: {e}", self.server)))?,
            _ = cancel.cancelled() => return Err(ToolError::new("Cancelled.")),
        };
        let text: Vec<&str> = result.content.iter().filter_map(|c| c.as_text()).map(|t| t.text.as_str()).collect();
        let text = match (text.is_empty(), &result.structured_content) {
            (true, Some(structured)) => structured.to_string(),
            _ => text.join("\n"),
        };
        if result.is_error == Some(true) {
            return Err(ToolError::new(if text.is_empty() { format!("{} failed.", self.tool.name) } else { text }));
        }
        Ok(text)
    }
}
