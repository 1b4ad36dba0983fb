//! Messages a client sends to the relay.

use super::msg_type as t;
use super::reader::{DecodeError, Reader};
use super::{PeerId, RoomId, MAX_BLOB_LEN};

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
    /// Ask for the node entries the relay knows (currently its own).
    GetNodes,
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
        }
    }

    /// Appends the frame to `out`. The caller keeps blobs within [`MAX_BLOB_LEN`]; a longer
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
        }
    }

    /// The encoded frame as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}
