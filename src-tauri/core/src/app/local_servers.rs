//! Chat servers already running on this computer: Ollama, a llama.cpp
//! server or LM Studio, found on their usual loopback ports, with the
//! models each offers. Sori talks to them through its OpenAI-compatible
//! client, with no key (nothing leaves the machine).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which program serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    Ollama,
    LlamaCpp,
    LmStudio,
    /// Something else that speaks OpenAI's model list.
    OpenAiCompatible,
}

/// A chat server found on this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalServer {
    pub kind: ServerKind,
    /// Its OpenAI-compatible base URL, as the chat server setting takes it.
    pub base_url: String,
    pub models: Vec<String>,
}

/// Where each program listens unless told otherwise.
pub const USUAL_PORTS: &[(ServerKind, u16)] = &[(ServerKind::Ollama, 11434), (ServerKind::LlamaCpp, 8080), (ServerKind::LmStudio, 1234)];

/// A probe gives up after this long: a port with nothing on it answers at once.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Deserialize)]
struct OllamaTags {
    models: Vec<OllamaModel>,
}

#[derive(Deserialize)]
struct OllamaModel {
    name: String,
}

#[derive(Deserialize)]
struct OpenAiList {
    data: Vec<OpenAiModel>,
}

#[derive(Deserialize)]
struct OpenAiModel {
    id: String,
    #[serde(default)]
    owned_by: Option<String>,
}

/// The servers among `candidates` (loopback ports, each with the program
/// usually found there) that answer with a model list, in the order given.
pub async fn find(candidates: &[(ServerKind, u16)]) -> Vec<LocalServer> {
    let http = reqwest::Client::builder().timeout(PROBE_TIMEOUT).no_proxy().build().expect("an HTTP client");
    let probes = candidates.iter().map(|&(kind, port)| probe(&http, kind, port));
    futures_util::future::join_all(probes).await.into_iter().flatten().collect()
}

/// The servers on their usual ports.
pub async fn find_usual() -> Vec<LocalServer> {
    find(USUAL_PORTS).await
}

async fn probe(http: &reqwest::Client, usual: ServerKind, port: u16) -> Option<LocalServer> {
    let root = format!("http://127.0.0.1:{port}");
    let base_url = format!("{root}/v1");
    // Ollama's own list names its models as `ollama run` does; only Ollama has it.
    if let Some(tags) = get::<OllamaTags>(http, &format!("{root}/api/tags")).await {
        return Some(LocalServer { kind: ServerKind::Ollama, base_url, models: tags.models.into_iter().map(|m| m.name).collect() });
    }
    let list = get::<OpenAiList>(http, &format!("{base_url}/models")).await?;
    let kind = match (usual, list.data.first().and_then(|m| m.owned_by.as_deref())) {
        (_, Some("llamacpp")) => ServerKind::LlamaCpp,
        (ServerKind::Ollama, _) => ServerKind::OpenAiCompatible,
        (usual, _) => usual,
    };
    Some(LocalServer { kind, base_url, models: list.data.into_iter().map(|m| m.id).collect() })
}

async fn get<T: for<'de> Deserialize<'de>>(http: &reqwest::Client, url: &str) -> Option<T> {
    let response = http.get(url).send().await.ok()?.error_for_status().ok()?;
    response.json::<T>().await.ok()
}
