//! The messages relays gossip to each other (docs/federation.md "Wire format", vectors in
//! `fixtures/protocol/mesh.json`).
//!
//! Same rules as Layer 1: one type byte, fixed big-endian fields, at most one trailing
//! variable field, no trailing bytes. Times are Unix milliseconds from the author's wall
//! clock. [`MeshMessage::decode`] borrows from its input, never panics and names what is
//! wrong; it refuses what the protocol forbids (empty or over-long entries, more members than
//! fit a `Room2` frame, blobs that would not fit a `Signal2` frame, zero session ids).

use std::num::NonZeroU16;

use crate::protocol::{
    PeerAddr, PeerId, PeerList, RoomId, MAX_BLOB2_LEN, MAX_ENTRY_LEN, MAX_ROOM_SIZE_LIMIT,
};

/// Type bytes of the mesh messages.
pub mod mesh_type {
    /// Relays topic: a signed relay entry.
    pub const ANNOUNCE: u8 = 0x01;
    /// Room topic: the author's complete member list.
    pub const MEMBERS: u8 = 0x10;
    /// Room topic: one of the author's sessions joined.
    pub const JOINED: u8 = 0x11;
    /// Room topic: one of the author's sessions left.
    pub const LEFT: u8 = 0x12;
    /// Room topic: a signal from one of the author's sessions.
    pub const SIGNAL: u8 = 0x13;
}

/// Bytes a room message spends before its body: type, room, `sent_at_ms`.
const ROOM_HEADER_LEN: usize = 1 + RoomId::LEN + 8;

/// Most sessions a `Members` message lists: what a `Room2` frame of 12-byte addresses holds
/// (1362).
pub const MAX_MEMBERS: usize = MAX_ROOM_SIZE_LIMIT as usize;

/// Largest signal blob: what a `Signal2` frame (type, room, sender address) leaves (16339).
pub const MAX_SIGNAL_BLOB_LEN: usize = MAX_BLOB2_LEN;

/// Largest mesh message (a `Signal` with the largest blob); longer data is refused unread.
pub const MAX_MESSAGE_LEN: usize =
    ROOM_HEADER_LEN + PeerId::LEN + PeerAddr::LEN + MAX_SIGNAL_BLOB_LEN;

/// Why bytes are not a mesh message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// No bytes at all.
    #[error("empty mesh message")]
    Empty,
    /// Longer than [`MAX_MESSAGE_LEN`].
    #[error("mesh message of {len} bytes exceeds the {MAX_MESSAGE_LEN}-byte limit")]
    TooLarge {
        /// The message's length.
        len: usize,
    },
    /// A type byte the mesh does not define.
    #[error("unknown mesh message type 0x{0:02x}")]
    UnknownType(u8),
    /// The bytes end before a fixed field.
    #[error("mesh message 0x{message_type:02x} truncated")]
    Truncated {
        /// The type byte.
        message_type: u8,
    },
    /// Bytes left over after the last field.
    #[error("mesh message 0x{message_type:02x} has trailing bytes")]
    TrailingBytes {
        /// The type byte.
        message_type: u8,
    },
    /// A variable field longer than the protocol allows.
    #[error("mesh message 0x{message_type:02x} has an oversized {field}")]
    Oversized {
        /// The type byte.
        message_type: u8,
        /// Which field.
        field: &'static str,
    },
    /// A field holds a value the protocol forbids (zero session id, empty entry, …).
    #[error("mesh message 0x{message_type:02x} has an invalid {field}")]
    Invalid {
        /// The type byte.
        message_type: u8,
        /// Which field.
        field: &'static str,
    },
}

/// A relay's announcement on the relays topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announce<'a> {
    /// When the author announced, Unix milliseconds.
    pub issued_at_ms: u64,
    /// The author's mesh TCP port, if it listens for other relays.
    pub mesh_port: Option<NonZeroU16>,
    /// The author's signed relay entry (`RelayEntry::to_bytes`), 1..=1024 bytes.
    pub entry: &'a [u8],
}

/// What a room message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomBody<'a> {
    /// The author's complete member list for the room (at most [`MAX_MEMBERS`]).
    Members(PeerList<'a>),
    /// One of the author's sessions joined.
    Joined(PeerId),
    /// One of the author's sessions left.
    Left(PeerId),
    /// A sealed signal from one of the author's sessions.
    Signal {
        /// The author's session that sends it.
        from: PeerId,
        /// The recipient, on any relay.
        to: PeerAddr,
        /// The opaque blob (at most [`MAX_SIGNAL_BLOB_LEN`]).
        blob: &'a [u8],
    },
}

/// A message on a room topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomMessage<'a> {
    /// The room (must be the topic's).
    pub room: RoomId,
    /// When the author sent it, Unix milliseconds.
    pub sent_at_ms: u64,
    /// What it says.
    pub body: RoomBody<'a>,
}

/// A mesh message of either topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeshMessage<'a> {
    /// `0x01`, relays topic.
    Announce(Announce<'a>),
    /// `0x10`..=`0x13`, a room topic.
    Room(RoomMessage<'a>),
}

/// A cursor over a message: takes fixed fields off the front.
struct Fields<'a> {
    rest: &'a [u8],
    message_type: u8,
}

impl<'a> Fields<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let Some((head, rest)) = self.rest.split_first_chunk::<N>() else {
            return Err(DecodeError::Truncated {
                message_type: self.message_type,
            });
        };
        self.rest = rest;
        Ok(*head)
    }

    fn session(&mut self) -> Result<PeerId, DecodeError> {
        PeerId::new(u32::from_be_bytes(self.take()?)).ok_or(DecodeError::Invalid {
            message_type: self.message_type,
            field: "session id",
        })
    }

    fn oversized(&self, field: &'static str) -> DecodeError {
        DecodeError::Oversized {
            message_type: self.message_type,
            field,
        }
    }

    fn invalid(&self, field: &'static str) -> DecodeError {
        DecodeError::Invalid {
            message_type: self.message_type,
            field,
        }
    }
}

impl<'a> MeshMessage<'a> {
    /// Decodes one message; every byte must belong to it.
    pub fn decode(data: &'a [u8]) -> Result<Self, DecodeError> {
        if data.len() > MAX_MESSAGE_LEN {
            return Err(DecodeError::TooLarge { len: data.len() });
        }
        let (&message_type, rest) = data.split_first().ok_or(DecodeError::Empty)?;
        let mut f = Fields { rest, message_type };
        if message_type == mesh_type::ANNOUNCE {
            let issued_at_ms = u64::from_be_bytes(f.take()?);
            let mesh_port = NonZeroU16::new(u16::from_be_bytes(f.take()?));
            let entry = f.rest;
            if entry.is_empty() {
                return Err(f.invalid("entry"));
            }
            if entry.len() > MAX_ENTRY_LEN {
                return Err(f.oversized("entry"));
            }
            return Ok(MeshMessage::Announce(Announce {
                issued_at_ms,
                mesh_port,
                entry,
            }));
        }
        if !(mesh_type::MEMBERS..=mesh_type::SIGNAL).contains(&message_type) {
            return Err(DecodeError::UnknownType(message_type));
        }
        let room = RoomId::from_bytes(f.take()?);
        let sent_at_ms = u64::from_be_bytes(f.take()?);
        let body = match message_type {
            mesh_type::MEMBERS => {
                if f.rest.len() > MAX_MEMBERS * PeerId::LEN {
                    return Err(f.oversized("sessions"));
                }
                let sessions = PeerList::from_wire(f.rest).ok_or(f.invalid("sessions"))?;
                RoomBody::Members(sessions)
            }
            mesh_type::JOINED | mesh_type::LEFT => {
                let session = f.session()?;
                if !f.rest.is_empty() {
                    return Err(DecodeError::TrailingBytes { message_type });
                }
                if message_type == mesh_type::JOINED {
                    RoomBody::Joined(session)
                } else {
                    RoomBody::Left(session)
                }
            }
            _ => {
                let from = f.session()?;
                let to: [u8; PeerAddr::LEN] = f.take()?;
                let to = PeerAddr::from_wire(&to).ok_or(f.invalid("to"))?;
                // The length cap above leaves at most MAX_SIGNAL_BLOB_LEN bytes here.
                RoomBody::Signal {
                    from,
                    to,
                    blob: f.rest,
                }
            }
        };
        Ok(MeshMessage::Room(RoomMessage {
            room,
            sent_at_ms,
            body,
        }))
    }

    /// The type byte.
    pub fn message_type(&self) -> u8 {
        match self {
            MeshMessage::Announce(_) => mesh_type::ANNOUNCE,
            MeshMessage::Room(m) => match m.body {
                RoomBody::Members(_) => mesh_type::MEMBERS,
                RoomBody::Joined(_) => mesh_type::JOINED,
                RoomBody::Left(_) => mesh_type::LEFT,
                RoomBody::Signal { .. } => mesh_type::SIGNAL,
            },
        }
    }

    /// Appends the wire form to `out`. Fields are written as given: a value built out of
    /// bounds (an empty entry, too many members) gives bytes [`Self::decode`] refuses.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.message_type());
        match self {
            MeshMessage::Announce(a) => {
                out.extend_from_slice(&a.issued_at_ms.to_be_bytes());
                let port = a.mesh_port.map_or(0, NonZeroU16::get);
                out.extend_from_slice(&port.to_be_bytes());
                out.extend_from_slice(a.entry);
            }
            MeshMessage::Room(m) => {
                out.extend_from_slice(m.room.as_bytes());
                out.extend_from_slice(&m.sent_at_ms.to_be_bytes());
                match m.body {
                    RoomBody::Members(sessions) => PeerList::encode_into(sessions.iter(), out),
                    RoomBody::Joined(session) | RoomBody::Left(session) => {
                        out.extend_from_slice(&session.get().to_be_bytes());
                    }
                    RoomBody::Signal { from, to, blob } => {
                        out.extend_from_slice(&from.get().to_be_bytes());
                        to.encode_into(out);
                        out.extend_from_slice(blob);
                    }
                }
            }
        }
    }

    /// The wire form.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}
