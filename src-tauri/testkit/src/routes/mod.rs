//! The HTTP endpoints: one module per OpenAI endpoint, the fake Google speech
//! APIs (with their OAuth endpoint), plus the test-control API.

pub mod chat;
pub mod control;
pub mod google;
pub mod models;
pub mod realtime;
pub mod speech;
pub mod transcriptions;

use crate::errors::ApiError;
use crate::spec;
use serde_json::Value;

/// Parses a JSON body and checks it against the spec's request schema, with
/// the 400 replies the real API gives.
pub(crate) fn parse_json(body: &[u8], schema: &str) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_request(format!("We could not parse the JSON body of your request. ({e}) The OpenAI API expects a JSON payload."), None)
    })?;
    spec::check(schema, &value).map_err(|e| ApiError::invalid_request(format!("Invalid request: {e}"), None))?;
    Ok(value)
}

/// Seconds since the epoch, for `created` fields.
pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
