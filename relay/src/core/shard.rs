//! A core instance as one shard of a relay that runs several, one per thread.
//!
//! The shards of one relay share its identity, entry, ICE credentials, certificate and
//! [`RelayTag`](crate::protocol::RelayTag): to a client every shard is the same relay. What
//! keeps them apart is the peer ids they give out: shard `k` of `n` only gives ids `p` with
//! `(p - 1) % n == k` ([`Shard::owner`]), so a peer address names its shard, and the shards'
//! members can be told to each other through the federation interface
//! ([`MeshInput`](super::MeshInput)/[`MeshOutput`](super::MeshOutput), see
//! `crate::shard::hub`) without any address changing.
//!
//! `MAX_SESSIONS` (and its overflow) and `MAX_ROOM_SIZE` are counted in [`Shared`] by all
//! shards together, so they hold for the whole relay, not per shard. Each is taken with one
//! atomic step that fails at the cap, so two shards admitting at once never pass it together.
//! `MAX_HANDSHAKING` is split instead: each shard may run its share ([`Shard::share`]), so
//! that with every slot of a shard taken it can still drop one of its own unproven sessions
//! for a newcomer (a shard cannot drop another's; with one relay-wide count, spoofers on one
//! shard could keep every client of another out). Per-address and per-prefix limits stay in
//! each shard: the driver hands every datagram of one prefix to one shard.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::protocol::{PeerId, RoomId};

/// What the shards of one relay count together. Cloning shares the counts.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    sessions: Arc<AtomicUsize>,
    /// Members per room, over all shards; a room is here while it has a member.
    rooms: Arc<Mutex<HashMap<RoomId, usize>>>,
}

impl Shared {
    /// Sessions held by all shards (handshaking, open or closing).
    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::Relaxed)
    }

    /// Rooms with a member on any shard (a room on two shards is one room).
    pub fn rooms(&self) -> usize {
        self.room_table().len()
    }

    /// Counts one more member of `room` unless it has `max` members already; whether it did.
    pub(crate) fn join_room(&self, room: RoomId, max: usize) -> bool {
        let mut rooms = self.room_table();
        let members = rooms.entry(room).or_default();
        if *members >= max {
            if *members == 0 {
                rooms.remove(&room);
            }
            return false;
        }
        *members += 1;
        true
    }

    /// Counts one member fewer in `room`.
    pub(crate) fn leave_room(&self, room: RoomId) {
        let mut rooms = self.room_table();
        if let Some(members) = rooms.get_mut(&room) {
            *members = members.saturating_sub(1);
            if *members == 0 {
                rooms.remove(&room);
            }
        }
    }

    fn room_table(&self) -> MutexGuard<'_, HashMap<RoomId, usize>> {
        // The table stays consistent whatever a panicking holder was doing: every change is
        // one insert or one counter step.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Which shard of how many a core is, and the counts it shares with the others.
#[derive(Debug, Clone)]
pub struct Shard {
    index: u32,
    count: u32,
    shared: Shared,
}

impl Shard {
    /// Shard `index` of `count` (`index < count`), sharing `shared`; `None` if out of range.
    pub fn new(index: u32, count: u32, shared: Shared) -> Option<Self> {
        (index < count).then_some(Self {
            index,
            count,
            shared,
        })
    }

    /// This shard's index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The counts shared by all shards.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The shard (of `count`) that gives out peer id `peer`.
    pub fn owner(peer: PeerId, count: u32) -> u32 {
        (peer.get() - 1) % count.max(1)
    }

    /// This shard's share of a relay-wide `cap` (at least 1).
    pub fn share(&self, cap: usize) -> usize {
        (cap / self.count as usize).max(1)
    }

    /// Whether this shard gives out `peer`.
    pub(crate) fn owns(&self, peer: PeerId) -> bool {
        Self::owner(peer, self.count) == self.index
    }
}

/// A count of sessions in one core, and, for a shard, in the whole relay.
#[derive(Debug, Default)]
pub(crate) struct Gauge {
    local: usize,
    total: Option<Arc<AtomicUsize>>,
}

impl Gauge {
    /// A gauge counted in this core only, or also in `total`.
    pub(crate) fn new(total: Option<&Arc<AtomicUsize>>) -> Self {
        Self {
            local: 0,
            total: total.cloned(),
        }
    }

    /// This core's count.
    pub(crate) fn local(&self) -> usize {
        self.local
    }

    /// Counts one more unless the relay-wide count is at `cap`; returns the relay-wide count
    /// before, or `None` at the cap.
    pub(crate) fn try_add(&mut self, cap: usize) -> Option<usize> {
        let before = match &self.total {
            Some(total) => total
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n < cap).then_some(n + 1)
                })
                .ok()?,
            None if self.local < cap => self.local,
            None => return None,
        };
        self.local += 1;
        Some(before)
    }
}

impl std::ops::SubAssign<usize> for Gauge {
    fn sub_assign(&mut self, n: usize) {
        self.local -= n;
        if let Some(total) = &self.total {
            total.fetch_sub(n, Ordering::Relaxed);
        }
    }
}

impl Shared {
    /// A gauge of one shard's sessions, counted relay-wide too.
    pub(crate) fn sessions_gauge(&self) -> Gauge {
        Gauge::new(Some(&self.sessions))
    }
}

#[cfg(test)]
mod tests {
    use super::{Gauge, Shard, Shared};
    use crate::protocol::{PeerId, RoomId};

    #[test]
    fn gauges_stop_at_the_relay_wide_cap() {
        let shared = Shared::default();
        let mut a = shared.sessions_gauge();
        let mut b = shared.sessions_gauge();
        assert_eq!(a.try_add(2), Some(0));
        assert_eq!(b.try_add(2), Some(1));
        assert_eq!(a.try_add(2), None, "the cap holds over both");
        assert_eq!(b.try_add(2), None);
        a -= 1;
        assert_eq!(b.try_add(2), Some(1));
        assert_eq!((a.local(), b.local(), shared.sessions()), (0, 2, 2));
        let mut alone = Gauge::default();
        assert_eq!(alone.try_add(1), Some(0));
        assert_eq!(alone.try_add(1), None);
    }

    #[test]
    fn rooms_are_counted_once_over_shards() {
        let shared = Shared::default();
        let room = RoomId::from_bytes([1; 32]);
        assert!(shared.join_room(room, 2));
        assert!(shared.join_room(room, 2));
        assert!(!shared.join_room(room, 2));
        assert_eq!(shared.rooms(), 1);
        shared.leave_room(room);
        shared.leave_room(room);
        assert_eq!(shared.rooms(), 0);
    }

    #[test]
    fn peer_ids_name_their_shard() {
        let id = |n| PeerId::new(n).expect("non-zero");
        assert_eq!(Shard::owner(id(1), 2), 0);
        assert_eq!(Shard::owner(id(2), 2), 1);
        assert_eq!(Shard::owner(id(u32::MAX), 2), 0);
        assert_eq!(Shard::owner(id(7), 1), 0);
        assert!(Shard::new(2, 2, Shared::default()).is_none());
        let shard = Shard::new(1, 2, Shared::default()).expect("in range");
        assert_eq!((shard.share(256), shard.share(1)), (128, 1));
    }
}
