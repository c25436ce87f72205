//! A token bucket per client address, for dashboard sign-in attempts: `burst` attempts at
//! once, then one more every `refill`. Plain data; the clock is passed in, so tests need none.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Buckets kept before idle (full) ones are dropped: bounds memory under address churn.
const MAX_BUCKETS: usize = 10_000;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    burst: f64,
    refill: Duration,
    buckets: HashMap<IpAddr, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub(crate) fn new(burst: u32, refill: Duration) -> RateLimiter {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            refill: refill.max(Duration::from_millis(1)),
            buckets: HashMap::new(),
        }
    }

    fn refilled(&self, b: Bucket, now: Instant) -> f64 {
        let earned =
            now.saturating_duration_since(b.updated).as_secs_f64() / self.refill.as_secs_f64();
        (b.tokens + earned).min(self.burst)
    }

    /// Takes one token for `client`, or says how long until one is available.
    pub(crate) fn try_take(&mut self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.buckets.len() >= MAX_BUCKETS {
            let snapshot: Vec<(IpAddr, Bucket)> =
                self.buckets.iter().map(|(k, v)| (*k, *v)).collect();
            for (ip, b) in snapshot {
                if self.refilled(b, now) >= self.burst {
                    self.buckets.remove(&ip);
                }
            }
        }
        let bucket = self.buckets.get(&client).copied().unwrap_or(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let tokens = self.refilled(bucket, now);
        if tokens >= 1.0 {
            self.buckets.insert(
                client,
                Bucket {
                    tokens: tokens - 1.0,
                    updated: now,
                },
            );
            Ok(())
        } else {
            self.buckets.insert(
                client,
                Bucket {
                    tokens,
                    updated: now,
                },
            );
            Err(self.refill.mul_f64(1.0 - tokens))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn burst_then_refill_per_client() {
        let mut rl = RateLimiter::new(3, Duration::from_secs(10));
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.try_take(a, t0).is_ok());
        }
        let wait = rl.try_take(a, t0).unwrap_err();
        assert!(
            wait <= Duration::from_secs(10) && wait > Duration::from_secs(9),
            "{wait:?}"
        );
        // Another client has its own bucket.
        assert!(rl.try_take(b, t0).is_ok());
        // Half the refill time: still refused, and the wait shrank.
        let wait = rl.try_take(a, t0 + Duration::from_secs(5)).unwrap_err();
        assert!(wait <= Duration::from_secs(5), "{wait:?}");
        assert!(rl.try_take(a, t0 + Duration::from_secs(10)).is_ok());
        assert!(rl.try_take(a, t0 + Duration::from_secs(10)).is_err());
        // Long idle: back to a full burst, not more.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(rl.try_take(a, later).is_ok());
        }
        assert!(rl.try_take(a, later).is_err());
    }
}
