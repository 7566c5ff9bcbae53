//! The MCP servers of a session: each is started in the background, and its
//! tools join the agent's as soon as it answers. Status per server
//! (connecting, ready with its tools, failed and why, off) is what the
//! settings show. One hub is shared while the configuration stays the same,
//! so saving unrelated settings does not restart the servers.

use super::client::{self, Client, McpTool};
use super::config::McpServerConfig;
use crate::tools::{Tool, ToolSource};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::watch;

/// A tool as the settings list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub description: String,
    pub enabled: bool,
    /// The server says it only reads (so it runs without asking).
    pub read_only: bool,
}

/// Where a server stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ServerStatus {
    Off,
    Connecting,
    Ready { tools: Vec<ToolInfo> },
    Failed { error: String },
}

struct Server {
    status: ServerStatus,
    tools: Vec<Arc<McpTool>>,
    // Kept so the server runs as long as the hub; dropping it stops the child.
    _client: Option<Client>,
}

/// The configured servers, connecting or connected.
pub struct McpHub {
    servers: Mutex<BTreeMap<String, Server>>,
    pending: watch::Sender<usize>,
}

/// Secrets per server, by variable or header name.
pub type Secrets = HashMap<String, HashMap<String, String>>;

/// The running hub, by digests of its configuration and of its secrets
/// (digests: the secrets' values are not kept twice).
static SHARED: Mutex<Option<(String, String, Weak<McpHub>)>> = Mutex::new(None);

fn digest(value: impl std::fmt::Debug) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(format!("{value:?}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl McpHub {
    /// The hub for this configuration: the running one if it is the same,
    /// else a new one whose servers start now (on the current tokio runtime).
    pub fn shared(config: &BTreeMap<String, McpServerConfig>, secrets: &Secrets) -> Arc<McpHub> {
        let (config_key, secrets_key) = (digest(config), digest(secrets.iter().collect::<BTreeMap<_, _>>()));
        let mut shared = SHARED.lock().unwrap();
        if let Some((_, _, hub)) = shared.as_ref().filter(|(c, s, _)| *c == config_key && *s == secrets_key) {
            if let Some(hub) = hub.upgrade() {
                return hub;
            }
        }
        let hub = McpHub::start(config, secrets);
        *shared = Some((config_key, secrets_key, Arc::downgrade(&hub)));
        hub
    }

    /// The running hub for this configuration, if there is one: for showing
    /// its state without reading the secrets again.
    pub fn running(config: &BTreeMap<String, McpServerConfig>) -> Option<Arc<McpHub>> {
        let key = digest(config);
        SHARED.lock().unwrap().as_ref().filter(|(c, _, _)| *c == key).and_then(|(_, _, hub)| hub.upgrade())
    }

    /// Starts every server that is on.
    pub fn start(config: &BTreeMap<String, McpServerConfig>, secrets: &Secrets) -> Arc<McpHub> {
        let runtime = tokio::runtime::Handle::try_current();
        let mut servers = BTreeMap::new();
        let mut starting = Vec::new();
        for (name, server) in config {
            let values = secrets.get(name).cloned().unwrap_or_default();
            let missing: Vec<&str> = server.secrets.iter().filter(|n| !values.contains_key(*n)).map(String::as_str).collect();
            let status = match (&runtime, server.disabled) {
                (_, true) => ServerStatus::Off,
                _ if !missing.is_empty() => ServerStatus::Failed {
                    error: format!("{name}: {} is not in the keychain. Paste the server's settings again in Settings.", missing.join(", ")),
                },
                (Err(_), false) => ServerStatus::Failed { error: "Sori has no task runner here to start it.".into() },
                (Ok(_), false) => {
                    starting.push((name.clone(), server.clone(), values));
                    ServerStatus::Connecting
                }
            };
            servers.insert(name.clone(), Server { status, tools: Vec::new(), _client: None });
        }
        let (pending, _) = watch::channel(starting.len());
        let hub = Arc::new(McpHub { servers: Mutex::new(servers), pending });
        if let Ok(runtime) = runtime {
            for (name, server, secrets) in starting {
                let weak = Arc::downgrade(&hub);
                runtime.spawn(async move {
                    let connected = client::connect(&name, &server, &secrets).await;
                    let listed = match connected {
                        Ok(client) => match client.peer().list_all_tools().await {
                            Ok(tools) => Ok((client, tools)),
                            Err(e) => Err(format!("{name}: its tools could not be listed ({e}).")),
                        },
                        Err(e) => Err(e),
                    };
                    if let Some(hub) = weak.upgrade() {
                        hub.connected(&name, &server, listed);
                    }
                });
            }
        }
        hub
    }

    fn connected(&self, name: &str, config: &McpServerConfig, listed: Result<(Client, Vec<rmcp::model::Tool>), String>) {
        let mut servers = self.servers.lock().unwrap();
        let Some(server) = servers.get_mut(name) else { return };
        match listed {
            Ok((client, tools)) => {
                let peer = client.peer().clone();
                server.tools = tools
                    .into_iter()
                    .map(|tool| Arc::new(McpTool { server: name.to_string(), tool, peer: peer.clone(), confirm_changes: config.confirm_changes }))
                    .collect();
                let infos = server
                    .tools
                    .iter()
                    .map(|t| ToolInfo {
                        name: t.tool.name.to_string(),
                        description: t.tool.description.as_deref().unwrap_or_default().to_string(),
                        enabled: !config.disabled_tools.iter().any(|d| *d == t.tool.name),
                        read_only: t.read_only(),
                    })
                    .collect();
                server.tools.retain(|t| !config.disabled_tools.iter().any(|d| *d == t.tool.name));
                server.status = ServerStatus::Ready { tools: infos };
                server._client = Some(client);
            }
            Err(error) => server.status = ServerStatus::Failed { error },
        }
        drop(servers);
        self.pending.send_modify(|n| *n = n.saturating_sub(1));
    }

    /// Every server's status, by name.
    pub fn status(&self) -> BTreeMap<String, ServerStatus> {
        self.servers.lock().unwrap().iter().map(|(name, s)| (name.clone(), s.status.clone())).collect()
    }

    /// Waits until no server is still connecting, or `most` has passed.
    pub async fn settled(&self, most: Duration) {
        let mut pending = self.pending.subscribe();
        let _ = tokio::time::timeout(most, pending.wait_for(|n| *n == 0)).await;
    }
}

#[async_trait]
impl ToolSource for McpHub {
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let servers = self.servers.lock().unwrap();
        servers.values().flat_map(|s| s.tools.iter().map(|t| t.clone() as Arc<dyn Tool>)).collect()
    }

    async fn ready(&self, most: Duration) {
        self.settled(most).await;
    }
}
