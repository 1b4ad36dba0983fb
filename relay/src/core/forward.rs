//! Forwarding limits: what one member may make the relay deliver to the others.
//!
//! A session's own message rate bounds what it sends; these limits bound what it makes
//! the relay send to each other member:
//!
//! - **Signals per sender→target**: a count and a byte budget per pair (a blob costs one
//!   token per started KiB), so one member cannot fill another's channel with 50 frames/s of
//!   16 KB while a third member's signals to the same target still pass. A session
//!   signalling many members spends a little on each pair and stays within its own message
//!   rate overall. Signals from other relays' members count per remote sender→local target
//!   the same way; so do our members' signals to other relays.
//! - **Joins per member**: every join is told to every other member (and its leave too), so
//!   each member may join a room only a few times in a burst and then slowly; a join past
//!   that is refused (`RateLimited`) and told to no one. Leaving is never refused.
//!
//! The state lives in each [`Room`](super::room::Room) and is bounded there: a pair or
//! joiner is forgotten once its budget has refilled, and a room keeps at most
//! [`ForwardLimits::max_tracked`] of each, refusing new ones while full.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use super::rate::TokenBucket;
use crate::protocol::PeerAddr;

/// The forwarding limits (see the module docs). [`FORWARD_LIMITS`] holds the defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ForwardLimits {
    /// Signals per second one sender may have delivered to one target.
    pub(crate) signals_per_sec: f32,
    /// Signals one sender may send one target in a burst.
    pub(crate) signal_burst: f32,
    /// KiB of blob per second one sender may have delivered to one target.
    pub(crate) kib_per_sec: f32,
    /// KiB of blob one sender may send one target in a burst.
    pub(crate) kib_burst: f32,
    /// Joins per second one member may make in one room.
    pub(crate) joins_per_sec: f32,
    /// Joins one member may make in one room in a burst.
    pub(crate) join_burst: f32,
    /// Pairs (and joiners) one room tracks at once.
    pub(crate) max_tracked: usize,
}

/// The defaults: 10 signals/s (burst 30) and 64 KiB/s (burst 128 KiB) per sender→target;
/// a join every 2 s per member and room after a burst of 4; 4,096 pairs per room.
pub(crate) const FORWARD_LIMITS: ForwardLimits = ForwardLimits {
    signals_per_sec: 10.0,
    signal_burst: 30.0,
    kib_per_sec: 64.0,
    kib_burst: 128.0,
    joins_per_sec: 0.5,
    join_burst: 4.0,
    max_tracked: 4096,
};

impl ForwardLimits {
    /// How long a budget takes to refill from empty; state idle that long is dropped.
    fn refill_time(&self) -> Duration {
        let secs = [
            self.signal_burst / self.signals_per_sec,
            self.kib_burst / self.kib_per_sec,
            self.join_burst / self.joins_per_sec,
        ]
        .into_iter()
        .fold(0.0, f32::max);
        Duration::from_secs_f32(secs)
    }
}

/// One sender→target pair's budgets.
#[derive(Debug, Clone, Copy)]
struct Pair {
    signals: TokenBucket,
    kib: TokenBucket,
    last: Instant,
}

/// One joiner's budget.
#[derive(Debug, Clone, Copy)]
struct Joiner {
    joins: TokenBucket,
    last: Instant,
}

/// A room's forwarding state: budgets per pair and per joiner.
#[derive(Debug, Default)]
pub(crate) struct Forwarding {
    pairs: HashMap<(PeerAddr, PeerAddr), Pair>,
    joiners: HashMap<PeerAddr, Joiner>,
}

impl Forwarding {
    /// Whether `from` may have a `len`-byte blob delivered to `to` now (charged if so).
    pub(crate) fn allow_signal(
        &mut self,
        limits: &ForwardLimits,
        now: Instant,
        from: PeerAddr,
        to: PeerAddr,
        len: usize,
    ) -> bool {
        let l = limits;
        let Some(pair) = tracked(&mut self.pairs, (from, to), l, now, |now| Pair {
            signals: TokenBucket::full(l.signal_burst, now),
            kib: TokenBucket::full(l.kib_burst, now),
            last: now,
        }) else {
            return false;
        };
        let mut signals = pair.signals;
        let mut kib = pair.kib;
        let allowed = signals.take(now, l.signals_per_sec, l.signal_burst)
            && take_n(
                &mut kib,
                len.div_ceil(1024),
                now,
                l.kib_per_sec,
                l.kib_burst,
            );
        if allowed {
            (pair.signals, pair.kib) = (signals, kib);
        }
        pair.last = now;
        allowed
    }

    /// Whether `who` may join now (charged if so).
    pub(crate) fn allow_join(
        &mut self,
        limits: &ForwardLimits,
        now: Instant,
        who: PeerAddr,
    ) -> bool {
        let l = limits;
        let Some(joiner) = tracked(&mut self.joiners, who, l, now, |now| Joiner {
            joins: TokenBucket::full(l.join_burst, now),
            last: now,
        }) else {
            return false;
        };
        joiner.last = now;
        joiner.joins.take(now, l.joins_per_sec, l.join_burst)
    }
}

/// Something with a last-used time.
trait Used {
    fn last(&self) -> Instant;
}

impl Used for Pair {
    fn last(&self) -> Instant {
        self.last
    }
}

impl Used for Joiner {
    fn last(&self) -> Instant {
        self.last
    }
}

/// The entry for `key`, created by `new` if there is room: a full table first forgets
/// entries idle long enough to have refilled, and refuses (`None`) if still full.
fn tracked<'a, K: Hash + Eq, V: Used>(
    table: &'a mut HashMap<K, V>,
    key: K,
    limits: &ForwardLimits,
    now: Instant,
    new: impl FnOnce(Instant) -> V,
) -> Option<&'a mut V> {
    if !table.contains_key(&key) && table.len() >= limits.max_tracked {
        let idle = limits.refill_time();
        table.retain(|_, v| now.saturating_duration_since(v.last()) < idle);
        if table.len() >= limits.max_tracked {
            return None;
        }
    }
    Some(table.entry(key).or_insert_with(|| new(now)))
}

/// Takes `n` tokens at once or none.
fn take_n(bucket: &mut TokenBucket, n: usize, now: Instant, rate: f32, burst: f32) -> bool {
    let mut trial = *bucket;
    if (0..n).all(|_| trial.take(now, rate, burst)) {
        *bucket = trial;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{ForwardLimits, Forwarding, FORWARD_LIMITS};
    use crate::protocol::{PeerAddr, PeerId, RelayTag};

    fn addr(n: u32) -> PeerAddr {
        PeerAddr {
            relay: RelayTag::from_bytes([1; 8]),
            session: PeerId::new(n).expect("non-zero"),
        }
    }

    #[test]
    fn pairs_are_limited_apart_in_count_and_bytes() {
        let t0 = Instant::now();
        let l = FORWARD_LIMITS;
        let mut f = Forwarding::default();
        // 128 KiB of burst: eight 16 KiB blobs, then the ninth is refused.
        for _ in 0..8 {
            assert!(f.allow_signal(&l, t0, addr(1), addr(2), 16 * 1024));
        }
        assert!(!f.allow_signal(&l, t0, addr(1), addr(2), 16 * 1024));
        // Another sender to the same target, and the same sender to another, still pass.
        assert!(f.allow_signal(&l, t0, addr(3), addr(2), 16 * 1024));
        assert!(f.allow_signal(&l, t0, addr(1), addr(4), 16 * 1024));
        let later = t0 + Duration::from_millis(250);
        assert!(f.allow_signal(&l, later, addr(1), addr(2), 16 * 1024));
    }

    #[test]
    fn joins_are_limited_and_tables_bounded() {
        let t0 = Instant::now();
        let l = ForwardLimits {
            max_tracked: 2,
            ..FORWARD_LIMITS
        };
        let mut f = Forwarding::default();
        for _ in 0..4 {
            assert!(f.allow_join(&l, t0, addr(1)));
        }
        assert!(!f.allow_join(&l, t0, addr(1)));
        assert!(f.allow_join(&l, t0, addr(2)));
        // Full of busy joiners: a third is refused until theirs have refilled.
        assert!(!f.allow_join(&l, t0, addr(3)));
        let later = t0 + Duration::from_secs(9);
        assert!(f.allow_join(&l, later, addr(3)));
        assert!(f.allow_join(&l, later, addr(1)));
    }
}
