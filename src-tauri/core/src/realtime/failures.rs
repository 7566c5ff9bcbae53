//! How the Realtime link judges a failure: a server `error` event as a
//! provider error of the usual kinds, which failures no retry can mend (a
//! refused key, no quota, a bad request), and the wait before another attempt.

use super::events::ErrorBody;
use crate::provider::{ErrorKind, ProviderError};
use std::time::Duration;

/// Waits between attempts (±20 %), then gives up.
const BACKOFF_MS: [u64; 6] = [100, 500, 1000, 2000, 4000, 8000];
/// Attempts before the link gives up until the next turn.
pub(super) const ATTEMPTS: usize = BACKOFF_MS.len();

/// Whether trying again cannot help: a refused key, no quota, a request
/// the server calls wrong (a bug, or a model it does not have).
pub(super) fn fatal(e: &ProviderError) -> bool {
    matches!(e.kind, ErrorKind::Auth | ErrorKind::Quota | ErrorKind::BadRequest)
}

/// A server `error` event as a provider error of the usual kinds.
pub fn server_error(e: &ErrorBody) -> ProviderError {
    let code = e.code.as_deref().unwrap_or(e.kind.as_str());
    let kind = match code {
        "invalid_api_key" | "account_deactivated" | "authentication_error" => ErrorKind::Auth,
        "insufficient_quota" | "billing_hard_limit_reached" => ErrorKind::Quota,
        "rate_limit_exceeded" => ErrorKind::RateLimited { retry_after_ms: None },
        "server_error" => ErrorKind::Server,
        // The session limit: a close 1001 follows, and a new session.
        "session_expired" => ErrorKind::Timeout,
        _ if e.kind == "server_error" => ErrorKind::Server,
        _ => ErrorKind::BadRequest,
    };
    let message: String = e.message.chars().take(240).collect();
    ProviderError::new(kind, format!("The Realtime server said: {message}"))
}

/// The wait before attempt `n` (1-based), ±20 %.
pub(super) fn backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let base = BACKOFF_MS[(attempt as usize).saturating_sub(1).min(BACKOFF_MS.len() - 1)] as f64;
    // A random number without a crate: the std hasher's per-process keys.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let jitter = (h.finish() % 4001) as f64 / 10_000.0 - 0.2;
    Duration::from_millis((base * (1.0 + jitter)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_with_jitter_and_refusals_are_final() {
        for (attempt, base) in [(1u32, 100u64), (3, 1000), (6, 8000), (9, 8000)] {
            let w = backoff(attempt).as_millis() as u64;
            assert!(w >= base * 8 / 10 && w <= base * 12 / 10, "attempt {attempt}: {w} ms");
        }
        let body = |code: &str| ErrorBody { kind: "invalid_request_error".into(), code: Some(code.into()), message: "m".into(), event_id: None };
        assert!(fatal(&server_error(&body("invalid_api_key"))));
        assert!(fatal(&server_error(&body("insufficient_quota"))));
        assert!(!fatal(&server_error(&body("rate_limit_exceeded"))));
        assert!(!fatal(&server_error(&body("session_expired"))));
        assert!(!fatal(&ProviderError::new(ErrorKind::Network, "x")));
    }
}
