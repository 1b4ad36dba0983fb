//! The envelope's field tags and how each value is laid out.

use bitcoin::script::{PushBytesBuf, ScriptBuf};

use crate::MAX_PUSH;

/// A field tag: a one-byte data push before its value (`01 01` for tag 1, never `OP_1`).
///
/// Odd tags ord does not know are ignored; an unknown even tag makes the inscription
/// unbound (see [`crate::Curse::UnrecognizedEvenField`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Tag {
    /// MIME type of the body.
    ContentType = 1,
    /// Which output sat (u64 little-endian, trailing zeros dropped) the inscription lands on.
    Pointer = 2,
    /// A parent inscription id; one tag per parent.
    Parent = 3,
    /// CBOR metadata, in 520-byte chunks, one tag per chunk.
    Metadata = 5,
    /// Name of a metaprotocol.
    Metaprotocol = 7,
    /// HTTP content encoding of the body (`br`).
    ContentEncoding = 9,
    /// Inscription whose content this one serves instead of its own.
    Delegate = 11,
    /// A rune name commitment.
    Rune = 13,
    /// A note: ord ignores it (odd tag).
    Note = 15,
    /// Properties (CBOR), chunked like metadata.
    Properties = 17,
    /// Encoding of the properties.
    PropertyEncoding = 19,
    /// Marks an inscription unbound on purpose.
    Unbound = 66,
    /// Does nothing; used for padding.
    Nop = 255,
}

impl Tag {
    /// The tag byte.
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// Whether the value is split into 520-byte pieces, one tag per piece. ord chunks only
    /// metadata and properties.
    pub fn is_chunked(self) -> bool {
        matches!(self, Tag::Metadata | Tag::Properties)
    }

    /// Appends `<tag> <value>` to `script`. Chunked tags get one pair per 520-byte piece
    /// (so an empty chunked value writes nothing, as in ord).
    pub(crate) fn append(self, script: &mut ScriptBuf, value: &[u8]) {
        if self.is_chunked() {
            for chunk in value.chunks(MAX_PUSH) {
                script.push_slice([self.byte()]);
                script.push_slice(push(chunk));
            }
        } else {
            script.push_slice([self.byte()]);
            script.push_slice(push(value));
        }
    }
}

/// A data push of `bytes`. Values longer than a push can hold make a script that no node
/// accepts; [`crate::Inscription`] keeps unchunked values to sizes ord writes.
pub(crate) fn push(bytes: &[u8]) -> PushBytesBuf {
    PushBytesBuf::try_from(bytes.to_vec()).expect("a push is shorter than 4 GiB")
}
