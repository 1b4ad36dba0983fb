//! The hub: tells each shard of a relay about the other shards' members, sans-IO.
//!
//! Each shard is a relay core that hears the other shards like other relays of a federation
//! ([`MeshOutput`] out, [`MeshInput`] in), except that their members carry this relay's own
//! tag (a peer id names its shard, [`Shard::owner`]). The hub takes what one shard's sessions
//! did and says who must hear it:
//!
//! - a join goes to every other shard with a member in the room, and a shard that just got
//!   its first member in a room gets the other shards' members there as one `Members` list
//!   (a core keeps nothing about a room it has no member in, so it knew none of them);
//! - a leave goes to every other shard with a member in the room;
//! - a signal goes to the shard that gave out its target's peer id (one to another relay's
//!   member cannot happen on a relay that is not federated, and is dropped and counted).
//!
//! The hub keeps each room's members per shard while the room has one, and nothing else.
//! Whoever runs it must hand each shard its inputs in the order the hub produced them.

use std::collections::{BTreeSet, HashMap};

use crate::core::{MeshInput, MeshOutput, Shard};
use crate::protocol::{PeerAddr, PeerId, RelayTag, RoomId};

/// The members of a relay's rooms per shard, and where each shard's news must go.
#[derive(Debug)]
pub struct Hub {
    tag: RelayTag,
    /// Per room, each shard's members there; a room is here while it has a member.
    rooms: HashMap<RoomId, Vec<BTreeSet<PeerId>>>,
    shards: usize,
    dropped: u64,
}

impl Hub {
    /// A hub for `shards` shards of the relay whose tag is `tag`.
    pub fn new(tag: RelayTag, shards: usize) -> Self {
        Self {
            tag,
            rooms: HashMap::new(),
            shards: shards.max(1),
            dropped: 0,
        }
    }

    /// Takes `output` from shard `from`; appends to `out` each shard that must hear of it,
    /// with what it must hear, in order.
    pub fn handle(&mut self, from: usize, output: MeshOutput, out: &mut Vec<(usize, MeshInput)>) {
        if from >= self.shards {
            self.dropped += 1;
            return;
        }
        match output {
            MeshOutput::Joined { room, session } => self.joined(from, room, session, out),
            MeshOutput::Left { room, session } => self.left(from, room, session, out),
            MeshOutput::Signal {
                room,
                from: sender,
                to,
                blob,
            } => {
                let count = u32::try_from(self.shards).unwrap_or(u32::MAX);
                let target = Shard::owner(to.session, count) as usize;
                if to.relay != self.tag || target == from {
                    self.dropped += 1;
                    return;
                }
                let from_addr = self.addr(sender);
                out.push((
                    target,
                    MeshInput::Signal {
                        room,
                        from: from_addr,
                        to: to.session,
                        blob,
                    },
                ));
            }
        }
    }

    /// Outputs the hub could not route: signals to another relay's member or to the sender's
    /// own shard, or outputs from a shard it does not have.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn addr(&self, session: PeerId) -> PeerAddr {
        PeerAddr {
            relay: self.tag,
            session,
        }
    }

    fn joined(
        &mut self,
        from: usize,
        room: RoomId,
        session: PeerId,
        out: &mut Vec<(usize, MeshInput)>,
    ) {
        let peer = self.addr(session);
        let shards = self.shards;
        let members = self
            .rooms
            .entry(room)
            .or_insert_with(|| vec![BTreeSet::new(); shards]);
        let first = members[from].is_empty();
        if !members[from].insert(session) {
            return;
        }
        let mut others = Vec::new();
        for (shard, theirs) in members.iter().enumerate() {
            if shard == from || theirs.is_empty() {
                continue;
            }
            out.push((shard, MeshInput::Joined { room, peer }));
            if first {
                others.extend(theirs.iter().copied());
            }
        }
        if !others.is_empty() {
            let relay = self.tag;
            out.push((
                from,
                MeshInput::Members {
                    room,
                    relay,
                    sessions: others,
                },
            ));
        }
    }

    fn left(
        &mut self,
        from: usize,
        room: RoomId,
        session: PeerId,
        out: &mut Vec<(usize, MeshInput)>,
    ) {
        let peer = self.addr(session);
        let Some(members) = self.rooms.get_mut(&room) else {
            return;
        };
        if !members[from].remove(&session) {
            return;
        }
        for (shard, theirs) in members.iter().enumerate() {
            if shard != from && !theirs.is_empty() {
                out.push((shard, MeshInput::Left { room, peer }));
            }
        }
        if members.iter().all(BTreeSet::is_empty) {
            self.rooms.remove(&room);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Hub;
    use crate::core::{MeshInput, MeshOutput};
    use crate::protocol::{PeerAddr, PeerId, RelayTag, RoomId};

    const TAG: RelayTag = RelayTag::from_bytes([7; 8]);

    fn id(n: u32) -> PeerId {
        PeerId::new(n).expect("non-zero")
    }

    fn addr(n: u32) -> PeerAddr {
        PeerAddr {
            relay: TAG,
            session: id(n),
        }
    }

    /// What `shard`'s `output` makes the hub tell the shards.
    fn tell(hub: &mut Hub, shard: usize, output: MeshOutput) -> Vec<(usize, MeshInput)> {
        let mut out = Vec::new();
        hub.handle(shard, output, &mut out);
        out
    }

    fn joins(room: RoomId, n: u32) -> MeshOutput {
        MeshOutput::Joined {
            room,
            session: id(n),
        }
    }

    fn leaves(room: RoomId, n: u32) -> MeshOutput {
        MeshOutput::Left {
            room,
            session: id(n),
        }
    }

    #[test]
    fn joins_leaves_and_signals_reach_the_right_shards() {
        let room = RoomId::from_bytes([1; 32]);
        let hub = &mut Hub::new(TAG, 3);
        let joined = |n| MeshInput::Joined {
            room,
            peer: addr(n),
        };
        let left = |n| MeshInput::Left {
            room,
            peer: addr(n),
        };
        let members = |ns: &[u32]| MeshInput::Members {
            room,
            relay: TAG,
            sessions: ns.iter().map(|&n| id(n)).collect(),
        };
        // Shard 0 gives out 1, 4, …; shard 1 gives out 2, 5, …; shard 2 gives out 3, 6, ….
        assert_eq!(
            tell(hub, 0, joins(room, 1)),
            vec![],
            "nobody else is in the room"
        );
        assert_eq!(
            tell(hub, 1, joins(room, 2)),
            vec![(0, joined(2)), (1, members(&[1]))]
        );
        assert_eq!(
            tell(hub, 1, joins(room, 5)),
            vec![(0, joined(5))],
            "shard 1 already had the list"
        );
        assert_eq!(
            tell(hub, 2, joins(room, 3)),
            vec![(0, joined(3)), (1, joined(3)), (2, members(&[1, 2, 5]))]
        );
        let signal = |to| MeshOutput::Signal {
            room,
            from: id(3),
            to,
            blob: b"x".to_vec(),
        };
        assert_eq!(
            tell(hub, 2, signal(addr(5))),
            vec![(
                1,
                MeshInput::Signal {
                    room,
                    from: addr(3),
                    to: id(5),
                    blob: b"x".to_vec()
                }
            )]
        );
        // To its own shard, or to another relay: not the hub's to route.
        assert_eq!(tell(hub, 2, signal(addr(6))), vec![]);
        let elsewhere = PeerAddr {
            relay: RelayTag::from_bytes([9; 8]),
            session: id(1),
        };
        assert_eq!(tell(hub, 2, signal(elsewhere)), vec![]);
        assert_eq!(hub.dropped(), 2);

        assert_eq!(
            tell(hub, 0, leaves(room, 1)),
            vec![(1, left(1)), (2, left(1))]
        );
        // A leave it never heard the join of is nobody's news.
        assert_eq!(tell(hub, 0, leaves(room, 4)), vec![]);
        for (shard, session) in [(1, 2), (1, 5), (2, 3)] {
            tell(hub, shard, leaves(room, session));
        }
        assert!(hub.rooms.is_empty(), "an empty room is forgotten");
    }
}
