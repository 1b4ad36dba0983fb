//! The other members of a load client's room, as the relay's version 2 frames tell them:
//! each by the full address the relay announced (a member on another shard or relay carries
//! that shard's or relay's tag, not the tag of the entry this client dialled).

use crate::protocol::{PeerAddr, RelayMessage, RoomId};

/// The members of one room other than this client, in the order they became known.
#[derive(Debug)]
pub(super) struct Members {
    room: RoomId,
    /// Our own address, once a delivery has shown it (see the ledger).
    me: Option<PeerAddr>,
    peers: Vec<PeerAddr>,
}

impl Members {
    /// No member yet, in `room`; our own address is not known yet.
    pub(super) fn new(room: RoomId) -> Self {
        Self {
            room,
            me: None,
            peers: Vec::new(),
        }
    }

    /// Our own address is `me` (a signal addressed to it reached us): it is no member.
    pub(super) fn set_me(&mut self, me: PeerAddr) {
        if self.me.is_none() {
            self.me = Some(me);
            self.peers.retain(|p| *p != me);
        }
    }

    /// Follows `Room2`, `Joined2` and `Left2` for our room; every other frame is ignored.
    /// A member is listed once however often it is announced (a relay re-sends its members
    /// when another relay subscribes to the room).
    pub(super) fn apply(&mut self, message: &RelayMessage<'_>) {
        match *message {
            RelayMessage::Room2 { room, peers } if room == self.room => {
                for peer in peers.iter() {
                    self.add(peer);
                }
            }
            RelayMessage::Joined2 { room, peer } if room == self.room => self.add(peer),
            RelayMessage::Left2 { room, peer } if room == self.room => {
                self.peers.retain(|p| *p != peer);
            }
            _ => {}
        }
    }

    fn add(&mut self, peer: PeerAddr) {
        // Rooms hold at most MAX_ROOM_SIZE_LIMIT members: a linear scan is cheap enough.
        if Some(peer) != self.me && !self.peers.contains(&peer) {
            self.peers.push(peer);
        }
    }

    /// The member to signal on turn `turn` (round robin), skipping those `present` says
    /// are gone; `None` if no member is known and present.
    pub(super) fn pick(
        &self,
        turn: usize,
        present: impl Fn(&PeerAddr) -> bool,
    ) -> Option<PeerAddr> {
        let n = self.peers.len();
        (0..n)
            .map(|k| self.peers[(turn + k) % n])
            .find(|peer| present(peer))
    }

    /// How many members are known.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.peers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Members;
    use crate::protocol::{AddrList, PeerAddr, PeerId, RelayMessage, RelayTag, RoomId};

    const ROOM: RoomId = RoomId::from_bytes([0xaa; 32]);
    const OTHER_ROOM: RoomId = RoomId::from_bytes([0xbb; 32]);

    fn addr(tag: u8, session: u32) -> PeerAddr {
        PeerAddr {
            relay: RelayTag::from_bytes([tag; 8]),
            session: PeerId::new(session).expect("tests use non-zero ids"),
        }
    }

    #[test]
    fn members_come_from_room2_and_joined2_once_each() {
        let me = addr(1, 1);
        let mut members = Members::new(ROOM);
        members.set_me(me);
        let mut wire = Vec::new();
        AddrList::encode_into([addr(1, 2), addr(2, 7)], &mut wire);
        let peers = AddrList::from_wire(&wire).expect("valid list");
        members.apply(&RelayMessage::Room2 { room: ROOM, peers });
        // A snapshot from the other relay repeats a member; our own address is not a peer.
        for peer in [addr(2, 7), me, addr(2, 9)] {
            members.apply(&RelayMessage::Joined2 { room: ROOM, peer });
        }
        assert_eq!(members.len(), 3);
        let picked: Vec<_> = (0..4).filter_map(|t| members.pick(t, |_| true)).collect();
        assert_eq!(picked, [addr(1, 2), addr(2, 7), addr(2, 9), addr(1, 2)]);
        // A member known to be gone is skipped; with none present there is no pick.
        let gone = addr(2, 7);
        let picked: Vec<_> = (0..3)
            .filter_map(|t| members.pick(t, |p| *p != gone))
            .collect();
        assert_eq!(picked, [addr(1, 2), addr(2, 9), addr(2, 9)]);
        assert_eq!(members.pick(0, |_| false), None);
    }

    #[test]
    fn our_own_address_is_dropped_once_known() {
        // Before a delivery shows it, our address (a shard's tag, unknown to us) looks like
        // anyone's; once known it is no member.
        let mut members = Members::new(ROOM);
        for peer in [addr(3, 1), addr(1, 1)] {
            members.apply(&RelayMessage::Joined2 { room: ROOM, peer });
        }
        members.set_me(addr(3, 1));
        assert_eq!(members.len(), 1);
        assert_eq!(members.pick(0, |_| true), Some(addr(1, 1)));
        members.apply(&RelayMessage::Joined2 {
            room: ROOM,
            peer: addr(3, 1),
        });
        assert_eq!(members.len(), 1);
    }

    #[test]
    fn left2_and_other_rooms() {
        let mut members = Members::new(ROOM);
        members.apply(&RelayMessage::Joined2 {
            room: ROOM,
            peer: addr(2, 7),
        });
        // Another room's traffic and v1 frames change nothing.
        members.apply(&RelayMessage::Joined2 {
            room: OTHER_ROOM,
            peer: addr(2, 8),
        });
        members.apply(&RelayMessage::Joined {
            room: ROOM,
            peer: PeerId::new(3).expect("non-zero"),
        });
        members.apply(&RelayMessage::Left2 {
            room: OTHER_ROOM,
            peer: addr(2, 7),
        });
        assert_eq!(members.len(), 1);
        members.apply(&RelayMessage::Left2 {
            room: ROOM,
            peer: addr(2, 7),
        });
        assert_eq!(members.len(), 0);
        assert_eq!(members.pick(0, |_| true), None);
    }
}
