//! Messages a client sends to the relay.

use super::msg_type as t;
use super::reader::{DecodeError, Reader};
use super::{PeerAddr, PeerId, RoomId, MAX_BLOB2_LEN, MAX_BLOB_LEN};

/// A client-to-relay frame. Borrows its blob from the decoded buffer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClientMessage<'a> {
    /// First message of a session: the protocol version the client speaks.
    Hello {
        /// Protocol version.
        version: u8,
    },
    /// Join a room.
    Join {
        /// The room.
        room: RoomId,
    },
    /// Leave a room.
    Leave {
        /// The room.
        room: RoomId,
    },
    /// Forward `blob` to peer `to`, a member of `room` (which the sender must also be in).
    Signal {
        /// The room both peers are in.
        room: RoomId,
        /// The recipient.
        to: PeerId,
        /// Opaque payload, at most [`MAX_BLOB_LEN`] bytes.
        blob: &'a [u8],
    },
    /// Keepalive; the relay answers `Pong` with the same nonce.
    Ping {
        /// Echoed back.
        nonce: u64,
    },
    /// Ask for the node entries the relay knows (its own, then its federation's).
    GetNodes,
    /// Version 2: forward `blob` to peer address `to`, a member of `room` on any relay of
    /// the federation (which the sender must also be in).
    Signal2 {
        /// The room both peers are in.
        room: RoomId,
        /// The recipient.
        to: PeerAddr,
        /// Opaque payload, at most [`MAX_BLOB2_LEN`] bytes.
        blob: &'a [u8],
    },
}

impl<'a> ClientMessage<'a> {
    /// Decodes one frame.
    pub fn decode(frame: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(frame)?;
        let message = match r.message_type() {
            t::HELLO => Self::Hello { version: r.u8()? },
            t::JOIN => Self::Join { room: r.room()? },
            t::LEAVE => Self::Leave { room: r.room()? },
            t::SIGNAL => Self::Signal {
                room: r.room()?,
                to: r.peer()?,
                // The frame length check bounds the blob to MAX_BLOB_LEN.
                blob: r.rest(),
            },
            t::PING => Self::Ping { nonce: r.u64()? },
            t::GET_NODES => Self::GetNodes,
            t::SIGNAL2 => Self::Signal2 {
                room: r.room()?,
                to: r.addr()?,
                // The frame length check bounds the blob to MAX_BLOB2_LEN.
                blob: r.rest(),
            },
            other => return Err(DecodeError::UnknownType(other)),
        };
        r.finish()?;
        Ok(message)
    }

    /// The type byte this message encodes with.
    pub fn message_type(&self) -> u8 {
        match self {
            Self::Hello { .. } => t::HELLO,
            Self::Join { .. } => t::JOIN,
            Self::Leave { .. } => t::LEAVE,
            Self::Signal { .. } => t::SIGNAL,
            Self::Ping { .. } => t::PING,
            Self::GetNodes => t::GET_NODES,
            Self::Signal2 { .. } => t::SIGNAL2,
        }
    }

    /// Appends the frame to `out`. The caller keeps blobs within [`MAX_BLOB_LEN`] (or
    /// [`MAX_BLOB2_LEN`] for `Signal2`); a longer
    /// blob produces a frame the relay rejects as too large.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.message_type());
        match self {
            Self::Hello { version } => out.push(*version),
            Self::Join { room } | Self::Leave { room } => out.extend_from_slice(room.as_bytes()),
            Self::Signal { room, to, blob } => {
                debug_assert!(blob.len() <= MAX_BLOB_LEN, "blob over MAX_BLOB_LEN");
                out.extend_from_slice(room.as_bytes());
                out.extend_from_slice(&to.get().to_be_bytes());
                out.extend_from_slice(blob);
            }
            Self::Ping { nonce } => out.extend_from_slice(&nonce.to_be_bytes()),
            Self::GetNodes => {}
            Self::Signal2 { room, to, blob } => {
                debug_assert!(blob.len() <= MAX_BLOB2_LEN, "blob over MAX_BLOB2_LEN");
                out.extend_from_slice(room.as_bytes());
                to.encode_into(out);
                out.extend_from_slice(blob);
            }
        }
    }

    /// The encoded frame as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}
