//! Retrying a provider call while that is safe: only for failures that may pass
//! (rate limits, 5xx, network, timeouts), only before any output was used, a
//! bounded number of times, waiting as the server asks (`Retry-After`) or with
//! exponential backoff.

use super::ProviderError;
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    /// No wait is longer than this, whatever the server asks: past it the user
    /// is better served by an error they can act on.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(300), max_delay: Duration::from_secs(10) }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after `error` (attempt counts from 1).
    pub fn delay(&self, attempt: u32, error: &ProviderError) -> Duration {
        let backoff = self.base_delay.saturating_mul(1 << (attempt - 1).min(10));
        error.retry_after().unwrap_or(backoff).min(self.max_delay)
    }
}

/// Runs `call` until it succeeds, fails for good, runs out of attempts, or is
/// cancelled (then the last error is returned). `on_retry(attempt, wait, error)`
/// is told before each wait, so the UI can say "retrying in N s".
pub async fn with_retries<T, F, Fut>(
    policy: RetryPolicy,
    cancel: &CancellationToken,
    mut on_retry: impl FnMut(u32, Duration, &ProviderError),
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) if error.is_retryable() && attempt < policy.max_attempts && !cancel.is_cancelled() => {
                let wait = policy.delay(attempt, &error);
                on_retry(attempt, wait, &error);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = cancel.cancelled() => return Err(error),
                }
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ErrorKind;
    use std::cell::Cell;

    fn err(kind: ErrorKind) -> ProviderError {
        ProviderError::new(kind, "x")
    }

    #[tokio::test(start_paused = true)]
    async fn retries_passing_failures_then_succeeds() {
        let calls = Cell::new(0);
        let mut waits = vec![];
        let result = with_retries(
            RetryPolicy::default(),
            &CancellationToken::new(),
            |_, w, _| waits.push(w),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    match n {
                        1 => Err(err(ErrorKind::Server)),
                        2 => Err(err(ErrorKind::RateLimited { retry_after_ms: Some(1200) })),
                        _ => Ok(n),
                    }
                }
            },
        )
        .await;
        assert_eq!(result, Ok(3));
        assert_eq!(waits, [Duration::from_millis(300), Duration::from_millis(1200)]);
    }

    #[tokio::test(start_paused = true)]
    async fn lasting_failures_are_not_retried_and_attempts_are_bounded() {
        let calls = Cell::new(0);
        let r: Result<(), _> = with_retries(
            RetryPolicy::default(),
            &CancellationToken::new(),
            |_, _, _| {},
            || {
                calls.set(calls.get() + 1);
                async { Err(err(ErrorKind::Auth)) }
            },
        )
        .await;
        assert_eq!(r.unwrap_err().kind, ErrorKind::Auth);
        assert_eq!(calls.get(), 1);

        calls.set(0);
        let r: Result<(), _> = with_retries(
            RetryPolicy::default(),
            &CancellationToken::new(),
            |_, _, _| {},
            || {
                calls.set(calls.get() + 1);
                async { Err(err(ErrorKind::Network)) }
            },
        )
        .await;
        assert_eq!(r.unwrap_err().kind, ErrorKind::Network);
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn waits_are_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, &err(ErrorKind::RateLimited { retry_after_ms: Some(60_000) })), Duration::from_secs(10));
        assert_eq!(p.delay(3, &err(ErrorKind::Server)), Duration::from_millis(1200));
    }
}
