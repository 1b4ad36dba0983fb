//! A bounds-checked cursor over a frame, and the decode error type.

use super::{PeerAddr, PeerId, RoomId, MAX_FRAME_LEN};

/// Why a frame did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A zero-length frame.
    #[error("empty frame")]
    Empty,
    /// The frame is longer than [`MAX_FRAME_LEN`].
    #[error("frame of {len} bytes exceeds the {MAX_FRAME_LEN}-byte limit")]
    TooLarge {
        /// The frame's length.
        len: usize,
    },
    /// The type byte is not one this side accepts.
    #[error("unknown message type 0x{0:02x}")]
    UnknownType(u8),
    /// The frame ends before a fixed field.
    #[error("message 0x{message_type:02x} truncated")]
    Truncated {
        /// The frame's type byte.
        message_type: u8,
    },
    /// Bytes left over after the last field.
    #[error("message 0x{message_type:02x} has trailing bytes")]
    TrailingBytes {
        /// The frame's type byte.
        message_type: u8,
    },
    /// A field holds a value the protocol forbids (zero peer id, oversized entry, …).
    #[error("message 0x{message_type:02x} has an invalid {field}")]
    Invalid {
        /// The frame's type byte.
        message_type: u8,
        /// Which field.
        field: &'static str,
    },
}

/// Reads fixed fields off the front of a frame body.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    message_type: u8,
}

impl<'a> Reader<'a> {
    /// Checks the frame's length and splits off its type byte.
    pub(crate) fn new(frame: &'a [u8]) -> Result<Self, DecodeError> {
        if frame.len() > MAX_FRAME_LEN {
            return Err(DecodeError::TooLarge { len: frame.len() });
        }
        let (&message_type, buf) = frame.split_first().ok_or(DecodeError::Empty)?;
        Ok(Self { buf, message_type })
    }

    pub(crate) fn message_type(&self) -> u8 {
        self.message_type
    }

    pub(crate) fn truncated(&self) -> DecodeError {
        DecodeError::Truncated {
            message_type: self.message_type,
        }
    }

    pub(crate) fn invalid(&self, field: &'static str) -> DecodeError {
        DecodeError::Invalid {
            message_type: self.message_type,
            field,
        }
    }

    pub(crate) fn bytes<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self.buf.split_first_chunk::<N>().ok_or(self.truncated())?;
        self.buf = rest;
        Ok(*head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.bytes::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.bytes()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.bytes()?))
    }

    pub(crate) fn room(&mut self) -> Result<RoomId, DecodeError> {
        Ok(RoomId::from_bytes(self.bytes()?))
    }

    pub(crate) fn peer(&mut self) -> Result<PeerId, DecodeError> {
        let value = u32::from_be_bytes(self.bytes()?);
        PeerId::new(value).ok_or(self.invalid("peer id"))
    }

    pub(crate) fn addr(&mut self) -> Result<PeerAddr, DecodeError> {
        let bytes: [u8; PeerAddr::LEN] = self.bytes()?;
        PeerAddr::from_wire(&bytes).ok_or(self.invalid("peer address"))
    }

    /// Takes everything left (a trailing variable-length field).
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                message_type: self.message_type,
            })
        }
    }
}
