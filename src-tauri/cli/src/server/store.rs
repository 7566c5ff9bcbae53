//! Where the server keeps conversations between requests: one JSON file per
//! conversation in its data folder (one replica needs nothing else), or Redis,
//! which replicas behind a load balancer share. A conversation holds its
//! persona (with the customer's context, fixed when it began), the customer's
//! id and its finished turns. Ids are random and checked before any lookup, so
//! an id never names a path outside the folder.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sori_core::conversation::Conversation;
use sori_core::provider::ChatMessage;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredConversation {
    pub id: String,
    pub persona: String,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub turns: Vec<Vec<ChatMessage>>,
    pub created_ms: u64,
    pub updated_ms: u64,
}

impl StoredConversation {
    pub fn new(persona: String, customer: Option<String>) -> Self {
        let mut id = [0u8; 12];
        getrandom::fill(&mut id).expect("the OS random source");
        let now = now_ms();
        StoredConversation {
            id: format!("c_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)),
            persona,
            customer,
            turns: Vec::new(),
            created_ms: now,
            updated_ms: now,
        }
    }

    pub fn conversation(&self) -> Conversation {
        Conversation::restored(&self.persona, self.turns.clone())
    }

    pub fn keep(&mut self, conversation: &Conversation) {
        self.turns = conversation.turns().to_vec();
        self.updated_ms = now_ms();
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Whether `id` is one this server could have made.
pub fn valid_id(id: &str) -> bool {
    id.len() == 18 && id.starts_with("c_") && id[2..].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the conversation store could not be used: {0}")]
    Io(String),
    #[error("Redis could not be reached or answered with an error: {0}")]
    Redis(String),
}

pub enum Store {
    Files { dir: PathBuf },
    Redis { connection: redis::aio::ConnectionManager, ttl: Duration },
}

impl Store {
    pub fn files(dir: PathBuf) -> Self {
        Store::Files { dir }
    }

    /// Connects at once, so a wrong address stops the server at start.
    pub async fn redis(url: &str, ttl: Duration) -> Result<Self, StoreError> {
        let redis = |e: redis::RedisError| StoreError::Redis(e.to_string());
        let client = redis::Client::open(url).map_err(redis)?;
        let connection = tokio::time::timeout(Duration::from_secs(5), redis::aio::ConnectionManager::new(client))
            .await
            .map_err(|_| StoreError::Redis(format!("no answer from {} within 5 s", redact_url(url))))?
            .map_err(redis)?;
        Ok(Store::Redis { connection, ttl })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Store::Files { .. } => "files",
            Store::Redis { .. } => "redis",
        }
    }

    pub async fn get(&self, id: &str) -> Result<Option<StoredConversation>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        let text = match self {
            Store::Files { dir } => {
                let path = dir.join(format!("{id}.json"));
                match tokio::fs::read_to_string(&path).await {
                    Ok(t) => Some(t),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(StoreError::Io(e.to_string())),
                }
            }
            Store::Redis { connection, .. } => {
                let mut c = connection.clone();
                redis::cmd("GET").arg(key(id)).query_async::<Option<String>>(&mut c).await.map_err(|e| StoreError::Redis(e.to_string()))?
            }
        };
        // A damaged record is a conversation that cannot go on, not a server error.
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    pub async fn put(&self, record: &StoredConversation) -> Result<(), StoreError> {
        let text = serde_json::to_string(record).expect("a conversation serializes");
        match self {
            Store::Files { dir } => {
                let (dir, id) = (dir.clone(), record.id.clone());
                // Written whole or not at all, off the async workers.
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::fs::create_dir_all(&dir)?;
                    let temp = dir.join(format!("{id}.json.tmp"));
                    std::fs::write(&temp, text)?;
                    std::fs::rename(&temp, dir.join(format!("{id}.json")))
                })
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?
                .map_err(|e| StoreError::Io(e.to_string()))
            }
            Store::Redis { connection, ttl } => {
                let mut c = connection.clone();
                redis::cmd("SET")
                    .arg(key(&record.id))
                    .arg(text)
                    .arg("EX")
                    .arg(ttl.as_secs().max(1))
                    .query_async::<()>(&mut c)
                    .await
                    .map_err(|e| StoreError::Redis(e.to_string()))
            }
        }
    }

    /// Whether the store answers, for `/healthz`.
    pub async fn healthy(&self) -> bool {
        match self {
            Store::Files { dir } => tokio::fs::create_dir_all(dir).await.is_ok(),
            Store::Redis { connection, .. } => {
                let mut c = connection.clone();
                tokio::time::timeout(Duration::from_secs(2), redis::cmd("PING").query_async::<String>(&mut c)).await.is_ok_and(|r| r.is_ok())
            }
        }
    }
}

fn key(id: &str) -> String {
    format!("sori:conversation:{id}")
}

/// A Redis URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_conversation_round_trips_through_files_and_odd_ids_find_nothing() {
        let dir = std::env::temp_dir().join(format!("sori-store-{}", std::process::id()));
        let store = Store::files(dir.clone());
        let mut record = StoredConversation::new("persona".into(), Some("C-001".into()));
        assert!(valid_id(&record.id), "{}", record.id);
        let mut c = record.conversation();
        c.record("안녕하세요", "네, 안녕하세요!");
        record.keep(&c);
        store.put(&record).await.unwrap();
        let back = store.get(&record.id).await.unwrap().unwrap();
        assert_eq!((back.turns.len(), back.customer.as_deref(), back.persona.as_str()), (1, Some("C-001"), "persona"));
        for odd in ["../../etc/passwd", "c_", "", &format!("{}x", record.id)] {
            assert!(store.get(odd).await.unwrap().is_none(), "{odd}");
        }
        assert_eq!(redact_url("redis://:secret@127.0.0.1:6379/0"), "redis://…@127.0.0.1:6379/0");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
