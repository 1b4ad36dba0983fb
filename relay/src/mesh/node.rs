//! The sans-IO federation state machine.
//!
//! [`Federation`] knows nothing of libp2p: relays are named by their [`NodeKey`] (which is
//! also their libp2p PeerId, see [`super::swarm`]), gossip is `(topic, bytes)`, time comes in
//! as arguments (`now` for timers, `wall` for the freshness of signed announcements). The
//! swarm adapter feeds it what the swarm reports and carries out the [`Action`]s it yields;
//! the driver moves [`MeshInput`]/[`MeshOutput`] between it and the relay core.
//!
//! INTERFACE CONTRACT (filled in by the mesh implementation; the swarm adapter codes against
//! exactly these signatures):
//! - `Federation::new(config, now, wall)`; `poll()` until `None` after every call;
//!   `next_timeout()` is when to call `timeout(now, wall)` next.
//! - `connected` / `disconnected`: first connection to / last connection from a relay.
//! - `subscribed` / `unsubscribed`: a connected relay joined / left a topic.
//! - `message(...)` returns the [`Verdict`] the adapter reports to gossipsub
//!   (`report_message_validation_result`): `Accept` forwards, `Reject` penalises the
//!   propagation source, `Ignore` drops without penalty. Room traffic is delivered and then
//!   `Ignore`d so it never travels more than one hop (its author flood-publishes to every
//!   relay subscribed to the room); announcements are `Accept`ed and gossip on.
//! - `from_relay`: the core's outputs.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use bootstrap_codec::{NodeKey, RelayEntry};

use crate::core::{MeshInput, MeshOutput};
use crate::protocol::RoomId;

/// A gossipsub topic of the federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Relay announcements (the directory).
    Relays,
    /// Traffic of one room (joins, leaves, snapshots, signals).
    Room(RoomId),
}

impl Topic {
    /// The topic string: `lumamesh/1/relays` or `lumamesh/1/room/<64 hex digits>`.
    pub fn name(&self) -> String {
        match self {
            Topic::Relays => "lumamesh/1/relays".to_owned(),
            Topic::Room(room) => format!("lumamesh/1/room/{}", hex::encode(room.as_bytes())),
        }
    }

    /// Parses a topic string; `None` for anything that is not ours.
    pub fn parse(name: &str) -> Option<Self> {
        if name == "lumamesh/1/relays" {
            return Some(Topic::Relays);
        }
        let hex_id = name.strip_prefix("lumamesh/1/room/")?;
        if hex_id.len() != 64 || hex_id.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut id = [0u8; 32];
        hex::decode_to_slice(hex_id, &mut id).ok()?;
        Some(Topic::Room(RoomId::from_bytes(id)))
    }
}

/// How a received gossip message is to be reported to gossipsub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: deliver and forward.
    Accept,
    /// Invalid (forged, stale, oversized, malformed, wrong author): drop and penalise.
    Reject(Refusal),
    /// Drop without penalty (delivered room traffic, duplicates, over the rate limit).
    Ignore,
}

/// Why gossip was refused; counted in [`MeshStats::refused`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The bytes do not decode as a message of this topic.
    Malformed,
    /// Larger than the topic allows.
    Oversized,
    /// An entry whose signature does not verify.
    Forged,
    /// An entry, or a member, that belongs to another relay than the message's author.
    WrongAuthor,
    /// Older than allowed, too far in the future, or older than what the author said last.
    Stale,
    /// Over the author's rate limit.
    RateLimited,
    /// A topic that is not ours.
    UnknownTopic,
}

/// Settings of the federation layer. [`FederationConfig::new`] gives the production values.
#[derive(Debug, Clone)]
pub struct FederationConfig {
    /// This relay's signed entry.
    pub entry: RelayEntry,
    /// The TCP port other relays reach this one on (`MESH_LISTEN`), announced so that
    /// relays learned from the directory can be dialled; `None` if not listening.
    pub mesh_port: Option<u16>,
    /// How often this relay re-announces its entry.
    pub announce_every: Duration,
    /// How long an announcement stays fresh (also the most a relay's clock may lag).
    pub entry_ttl: Duration,
    /// How far in the future an announcement or a room message may be dated.
    pub max_clock_skew: Duration,
    /// Room messages per second one relay may send us (sustained) …
    pub room_messages_per_sec: f32,
    /// … and in a burst.
    pub room_message_burst: f32,
    /// Most relays kept in the directory.
    pub max_relays: usize,
    /// Whether relays learned from the directory are dialled (full mesh).
    pub dial_directory: bool,
}

/// Counters and gauges of the federation layer, for `/statsz` and `/metrics`.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct MeshStats {
    /// Relays connected now.
    pub mesh_peers: u64,
    /// Live relays in the directory (this one excluded).
    pub known_relays: u64,
    /// Gossip bytes received (message data).
    pub gossip_bytes_in: u64,
    /// Gossip bytes published (message data).
    pub gossip_bytes_out: u64,
    /// Gossip messages received.
    pub gossip_messages_in: u64,
    /// Gossip messages published.
    pub gossip_messages_out: u64,
    /// Signals delivered from other relays to our sessions.
    pub signals_in: u64,
    /// Signals sent to other relays.
    pub signals_out: u64,
    /// Refused gossip by reason.
    pub refused: MeshRefusals,
}

/// Refused gossip by reason (see [`Refusal`]).
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct MeshRefusals {
    /// [`Refusal::Malformed`].
    pub malformed: u64,
    /// [`Refusal::Oversized`].
    pub oversized: u64,
    /// [`Refusal::Forged`].
    pub forged: u64,
    /// [`Refusal::WrongAuthor`].
    pub wrong_author: u64,
    /// [`Refusal::Stale`].
    pub stale: u64,
    /// [`Refusal::RateLimited`].
    pub rate_limited: u64,
    /// [`Refusal::UnknownTopic`].
    pub unknown_topic: u64,
}

/// What the federation layer wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Publish `data` on `topic`.
    Publish {
        /// The topic.
        topic: Topic,
        /// The message bytes ([`super::wire`]).
        data: Vec<u8>,
    },
    /// Subscribe to a topic.
    Subscribe(Topic),
    /// Unsubscribe from a topic.
    Unsubscribe(Topic),
    /// Dial a relay learned from the directory (it announced a mesh port).
    Dial {
        /// Its node key (= libp2p PeerId).
        relay: NodeKey,
        /// Where to.
        addr: SocketAddr,
    },
    /// Set a relay's application score (gossipsub `set_application_score`); negative values
    /// for relays that keep sending refused or excess traffic.
    Score {
        /// The relay.
        relay: NodeKey,
        /// The score.
        score: f64,
    },
    /// Hand this to the relay core ([`crate::core::Relay::handle_mesh`]).
    ToRelay(MeshInput),
}

/// A gossip message as the swarm received it.
#[derive(Debug, Clone, Copy)]
pub struct Gossip<'a> {
    /// The relay that signed it (gossipsub's `source`, required in strict mode).
    pub author: &'a NodeKey,
    /// The relay that handed it to us (gossipsub's `propagation_source`).
    pub via: &'a NodeKey,
    /// The topic it was published on.
    pub topic: &'a str,
    /// The message bytes.
    pub data: &'a [u8],
}

/// The federation state machine. See the module docs.
pub struct Federation {
    // Filled in by the implementation.
    _private: (),
}

impl FederationConfig {
    /// Production settings for a relay announcing `entry`.
    pub fn new(entry: RelayEntry, mesh_port: Option<u16>) -> Self {
        Self {
            entry,
            mesh_port,
            announce_every: Duration::from_secs(30),
            entry_ttl: Duration::from_secs(120),
            max_clock_skew: Duration::from_secs(30),
            room_messages_per_sec: 5_000.0,
            room_message_burst: 10_000.0,
            max_relays: 1_024,
            dial_directory: true,
        }
    }
}

#[allow(unused_variables, clippy::new_without_default)]
impl Federation {
    /// Creates the state machine; the first announcement is queued at once.
    pub fn new(config: FederationConfig, now: Instant, wall: SystemTime) -> Self {
        unimplemented!("mesh node")
    }

    /// The next action, or `None`.
    pub fn poll(&mut self) -> Option<Action> {
        unimplemented!("mesh node")
    }

    /// When to call [`Self::timeout`] next.
    pub fn next_timeout(&self) -> Instant {
        unimplemented!("mesh node")
    }

    /// Time has passed: re-announce, expire stale relays.
    pub fn timeout(&mut self, now: Instant, wall: SystemTime) {
        unimplemented!("mesh node")
    }

    /// The first connection to `relay` is up.
    pub fn connected(&mut self, now: Instant, relay: NodeKey) {
        unimplemented!("mesh node")
    }

    /// The last connection to `relay` closed: its members leave every room.
    pub fn disconnected(&mut self, now: Instant, relay: NodeKey) {
        unimplemented!("mesh node")
    }

    /// `relay` subscribed to `topic` (we answer with our members of a room topic).
    pub fn subscribed(&mut self, now: Instant, relay: NodeKey, topic: &str) {
        unimplemented!("mesh node")
    }

    /// `relay` unsubscribed from `topic`.
    pub fn unsubscribed(&mut self, now: Instant, relay: NodeKey, topic: &str) {
        unimplemented!("mesh node")
    }

    /// A gossip message arrived; returns how to report it to gossipsub.
    pub fn message(&mut self, now: Instant, wall: SystemTime, gossip: Gossip<'_>) -> Verdict {
        unimplemented!("mesh node")
    }

    /// Something the core's sessions did.
    pub fn from_relay(&mut self, now: Instant, wall: SystemTime, output: MeshOutput) {
        unimplemented!("mesh node")
    }

    /// Counters and gauges.
    pub fn stats(&self) -> MeshStats {
        unimplemented!("mesh node")
    }
}
