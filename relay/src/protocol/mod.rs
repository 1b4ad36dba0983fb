//! Layer-1 protocol spoken over the relay DataChannel (versions 1 and [`PROTOCOL_VERSION`]).
//!
//! Every DataChannel message is one frame: a type byte followed by a fixed layout of
//! big-endian fields; a variable-length trailing field (a signal blob, a peer list, node
//! entries) runs to the end of the frame, so there is nothing to disagree about. Frames are at
//! most [`MAX_FRAME_LEN`] bytes. Decoders borrow from the input, never allocate, never panic,
//! and reject trailing bytes. The full description with hex examples is `docs/protocol.md`.
//!
//! The relay never sees a room name, only an opaque 32-byte [`RoomId`] (a hash the clients
//! derive), and forwards signal blobs without looking inside them.
//!
//! Version 2 adds peer addresses that name a session anywhere in a federation
//! ([`PeerAddr`]: relay tag + session id) and the frames that carry them (`Signal2`,
//! `Room2`, `Joined2`, `Left2`). Version 1 frames keep their layout.

mod client;
mod codes;
mod reader;
mod relay;

use std::fmt;

pub use client::ClientMessage;
pub use codes::{CloseCode, ErrorCode};
pub use reader::DecodeError;
pub use relay::{AddrList, NodeEntries, PeerList, RelayMessage, Welcome};

/// The newest protocol version this crate speaks, sent in `Hello` and `Welcome`.
pub const PROTOCOL_VERSION: u8 = 2;

/// The first protocol version: same-relay peers only, addressed by [`PeerId`].
pub const PROTOCOL_V1: u8 = 1;

/// Whether this crate speaks `version`.
pub const fn is_supported(version: u8) -> bool {
    version == PROTOCOL_V1 || version == PROTOCOL_VERSION
}

/// Largest frame, in bytes, either side may send. Larger frames are rejected unread.
pub const MAX_FRAME_LEN: usize = bootstrap_codec::MAX_MESSAGE_SIZE as usize;

/// Bytes a `Signal` frame spends before its blob (type, room, peer id).
pub const SIGNAL_HEADER_LEN: usize = 1 + RoomId::LEN + PeerId::LEN;

/// Largest signal blob, in bytes: whatever fits in a frame after the signal header.
pub const MAX_BLOB_LEN: usize = MAX_FRAME_LEN - SIGNAL_HEADER_LEN;

/// Bytes a `Signal2` frame spends before its blob (type, room, peer address).
pub const SIGNAL2_HEADER_LEN: usize = 1 + RoomId::LEN + PeerAddr::LEN;

/// Largest `Signal2` blob, in bytes (16339).
pub const MAX_BLOB2_LEN: usize = MAX_FRAME_LEN - SIGNAL2_HEADER_LEN;

/// Most node entries a `Nodes` answer carries.
pub const MAX_NODES: usize = 16;

/// Largest single node entry (a signed relay entry) in a `Welcome` or `Nodes` frame.
pub const MAX_ENTRY_LEN: usize = 1024;

/// Largest room size any relay may advertise: a full member list of peer addresses (a
/// `Room2` frame) must fit in one frame: 1362.
pub const MAX_ROOM_SIZE_LIMIT: u16 = ((MAX_FRAME_LEN - 1 - RoomId::LEN) / PeerAddr::LEN) as u16;

/// Opaque 32-byte room identifier chosen by clients (for example a hash of a room secret).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId([u8; 32]);

impl RoomId {
    /// Length in bytes on the wire.
    pub const LEN: usize = 32;

    /// Wraps 32 bytes as a room id.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only a prefix: enough to tell rooms apart in logs.
        write!(f, "RoomId({}…)", hex::encode(&self.0[..4]))
    }
}

/// Identifier the relay assigns to one session for its whole life; other members of a room
/// address signals to it. Never zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PeerId(u32);

impl PeerId {
    /// Length in bytes on the wire.
    pub const LEN: usize = 4;

    /// Wraps a non-zero value; `None` for zero.
    pub const fn new(value: u32) -> Option<Self> {
        if value == 0 {
            None
        } else {
            Some(Self(value))
        }
    }

    /// The numeric value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Names a relay inside a peer address: the first 8 bytes of its Ed25519 node key `nk`
/// (protocol version 2). Grinding a key whose first 64 bits match another relay's is out of
/// reach; a relay that still meets two relays with one tag keeps the first (`crate::mesh`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelayTag([u8; 8]);

impl RelayTag {
    /// Length in bytes on the wire.
    pub const LEN: usize = 8;

    /// Wraps 8 bytes as a relay tag.
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }

    /// The tag of the relay whose node key is `nk`.
    pub fn of(nk: &bootstrap_codec::NodeKey) -> Self {
        let mut tag = [0u8; 8];
        tag.copy_from_slice(&nk.as_bytes()[..8]);
        Self(tag)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl fmt::Debug for RelayTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayTag({})", hex::encode(self.0))
    }
}

impl fmt::Display for RelayTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// A session anywhere in a federation (protocol version 2): the relay that serves it and the
/// peer id that relay gave it. 12 bytes on the wire: tag, then the id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PeerAddr {
    /// The relay serving the session.
    pub relay: RelayTag,
    /// The session's id on that relay.
    pub session: PeerId,
}

impl PeerAddr {
    /// Length in bytes on the wire.
    pub const LEN: usize = RelayTag::LEN + PeerId::LEN;

    /// Appends the wire form to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.relay.as_bytes());
        out.extend_from_slice(&self.session.get().to_be_bytes());
    }

    /// Reads the wire form; `None` unless exactly 12 bytes with a non-zero session id.
    pub fn from_wire(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; 12] = bytes.try_into().ok()?;
        let mut tag = [0u8; 8];
        tag.copy_from_slice(&bytes[..8]);
        let session = PeerId::new(u32::from_be_bytes([
            bytes[8], bytes[9], bytes[10], bytes[11],
        ]))?;
        Some(Self {
            relay: RelayTag(tag),
            session,
        })
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.relay, self.session)
    }
}

/// Message type bytes. Client-to-relay types are below 0x80, relay-to-client at or above.
pub mod msg_type {
    /// Client: first message, carries the protocol version.
    pub const HELLO: u8 = 0x01;
    /// Client: join a room.
    pub const JOIN: u8 = 0x02;
    /// Client: leave a room.
    pub const LEAVE: u8 = 0x03;
    /// Client: forward a blob to a peer (client) / a forwarded blob (relay, [`SIGNAL_IN`]).
    pub const SIGNAL: u8 = 0x04;
    /// Client: keepalive request.
    pub const PING: u8 = 0x05;
    /// Client: ask for the relay's known node entries.
    pub const GET_NODES: u8 = 0x06;
    /// Client (v2): forward a blob to a peer address.
    pub const SIGNAL2: u8 = 0x07;
    /// Relay: answer to `Hello`.
    pub const WELCOME: u8 = 0x81;
    /// Relay: answer to `Join`, listing the other members.
    pub const ROOM: u8 = 0x82;
    /// Relay: a peer joined a room you are in.
    pub const JOINED: u8 = 0x83;
    /// Relay: a peer (or you) left a room.
    pub const LEFT: u8 = 0x84;
    /// Relay: a signal blob from a peer.
    pub const SIGNAL_IN: u8 = 0x85;
    /// Relay: answer to `Ping`.
    pub const PONG: u8 = 0x86;
    /// Relay: answer to `GetNodes`.
    pub const NODES: u8 = 0x87;
    /// Relay: a request failed; the session stays open.
    pub const ERROR: u8 = 0x88;
    /// Relay: the relay is closing this session.
    pub const CLOSING: u8 = 0x89;
    /// Relay (v2): answer to `Join`, listing the other members' addresses.
    pub const ROOM2: u8 = 0x8a;
    /// Relay (v2): a peer address joined a room you are in.
    pub const JOINED2: u8 = 0x8b;
    /// Relay (v2): a peer address (or you) left a room.
    pub const LEFT2: u8 = 0x8c;
    /// Relay (v2): a signal blob from a peer address.
    pub const SIGNAL2_IN: u8 = 0x8d;
}

#[cfg(test)]
mod tests;
