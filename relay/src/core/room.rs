//! One room's members: this relay's sessions and, in a federation, other relays' sessions.
//!
//! A room exists only while it has a local member; remote members are what other relays
//! told us and are forgotten with the room. Members are bounded as a whole: local plus
//! remote never exceed the room size the caller passes.

use std::collections::BTreeSet;

use super::forward::Forwarding;
use crate::protocol::{PeerAddr, PeerId, RelayTag};

/// The lowest and highest session ids, bounding one relay's range of addresses.
const FIRST_SESSION: PeerId = match PeerId::new(1) {
    Some(id) => id,
    None => unreachable!(),
};
const LAST_SESSION: PeerId = match PeerId::new(u32::MAX) {
    Some(id) => id,
    None => unreachable!(),
};

/// What [`Room::add_remote`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Added {
    /// A new member.
    New,
    /// Already a member.
    Known,
    /// Refused: the room is full.
    Full,
}

/// What replacing one relay's members changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// Members that were not there before.
    pub(crate) added: Vec<PeerAddr>,
    /// Members that are gone.
    pub(crate) removed: Vec<PeerAddr>,
    /// Members not kept because the room was full.
    pub(crate) refused: usize,
}

/// The members of one room.
#[derive(Debug, Default)]
pub(crate) struct Room {
    /// Session keys of this relay's members, in joining order.
    pub(crate) local: Vec<usize>,
    /// Other relays' members, ordered by relay then session (so one relay's are a range).
    remote: BTreeSet<PeerAddr>,
    /// What its members may still have forwarded (signals per pair, joins per member).
    pub(crate) forward: Forwarding,
}

impl Room {
    /// Members in all: local and remote.
    pub(crate) fn len(&self) -> usize {
        self.local.len() + self.remote.len()
    }

    /// Remote members.
    pub(crate) fn remote_len(&self) -> usize {
        self.remote.len()
    }

    /// The remote members, by relay then session.
    pub(crate) fn remote(&self) -> impl Iterator<Item = PeerAddr> + '_ {
        self.remote.iter().copied()
    }

    /// Whether `addr` is a known remote member.
    pub(crate) fn has_remote(&self, addr: &PeerAddr) -> bool {
        self.remote.contains(addr)
    }

    /// Adds a remote member if the room has space (`max` members in all).
    pub(crate) fn add_remote(&mut self, addr: PeerAddr, max: usize) -> Added {
        if self.remote.contains(&addr) {
            Added::Known
        } else if self.len() >= max {
            Added::Full
        } else {
            self.remote.insert(addr);
            Added::New
        }
    }

    /// Removes a remote member; returns whether it was there.
    pub(crate) fn remove_remote(&mut self, addr: &PeerAddr) -> bool {
        self.remote.remove(addr)
    }

    /// Forgets every member served by `relay`; returns them.
    pub(crate) fn remove_relay(&mut self, relay: RelayTag) -> Vec<PeerAddr> {
        let gone: Vec<PeerAddr> = self.relay_range(relay).copied().collect();
        for addr in &gone {
            self.remote.remove(addr);
        }
        gone
    }

    /// Replaces `relay`'s members with `sessions` (duplicates ignored). Members it keeps are
    /// kept first; new ones are added while the room has space (`max` members in all).
    pub(crate) fn replace_relay(
        &mut self,
        relay: RelayTag,
        sessions: &[PeerId],
        max: usize,
    ) -> Changes {
        let wanted: BTreeSet<PeerId> = sessions.iter().copied().collect();
        let mut changes = Changes::default();
        for addr in self.relay_range(relay) {
            if !wanted.contains(&addr.session) {
                changes.removed.push(*addr);
            }
        }
        for addr in &changes.removed {
            self.remote.remove(addr);
        }
        for session in wanted {
            match self.add_remote(PeerAddr { relay, session }, max) {
                Added::New => changes.added.push(PeerAddr { relay, session }),
                Added::Known => {}
                Added::Full => changes.refused += 1,
            }
        }
        changes
    }

    fn relay_range(&self, relay: RelayTag) -> impl Iterator<Item = &PeerAddr> + '_ {
        let first = PeerAddr {
            relay,
            session: FIRST_SESSION,
        };
        let last = PeerAddr {
            relay,
            session: LAST_SESSION,
        };
        self.remote.range(first..=last)
    }
}

#[cfg(test)]
mod tests {
    use super::{Added, Changes, Room};
    use crate::protocol::{PeerAddr, PeerId, RelayTag};

    fn id(n: u32) -> PeerId {
        PeerId::new(n).expect("non-zero")
    }

    fn addr(relay: u8, n: u32) -> PeerAddr {
        PeerAddr {
            relay: RelayTag::from_bytes([relay; 8]),
            session: id(n),
        }
    }

    #[test]
    fn remote_members_are_bounded_with_local_ones() {
        let mut room = Room {
            local: vec![0, 1],
            ..Room::default()
        };
        assert_eq!(room.add_remote(addr(1, 1), 3), Added::New);
        assert_eq!(room.add_remote(addr(1, 1), 3), Added::Known);
        assert_eq!(room.add_remote(addr(1, 2), 3), Added::Full);
        assert_eq!(room.len(), 3);
        assert!(room.remove_remote(&addr(1, 1)));
        assert!(!room.remove_remote(&addr(1, 1)));
    }

    #[test]
    fn replacing_one_relay_leaves_the_others_alone() {
        let mut room = Room {
            local: vec![0],
            ..Room::default()
        };
        let tag = |b| RelayTag::from_bytes([b; 8]);
        room.replace_relay(tag(2), &[id(7)], 10);
        let changes = room.replace_relay(tag(1), &[id(1), id(2), id(2), id(u32::MAX)], 10);
        assert_eq!(
            changes.added,
            vec![addr(1, 1), addr(1, 2), addr(1, u32::MAX)]
        );
        let changes = room.replace_relay(tag(1), &[id(2), id(3)], 10);
        assert_eq!(
            changes,
            Changes {
                added: vec![addr(1, 3)],
                removed: vec![addr(1, 1), addr(1, u32::MAX)],
                refused: 0,
            }
        );
        assert_eq!(room.remove_relay(tag(1)), vec![addr(1, 2), addr(1, 3)]);
        assert_eq!(room.remote().collect::<Vec<_>>(), vec![addr(2, 7)]);
    }

    #[test]
    fn a_huge_snapshot_keeps_what_fits() {
        let mut room = Room {
            local: vec![0, 1],
            ..Room::default()
        };
        let tag = RelayTag::from_bytes([1; 8]);
        let sessions: Vec<PeerId> = (1..=10_000).map(id).collect();
        let changes = room.replace_relay(tag, &sessions, 5);
        assert_eq!(changes.added.len(), 3);
        assert_eq!(changes.refused, 10_000 - 3);
        assert_eq!(room.len(), 5);
        // A later, smaller snapshot keeps the members it names first.
        let changes = room.replace_relay(tag, &[id(3), id(9_000)], 5);
        assert_eq!(changes.removed, vec![addr(1, 1), addr(1, 2)]);
        assert_eq!(changes.added, vec![addr(1, 9_000)]);
        assert_eq!(room.remote_len(), 2);
    }
}
