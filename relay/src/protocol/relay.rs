//! Messages the relay sends to a client.

use super::codes::{CloseCode, ErrorCode};
use super::msg_type as t;
use super::reader::{DecodeError, Reader};
use super::{PeerAddr, PeerId, RoomId, MAX_ENTRY_LEN, MAX_FRAME_LEN, MAX_NODES};

/// The relay's answer to `Hello`: the session's peer id, the limits it enforces and its own
/// signed entry (so a client that dialled an address can check whom it reached).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Welcome<'a> {
    /// Protocol version the relay speaks.
    pub version: u8,
    /// This session's peer id.
    pub peer: PeerId,
    /// Largest frame the relay accepts.
    pub max_frame: u16,
    /// Largest room the relay allows.
    pub max_room_size: u16,
    /// Most rooms one session may be in at once.
    pub max_rooms: u8,
    /// Messages per second a session may send (sustained).
    pub rate_per_sec: u16,
    /// Seconds without traffic after which the relay drops the session.
    pub idle_timeout_secs: u16,
    /// The relay's signed entry bytes (`RelayEntry::to_bytes`).
    pub entry: &'a [u8],
}

/// A list of peer ids stored as its wire bytes (4 bytes each); iterate with [`Self::iter`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PeerList<'a>(&'a [u8]);

impl<'a> PeerList<'a> {
    /// Borrows encoded peer ids; `None` unless the length is a multiple of 4 with no zero id.
    pub fn from_wire(bytes: &'a [u8]) -> Option<Self> {
        let ok = bytes.len().is_multiple_of(PeerId::LEN)
            && bytes.chunks_exact(PeerId::LEN).all(|c| c != [0u8; 4]);
        ok.then_some(Self(bytes))
    }

    /// Number of peers.
    pub fn len(&self) -> usize {
        self.0.len() / PeerId::LEN
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The peer ids in order.
    pub fn iter(&self) -> impl Iterator<Item = PeerId> + 'a {
        self.0.chunks_exact(PeerId::LEN).filter_map(|c| {
            let value = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
            PeerId::new(value)
        })
    }

    /// Appends the wire form of `peers` to `out`.
    pub fn encode_into(peers: impl IntoIterator<Item = PeerId>, out: &mut Vec<u8>) {
        for peer in peers {
            out.extend_from_slice(&peer.get().to_be_bytes());
        }
    }
}

/// A list of peer addresses stored as its wire bytes (12 bytes each, version 2); iterate
/// with [`Self::iter`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AddrList<'a>(&'a [u8]);

impl<'a> AddrList<'a> {
    /// Borrows encoded addresses; `None` unless the length is a multiple of 12 and no
    /// address has a zero session id.
    pub fn from_wire(bytes: &'a [u8]) -> Option<Self> {
        let ok = bytes.len().is_multiple_of(PeerAddr::LEN)
            && bytes
                .chunks_exact(PeerAddr::LEN)
                .all(|c| PeerAddr::from_wire(c).is_some());
        ok.then_some(Self(bytes))
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.0.len() / PeerAddr::LEN
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The addresses in order.
    pub fn iter(&self) -> impl Iterator<Item = PeerAddr> + 'a {
        self.0
            .chunks_exact(PeerAddr::LEN)
            .filter_map(PeerAddr::from_wire)
    }

    /// Appends the wire form of `addrs` to `out`.
    pub fn encode_into(addrs: impl IntoIterator<Item = PeerAddr>, out: &mut Vec<u8>) {
        for addr in addrs {
            addr.encode_into(out);
        }
    }
}

/// Node entries stored as wire bytes (`u16` length + entry, repeated); iterate with
/// [`Self::iter`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NodeEntries<'a>(&'a [u8]);

impl<'a> NodeEntries<'a> {
    /// Borrows encoded entries; `None` if malformed, over [`MAX_NODES`] or an entry over
    /// [`MAX_ENTRY_LEN`].
    pub fn from_wire(bytes: &'a [u8]) -> Option<Self> {
        let mut rest = bytes;
        let mut count = 0;
        while !rest.is_empty() {
            let (len, tail) = rest.split_first_chunk::<2>()?;
            let len = usize::from(u16::from_be_bytes(*len));
            if len == 0 || len > MAX_ENTRY_LEN || tail.len() < len {
                return None;
            }
            rest = &tail[len..];
            count += 1;
        }
        (count <= MAX_NODES).then_some(Self(bytes))
    }

    /// The entries' bytes in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let (len, tail) = rest.split_first_chunk::<2>()?;
            let len = usize::from(u16::from_be_bytes(*len));
            let (entry, tail) = tail.split_at_checked(len)?;
            rest = tail;
            Some(entry)
        })
    }

    /// Appends the wire form of `entries` to `out`, keeping at most [`MAX_NODES`], skipping
    /// empty or over-long ones and stopping before the `Nodes` frame would pass
    /// [`MAX_FRAME_LEN`] (16 entries of [`MAX_ENTRY_LEN`] bytes would not fit).
    pub fn encode_into<'b>(entries: impl IntoIterator<Item = &'b [u8]>, out: &mut Vec<u8>) {
        let valid = entries
            .into_iter()
            .filter(|e| !e.is_empty() && e.len() <= MAX_ENTRY_LEN);
        // What a frame leaves after its type byte.
        let mut room = MAX_FRAME_LEN - 1;
        for entry in valid.take(MAX_NODES) {
            let Some(left) = room.checked_sub(2 + entry.len()) else {
                break;
            };
            room = left;
            // The filter above bounds the length to MAX_ENTRY_LEN, which fits in u16.
            out.extend_from_slice(&(entry.len() as u16).to_be_bytes());
            out.extend_from_slice(entry);
        }
    }
}

/// A relay-to-client frame.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RelayMessage<'a> {
    /// Answer to `Hello`.
    Welcome(Welcome<'a>),
    /// Answer to `Join`: the room's other members.
    Room {
        /// The room joined.
        room: RoomId,
        /// Members other than the joiner.
        peers: PeerList<'a>,
    },
    /// `peer` joined `room`.
    Joined {
        /// The room.
        room: RoomId,
        /// Who joined.
        peer: PeerId,
    },
    /// `peer` left `room` (also the answer to your own `Leave`, with your own id).
    Left {
        /// The room.
        room: RoomId,
        /// Who left.
        peer: PeerId,
    },
    /// A blob from `from`, a member of `room`.
    Signal {
        /// The room.
        room: RoomId,
        /// The sender.
        from: PeerId,
        /// Opaque payload.
        blob: &'a [u8],
    },
    /// Answer to `Ping`.
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// Answer to `GetNodes`.
    Nodes(NodeEntries<'a>),
    /// A request failed.
    Error {
        /// Why.
        code: ErrorCode,
        /// Type byte of the offending frame (0 when it had none).
        request: u8,
    },
    /// The relay closes this session right after this frame.
    Closing {
        /// Why.
        code: CloseCode,
    },
    /// Version 2 answer to `Join`: the room's other members, on any relay.
    Room2 {
        /// The room joined.
        room: RoomId,
        /// Members other than the joiner.
        peers: AddrList<'a>,
    },
    /// Version 2: `peer` joined `room`.
    Joined2 {
        /// The room.
        room: RoomId,
        /// Who joined.
        peer: PeerAddr,
    },
    /// Version 2: `peer` left `room` (also the answer to your own `Leave`, with your own
    /// address).
    Left2 {
        /// The room.
        room: RoomId,
        /// Who left.
        peer: PeerAddr,
    },
    /// Version 2: a blob from `from`, a member of `room` on any relay.
    Signal2 {
        /// The room.
        room: RoomId,
        /// The sender.
        from: PeerAddr,
        /// Opaque payload.
        blob: &'a [u8],
    },
}

impl<'a> RelayMessage<'a> {
    /// Decodes one frame.
    pub fn decode(frame: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(frame)?;
        let message = match r.message_type() {
            t::WELCOME => {
                let version = r.u8()?;
                let peer = r.peer()?;
                let max_frame = r.u16()?;
                let max_room_size = r.u16()?;
                let max_rooms = r.u8()?;
                let rate_per_sec = r.u16()?;
                let idle_timeout_secs = r.u16()?;
                let entry = r.rest();
                if entry.len() > MAX_ENTRY_LEN {
                    return Err(r.invalid("entry"));
                }
                Self::Welcome(Welcome {
                    version,
                    peer,
                    max_frame,
                    max_room_size,
                    max_rooms,
                    rate_per_sec,
                    idle_timeout_secs,
                    entry,
                })
            }
            t::ROOM => {
                let room = r.room()?;
                let peers = PeerList::from_wire(r.rest()).ok_or(r.invalid("peer list"))?;
                Self::Room { room, peers }
            }
            t::JOINED => Self::Joined {
                room: r.room()?,
                peer: r.peer()?,
            },
            t::LEFT => Self::Left {
                room: r.room()?,
                peer: r.peer()?,
            },
            t::SIGNAL_IN => Self::Signal {
                room: r.room()?,
                from: r.peer()?,
                blob: r.rest(),
            },
            t::PONG => Self::Pong { nonce: r.u64()? },
            t::NODES => Self::Nodes(NodeEntries::from_wire(r.rest()).ok_or(r.invalid("entries"))?),
            t::ERROR => Self::Error {
                code: ErrorCode::from_u8(r.u8()?),
                request: r.u8()?,
            },
            t::CLOSING => Self::Closing {
                code: CloseCode::from_u8(r.u8()?),
            },
            t::ROOM2 => {
                let room = r.room()?;
                let peers = AddrList::from_wire(r.rest()).ok_or(r.invalid("peer address list"))?;
                Self::Room2 { room, peers }
            }
            t::JOINED2 => Self::Joined2 {
                room: r.room()?,
                peer: r.addr()?,
            },
            t::LEFT2 => Self::Left2 {
                room: r.room()?,
                peer: r.addr()?,
            },
            t::SIGNAL2_IN => Self::Signal2 {
                room: r.room()?,
                from: r.addr()?,
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
            Self::Welcome(_) => t::WELCOME,
            Self::Room { .. } => t::ROOM,
            Self::Joined { .. } => t::JOINED,
            Self::Left { .. } => t::LEFT,
            Self::Signal { .. } => t::SIGNAL_IN,
            Self::Pong { .. } => t::PONG,
            Self::Nodes(_) => t::NODES,
            Self::Error { .. } => t::ERROR,
            Self::Closing { .. } => t::CLOSING,
            Self::Room2 { .. } => t::ROOM2,
            Self::Joined2 { .. } => t::JOINED2,
            Self::Left2 { .. } => t::LEFT2,
            Self::Signal2 { .. } => t::SIGNAL2_IN,
        }
    }

    /// Appends the frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.message_type());
        match self {
            Self::Welcome(w) => {
                out.push(w.version);
                out.extend_from_slice(&w.peer.get().to_be_bytes());
                out.extend_from_slice(&w.max_frame.to_be_bytes());
                out.extend_from_slice(&w.max_room_size.to_be_bytes());
                out.push(w.max_rooms);
                out.extend_from_slice(&w.rate_per_sec.to_be_bytes());
                out.extend_from_slice(&w.idle_timeout_secs.to_be_bytes());
                out.extend_from_slice(w.entry);
            }
            Self::Room { room, peers } => {
                out.extend_from_slice(room.as_bytes());
                out.extend_from_slice(peers.0);
            }
            Self::Joined { room, peer } | Self::Left { room, peer } => {
                out.extend_from_slice(room.as_bytes());
                out.extend_from_slice(&peer.get().to_be_bytes());
            }
            Self::Signal { room, from, blob } => {
                out.extend_from_slice(room.as_bytes());
                out.extend_from_slice(&from.get().to_be_bytes());
                out.extend_from_slice(blob);
            }
            Self::Pong { nonce } => out.extend_from_slice(&nonce.to_be_bytes()),
            Self::Nodes(entries) => out.extend_from_slice(entries.0),
            Self::Error { code, request } => {
                out.push(code.to_u8());
                out.push(*request);
            }
            Self::Closing { code } => out.push(code.to_u8()),
            Self::Room2 { room, peers } => {
                out.extend_from_slice(room.as_bytes());
                out.extend_from_slice(peers.0);
            }
            Self::Joined2 { room, peer } | Self::Left2 { room, peer } => {
                out.extend_from_slice(room.as_bytes());
                peer.encode_into(out);
            }
            Self::Signal2 { room, from, blob } => {
                out.extend_from_slice(room.as_bytes());
                from.encode_into(out);
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
