//! Trying a key with the cheapest call a provider has (`GET /models`), with
//! the answer in words the window can show: it works, it was rejected, the
//! server could not be reached, or something else went wrong.

use crate::provider::openai::OpenAi;
use crate::provider::ErrorKind;
use crate::secrets::ApiKey;
use serde::Serialize;

/// The result of trying a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum KeyCheck {
    Works { models: usize },
    Rejected { message: String },
    Unreachable { message: String },
    Failed { message: String },
}

/// Tries `key` against `base_url`. Messages are safe to show.
pub async fn check_key(base_url: &str, key: Option<ApiKey>) -> KeyCheck {
    let client = match OpenAi::new(base_url, key) {
        Ok(c) => c,
        Err(e) => return KeyCheck::Failed { message: e.to_string() },
    };
    match client.list_models().await {
        Ok(models) => KeyCheck::Works { models: models.len() },
        Err(e) => match e.kind {
            ErrorKind::Auth => KeyCheck::Rejected { message: e.message },
            ErrorKind::Network | ErrorKind::Timeout => KeyCheck::Unreachable { message: e.message },
            _ => KeyCheck::Failed { message: e.message },
        },
    }
}
