//! Token buckets: per-session message limits, error strikes and new-session limits per
//! source address or prefix.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A token bucket refilled continuously at `rate` tokens per second up to `burst`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenBucket {
    tokens: f32,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn full(burst: f32, now: Instant) -> Self {
        Self {
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant, rate: f32, burst: f32) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f32();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        // An earlier `now` (a stamp from a session's last activity) must not move the
        // clock back, or the next call would refill the same time twice.
        self.last = self.last.max(now);
    }

    /// Takes one token if available.
    pub(crate) fn take(&mut self, now: Instant, rate: f32, burst: f32) -> bool {
        self.refill(now, rate, burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether the bucket has refilled completely (and so carries no state worth keeping).
    fn is_full(&mut self, now: Instant, rate: f32, burst: f32) -> bool {
        self.refill(now, rate, burst);
        self.tokens >= burst
    }
}

/// Rate limits new sessions per key: a source IP, or a prefix written as its first address
/// (see `source::prefix`). Its table is bounded: full buckets are forgotten on
/// [`Self::prune`], and when the table is at capacity unknown keys are refused until then.
#[derive(Debug)]
pub(crate) struct IpLimiter {
    buckets: HashMap<IpAddr, TokenBucket>,
    rate: f32,
    burst: f32,
    capacity: usize,
}

/// How often the relay lets the limiters forget idle sources.
pub(crate) const PRUNE_INTERVAL: Duration = Duration::from_secs(10);

impl IpLimiter {
    pub(crate) fn new(rate: f32, burst: f32, capacity: usize) -> Self {
        Self {
            buckets: HashMap::new(),
            rate,
            burst,
            capacity,
        }
    }

    /// Whether `ip` may open another session now (and charges it if so).
    pub(crate) fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        let (rate, burst) = (self.rate, self.burst);
        if let Some(bucket) = self.buckets.get_mut(&ip) {
            return bucket.take(now, rate, burst);
        }
        if self.buckets.len() >= self.capacity {
            self.prune(now);
            if self.buckets.len() >= self.capacity {
                return false;
            }
        }
        let mut bucket = TokenBucket::full(burst, now);
        let allowed = bucket.take(now, rate, burst);
        self.buckets.insert(ip, bucket);
        allowed
    }

    /// Forgets IPs whose bucket is full again.
    pub(crate) fn prune(&mut self, now: Instant) {
        let (rate, burst) = (self.rate, self.burst);
        self.buckets.retain(|_, b| !b.is_full(now, rate, burst));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::{Duration, Instant};

    use super::{IpLimiter, TokenBucket};

    #[test]
    fn bucket_refills() {
        let t0 = Instant::now();
        let mut b = TokenBucket::full(2.0, t0);
        assert!(b.take(t0, 1.0, 2.0));
        assert!(b.take(t0, 1.0, 2.0));
        assert!(!b.take(t0, 1.0, 2.0));
        assert!(b.take(t0 + Duration::from_secs(1), 1.0, 2.0));
    }

    #[test]
    fn limiter_is_per_ip_and_bounded() {
        let t0 = Instant::now();
        let mut l = IpLimiter::new(1.0, 1.0, 2);
        let a = Ipv4Addr::new(10, 0, 0, 1).into();
        let b = Ipv4Addr::new(10, 0, 0, 2).into();
        let c = Ipv4Addr::new(10, 0, 0, 3).into();
        assert!(l.allow(a, t0));
        assert!(!l.allow(a, t0));
        assert!(l.allow(b, t0));
        // Table full of non-idle IPs: a third IP is refused rather than growing the table.
        assert!(!l.allow(c, t0));
        let later = t0 + Duration::from_secs(5);
        l.prune(later);
        assert_eq!(l.len(), 0);
        assert!(l.allow(c, later));
    }
}
