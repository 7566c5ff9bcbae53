//! Requests per client, as a token bucket per key (a token's id, or the
//! client's address when the server runs without tokens): `burst` requests at
//! once, then one every `60 / per_minute` seconds. A refused request is told
//! how long to wait. Per replica: behind a load balancer each replica counts
//! its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        RateLimiter { per_minute, burst: burst.max(1), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request for `key`, or says how long until one is allowed.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(self.per_minute) / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        // Full buckets are forgotten, so the map holds only recent clients.
        if buckets.len() > 10_000 {
            let burst = f64::from(self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket { tokens: f64::from(self.burst), at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(f64::from(self.burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval_each_key_on_its_own() {
        let limiter = RateLimiter::new(60, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take_at("a", t0).is_ok());
        }
        let wait = limiter.take_at("a", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 1.0).abs() < 0.01, "{wait:?}");
        assert!(limiter.take_at("b", t0).is_ok(), "another client has its own bucket");
        assert!(limiter.take_at("a", t0 + Duration::from_millis(500)).is_err());
        assert!(limiter.take_at("a", t0 + Duration::from_millis(1001)).is_ok());
        assert!(RateLimiter::new(0, 1).take_at("a", t0).and_then(|_| RateLimiter::new(0, 1).take_at("a", t0)).is_ok());
    }
}
