//! What the core exchanges with the federation layer ([`crate::mesh`]).
//!
//! The core stays sans-IO: the driver hands it [`MeshInput`]s (what other relays said, already
//! validated by the mesh layer) through [`Relay::handle_mesh`](super::Relay::handle_mesh) and
//! drains [`MeshOutput`]s (what the core's own sessions did that other relays must hear)
//! through [`Relay::poll_mesh`](super::Relay::poll_mesh). A relay whose config says it is not
//! federated never queues outputs.
//!
//! What other relays say is bounded before it is kept: mesh input about a room with no
//! local member, or naming this relay, is ignored; a room never holds more than
//! `max_room_size` members, local and remote together; the directory keeps at most what one
//! `Nodes` answer can carry. Other relays' members are held to this relay's forwarding
//! limits ([`super::forward`]) like its own: a remote member's joins per room, and its
//! signals per remote sender→local target, past their budgets are dropped and counted.

use std::time::Instant;

use bootstrap_codec::RelayEntry;

use super::room::{Added, Room};
use super::Relay;
use crate::protocol::{PeerAddr, PeerId, RelayMessage, RelayTag, RoomId, MAX_ENTRY_LEN, MAX_NODES};

/// Something other relays of the federation said (validated by the mesh layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshInput {
    /// Relay `relay`'s complete member list for `room` (replaces what it said before; an
    /// empty list means it has none).
    Members {
        /// The room.
        room: RoomId,
        /// The relay that serves these sessions.
        relay: RelayTag,
        /// Its sessions in the room.
        sessions: Vec<PeerId>,
    },
    /// A session of another relay joined `room`.
    Joined {
        /// The room.
        room: RoomId,
        /// Who joined.
        peer: PeerAddr,
    },
    /// A session of another relay left `room`.
    Left {
        /// The room.
        room: RoomId,
        /// Who left.
        peer: PeerAddr,
    },
    /// A sealed signal from a session of another relay to one of ours.
    Signal {
        /// The room both are in.
        room: RoomId,
        /// The sender.
        from: PeerAddr,
        /// Our session it is for.
        to: PeerId,
        /// The opaque blob.
        blob: Vec<u8>,
    },
    /// Relay `relay` stopped serving `room` (it unsubscribed): forget its members there.
    RoomGone {
        /// The room.
        room: RoomId,
        /// The relay.
        relay: RelayTag,
    },
    /// Relay `relay` left the federation or died: forget all its members.
    RelayGone {
        /// The relay.
        relay: RelayTag,
    },
    /// The signed entries of the federation's other live relays, freshest first (answers
    /// `GetNodes` after the relay's own entry).
    Directory(Vec<Vec<u8>>),
}

/// Something this relay's sessions did that the federation must hear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshOutput {
    /// Our session joined `room`.
    Joined {
        /// The room.
        room: RoomId,
        /// Our session.
        session: PeerId,
    },
    /// Our session left `room` (or closed).
    Left {
        /// The room.
        room: RoomId,
        /// Our session.
        session: PeerId,
    },
    /// Our session signals a session of another relay.
    Signal {
        /// The room both are in.
        room: RoomId,
        /// Our session.
        from: PeerId,
        /// The recipient on another relay.
        to: PeerAddr,
        /// The opaque blob.
        blob: Vec<u8>,
    },
}

impl Relay {
    /// Applies one [`MeshInput`] (see [`Relay::handle_mesh`]).
    pub(super) fn on_mesh(&mut self, now: Instant, input: MeshInput) {
        if !self.meshes() {
            self.stats.mesh_ignored += 1;
            return;
        }
        match input {
            MeshInput::Members {
                room,
                relay,
                sessions,
            } => self.on_remote_members(now, room, relay, &sessions),
            MeshInput::Joined { room, peer } if !self.is_own(peer) => {
                self.on_remote_joined(now, room, peer);
            }
            MeshInput::Left { room, peer } if !self.is_own(peer) => {
                if let Some(members) = self.remote_room(room, peer.relay) {
                    if members.remove_remote(&peer) {
                        self.tell_remote_left(now, room, &[peer]);
                    }
                }
            }
            MeshInput::Signal {
                room,
                from,
                to,
                blob,
            } => self.signal_from_mesh(now, room, from, to, &blob),
            MeshInput::RoomGone { room, relay } => {
                if let Some(members) = self.remote_room(room, relay) {
                    let gone = members.remove_relay(relay);
                    self.tell_remote_left(now, room, &gone);
                }
            }
            MeshInput::RelayGone { relay } => self.on_relay_gone(now, relay),
            MeshInput::Directory(entries) => self.on_directory(entries),
            // About one of our own sessions.
            MeshInput::Joined { .. } | MeshInput::Left { .. } => self.stats.mesh_ignored += 1,
        }
    }

    /// The room, if it has a local member and `relay` is another relay (for a shard, this
    /// relay's tag names the other shards' members too); counts what it ignores.
    fn remote_room(&mut self, room: RoomId, relay: RelayTag) -> Option<&mut Room> {
        let found = if relay == self.config.tag && self.config.shard.is_none() {
            None
        } else {
            self.rooms.get_mut(&room)
        };
        if found.is_none() {
            self.stats.mesh_ignored += 1;
        }
        found
    }

    fn on_remote_members(
        &mut self,
        now: Instant,
        room: RoomId,
        relay: RelayTag,
        sessions: &[PeerId],
    ) {
        let max = usize::from(self.config.limits.max_room_size);
        // A shard hears this relay's other shards under its own tag: never its own sessions.
        let others: Vec<PeerId>;
        let sessions = if self.config.shard.is_some() {
            others = (sessions.iter().copied())
                .filter(|&session| !self.is_own(PeerAddr { relay, session }))
                .collect();
            &others
        } else {
            sessions
        };
        let Some(members) = self.remote_room(room, relay) else {
            return;
        };
        let changes = members.replace_relay(relay, sessions, max);
        self.stats.remote_members_refused += changes.refused as u64;
        self.tell_remote_left(now, room, &changes.removed);
        for peer in changes.added {
            self.tell_room(room, None, &RelayMessage::Joined2 { room, peer });
        }
    }

    fn on_remote_joined(&mut self, now: Instant, room: RoomId, peer: PeerAddr) {
        let (max, limits) = (usize::from(self.config.limits.max_room_size), self.forward);
        let Some(members) = self.remote_room(room, peer.relay) else {
            return;
        };
        // A join past the budget is not kept, so its leave is not told either.
        let fresh = !members.has_remote(&peer) && members.len() < max;
        if fresh {
            if let Err(refusal) = members.forward.allow_join(&limits, now, peer, true) {
                self.stats.mesh_ignored += 1;
                self.count_join_refusal(refusal);
                return;
            }
        }
        match members.add_remote(peer, max) {
            Added::New => {
                self.tell_room(room, None, &RelayMessage::Joined2 { room, peer });
            }
            Added::Known => {}
            Added::Full => self.stats.remote_members_refused += 1,
        }
    }

    fn on_relay_gone(&mut self, now: Instant, relay: RelayTag) {
        if relay == self.config.tag {
            self.stats.mesh_ignored += 1;
            return;
        }
        let gone: Vec<(RoomId, Vec<PeerAddr>)> = self
            .rooms
            .iter_mut()
            .map(|(room, members)| (*room, members.remove_relay(relay)))
            .filter(|(_, peers)| !peers.is_empty())
            .collect();
        for (room, peers) in gone {
            self.tell_remote_left(now, room, &peers);
        }
    }

    /// Keeps the entries a `Nodes` answer will list after our own: well-sized, decodable,
    /// not ours, at most `MAX_NODES - 1`, in the order given (freshest first).
    fn on_directory(&mut self, entries: Vec<Vec<u8>>) {
        let tag = self.config.tag;
        let own = self.config.entry_bytes.as_slice();
        self.directory = entries
            .into_iter()
            .filter(|e| !e.is_empty() && e.len() <= MAX_ENTRY_LEN && e.as_slice() != own)
            .filter(|e| {
                RelayEntry::decode(e).is_ok_and(|entry| RelayTag::of(entry.node_key()) != tag)
            })
            .take(MAX_NODES - 1)
            .collect();
    }

    /// Tells version 2 members that remote `peers` left `room`, each leave charged to the
    /// room's churn.
    fn tell_remote_left(&mut self, now: Instant, room: RoomId, peers: &[PeerAddr]) {
        for &peer in peers {
            if let Some(members) = self.rooms.get_mut(&room) {
                members.forward.note_leave(&self.forward, now);
            }
            self.tell_room(room, None, &RelayMessage::Left2 { room, peer });
        }
    }
}
