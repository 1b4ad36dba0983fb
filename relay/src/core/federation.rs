//! What the core exchanges with the federation layer ([`crate::mesh`]).
//!
//! The core stays sans-IO: the driver hands it [`MeshInput`]s (what other relays said, already
//! validated by the mesh layer) through [`Relay::handle_mesh`](super::Relay::handle_mesh) and
//! drains [`MeshOutput`]s (what the core's own sessions did that other relays must hear)
//! through [`Relay::poll_mesh`](super::Relay::poll_mesh). A relay whose config says it is not
//! federated never queues outputs.

use crate::protocol::{PeerAddr, PeerId, RelayTag, RoomId};

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
