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
//! - **Churn per room**: many members each within their own join budget can still make a
//!   room's fan-out large, so every room has one budget for the joins and leaves it tells.
//!   A leave takes from it when there is something to take (and is never refused); a
//!   member's *first* join to the room takes from it too but is never refused either, so a
//!   newcomer always gets in and sees the room. A *rejoin* (a member the room has seen
//!   join before) needs the budget, and is refused `RateLimited` when it is spent. So a
//!   room tells at most about twice its churn budget in joins and leaves beyond its members'
//!   first arrivals, and first arrivals are bounded by how fast the relay admits sessions.
//!
//! The numbers are [`Limits`] settings (`FORWARD_SIGNALS_PER_SEC` and the others, see
//! `lumamesh-relay --help`). The state lives in each [`Room`](super::room::Room) and is
//! bounded there: a pair or joiner is forgotten once its budget has refilled, and a room
//! keeps at most [`MAX_TRACKED`] of each, refusing new ones while full.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use super::rate::TokenBucket;
use super::Limits;
use crate::protocol::PeerAddr;

/// Pairs (and joiners) one room tracks at once.
pub(crate) const MAX_TRACKED: usize = 4096;

/// The forwarding limits (see the module docs), read from [`Limits`].
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
    /// Joins and leaves per second one room tells its members.
    pub(crate) churn_per_sec: f32,
    /// Joins and leaves one room tells in a burst.
    pub(crate) churn_burst: f32,
    /// Pairs (and joiners) one room tracks at once.
    pub(crate) max_tracked: usize,
}

impl ForwardLimits {
    /// The forwarding part of `limits`.
    pub(crate) fn of(limits: &Limits) -> Self {
        Self {
            signals_per_sec: limits.forward_signals_per_sec,
            signal_burst: limits.forward_signal_burst,
            kib_per_sec: limits.forward_kib_per_sec,
            kib_burst: limits.forward_kib_burst,
            joins_per_sec: limits.joins_per_min / 60.0,
            join_burst: limits.join_burst,
            churn_per_sec: limits.room_churn_per_sec,
            churn_burst: limits.room_churn_burst,
            max_tracked: MAX_TRACKED,
        }
    }

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

/// Why a join is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinRefusal {
    /// The member's own join budget in the room is spent (`joins_limited`).
    Member,
    /// A rejoin while the room's churn budget is spent (`room_churn_limited`).
    RoomChurn,
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

/// A room's forwarding state: budgets per pair, per joiner and for the room's churn.
#[derive(Debug, Default)]
pub(crate) struct Forwarding {
    pairs: HashMap<(PeerAddr, PeerAddr), Pair>,
    joiners: HashMap<PeerAddr, Joiner>,
    /// The room's churn budget, full until first used.
    churn: Option<TokenBucket>,
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

    /// Whether `who` may join now (charged if so): its own budget first, then the room's
    /// churn budget, which refuses a rejoin, and a first join only when `first_needs_churn`
    /// (another relay's member: its relay may invent fresh addresses at will, while this
    /// relay's sessions come through admission). See the module docs.
    pub(crate) fn allow_join(
        &mut self,
        limits: &ForwardLimits,
        now: Instant,
        who: PeerAddr,
        first_needs_churn: bool,
    ) -> Result<(), JoinRefusal> {
        let l = limits;
        let needs_churn = first_needs_churn || self.joiners.contains_key(&who);
        let Some(joiner) = tracked(&mut self.joiners, who, l, now, |now| Joiner {
            joins: TokenBucket::full(l.join_burst, now),
            last: now,
        }) else {
            return Err(JoinRefusal::Member);
        };
        joiner.last = now;
        let mut joins = joiner.joins;
        if !joins.take(now, l.joins_per_sec, l.join_burst) {
            return Err(JoinRefusal::Member);
        }
        let churn = self.churn(l, now);
        if !churn.take(now, l.churn_per_sec, l.churn_burst) && needs_churn {
            return Err(JoinRefusal::RoomChurn);
        }
        if let Some(joiner) = self.joiners.get_mut(&who) {
            joiner.joins = joins;
        }
        Ok(())
    }

    /// A leave is told: it takes from the room's churn budget if there is anything left
    /// (leaves are never refused).
    pub(crate) fn note_leave(&mut self, limits: &ForwardLimits, now: Instant) {
        let l = limits;
        let _ = self.churn(l, now).take(now, l.churn_per_sec, l.churn_burst);
    }

    fn churn(&mut self, limits: &ForwardLimits, now: Instant) -> &mut TokenBucket {
        self.churn
            .get_or_insert_with(|| TokenBucket::full(limits.churn_burst, now))
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

    use super::{ForwardLimits, Forwarding, JoinRefusal};
    use crate::core::Limits;
    use crate::protocol::{PeerAddr, PeerId, RelayTag};

    fn addr(n: u32) -> PeerAddr {
        PeerAddr {
            relay: RelayTag::from_bytes([1; 8]),
            session: PeerId::new(n).expect("non-zero"),
        }
    }

    fn defaults() -> ForwardLimits {
        ForwardLimits::of(&Limits::default())
    }

    #[test]
    fn pairs_are_limited_apart_in_count_and_bytes() {
        let t0 = Instant::now();
        let l = defaults();
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
            ..defaults()
        };
        let mut f = Forwarding::default();
        for _ in 0..4 {
            assert_eq!(f.allow_join(&l, t0, addr(1), false), Ok(()));
        }
        assert_eq!(
            f.allow_join(&l, t0, addr(1), false),
            Err(JoinRefusal::Member)
        );
        assert_eq!(f.allow_join(&l, t0, addr(2), false), Ok(()));
        // Full of busy joiners: a third is refused until theirs have refilled.
        assert_eq!(
            f.allow_join(&l, t0, addr(3), false),
            Err(JoinRefusal::Member)
        );
        let later = t0 + Duration::from_secs(9);
        assert_eq!(f.allow_join(&l, later, addr(3), false), Ok(()));
        assert_eq!(f.allow_join(&l, later, addr(1), false), Ok(()));
    }

    #[test]
    fn settings_come_from_limits() {
        let limits = Limits {
            forward_signals_per_sec: 2.0,
            joins_per_min: 6.0,
            room_churn_burst: 3.0,
            ..Limits::default()
        };
        let l = ForwardLimits::of(&limits);
        assert_eq!(l.signals_per_sec, 2.0);
        assert_eq!(l.joins_per_sec, 0.1);
        assert_eq!(l.churn_burst, 3.0);
        // The defaults are the ones issue 14 shipped with.
        let d = defaults();
        let shipped = (10.0, 30.0, 64.0, 128.0, 0.5, 4.0);
        let got = (
            d.signals_per_sec,
            d.signal_burst,
            d.kib_per_sec,
            d.kib_burst,
            d.joins_per_sec,
            d.join_burst,
        );
        assert_eq!(got, shipped);
    }

    #[test]
    fn a_spent_room_budget_refuses_rejoins_but_never_a_first_join() {
        let t0 = Instant::now();
        let l = ForwardLimits {
            churn_per_sec: 1.0,
            churn_burst: 2.0,
            ..defaults()
        };
        let mut f = Forwarding::default();
        // Two first joins spend the room's burst; a third still gets in.
        for n in 1..=3 {
            assert_eq!(f.allow_join(&l, t0, addr(n), false), Ok(()));
        }
        // Leaves take nothing that is not there, and are never refused.
        f.note_leave(&l, t0);
        assert_eq!(
            f.allow_join(&l, t0, addr(1), false),
            Err(JoinRefusal::RoomChurn)
        );
        // A refused rejoin did not spend the member's own budget: three more remain.
        let later = t0 + Duration::from_secs(3);
        for _ in 0..2 {
            assert_eq!(f.allow_join(&l, later, addr(1), false), Ok(()));
        }
        assert_eq!(
            f.allow_join(&l, later, addr(1), false),
            Err(JoinRefusal::RoomChurn)
        );
        assert_eq!(f.allow_join(&l, later, addr(9), false), Ok(()));
        // Another relay's newcomer needs the budget even on its first join.
        assert_eq!(
            f.allow_join(&l, later, addr(10), true),
            Err(JoinRefusal::RoomChurn)
        );
    }
}
