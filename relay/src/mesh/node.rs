//! The sans-IO federation state machine.
//!
//! [`Federation`] knows nothing of libp2p: relays are named by their [`NodeKey`] (which is
//! also their libp2p PeerId, see [`super::swarm`]), gossip is `(topic, bytes)`, time comes in
//! as arguments (`now` for timers, `wall` for the freshness of signed announcements). The
//! swarm adapter feeds it what the swarm reports and carries out the [`Action`]s it yields;
//! the driver moves [`MeshInput`]/[`MeshOutput`] between it and the relay core.
//!
//! Its checks of received gossip live in `inbound`, what it publishes in `outbound`; the
//! rules are docs/federation.md "Validation". How the swarm adapter uses it:
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
//! - `subscribed` carries no wall time: what it publishes (a snapshot, an announcement) is
//!   dated from the last wall time seen, moved on by the monotonic clock.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bootstrap_codec::{NodeKey, RelayEntry};
use tracing::debug;

use super::directory::Directory;
use super::scoring::{Penalties, RateGate, EXCESS_POINTS, REFUSAL_POINTS};
use super::wire::{RoomBody, MAX_MEMBERS, MAX_SIGNAL_BLOB_LEN};
use crate::core::{MeshInput, MeshOutput};
use crate::protocol::{PeerId, PeerList, RelayTag, RoomId};

mod inbound;
mod outbound;

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
    /// Membership messages dropped (without penalty) because a newer one from the same relay
    /// for the same room had already arrived.
    pub out_of_order: u64,
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

/// How often [`Federation::timeout`] runs its housekeeping (expiry, score recovery).
pub const TICK: Duration = Duration::from_secs(1);

/// Least time between two announcements made because relays subscribed to the directory.
pub const ANNOUNCE_DEBOUNCE: Duration = Duration::from_secs(1);

/// Least time between two dials of one relay learned from the directory.
pub const REDIAL_AFTER: Duration = Duration::from_secs(30);

/// Oldest room message accepted (gossipsub's 60 s duplicate cache covers anything younger).
pub const ROOM_MESSAGE_MAX_AGE: Duration = Duration::from_secs(30);

/// The federation state machine. See the module docs.
pub struct Federation {
    config: FederationConfig,
    own: NodeKey,
    own_tag: RelayTag,
    entry_bytes: Vec<u8>,
    actions: VecDeque<Action>,
    /// The last `(now, wall)` seen, to date what is sent from calls that carry no wall time.
    clock: (Instant, SystemTime),
    /// Latest `issued_at_ms` / `sent_at_ms` used, so ours never go backwards.
    last_issued_ms: u64,
    last_sent_ms: u64,
    next_announce: Instant,
    /// The last announcement made because a relay subscribed (they are debounced).
    last_triggered: Option<Instant>,
    announce_due: Option<Instant>,
    next_tick: Instant,
    directory: Directory,
    /// The entries last handed to the core.
    listed: Vec<Vec<u8>>,
    dialled: HashMap<NodeKey, Instant>,
    /// Connected relays.
    peers: HashSet<NodeKey>,
    /// Rate-gate arrival times of the relays sending us room traffic.
    arrivals: HashMap<NodeKey, Instant>,
    /// Tags of connected relays (the first relay connected with a tag holds it).
    peer_tags: HashMap<RelayTag, NodeKey>,
    gate: RateGate,
    penalties: Penalties,
    /// Our sessions per room (the rooms whose topics we subscribe to).
    rooms: HashMap<RoomId, BTreeSet<PeerId>>,
    /// `sent_at_ms` of the last room message accepted per author and room.
    heard: HashMap<(NodeKey, RoomId), u64>,
    stats: MeshStats,
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
            // Five times the busiest honest relay measured (BENCHMARKS.md: 382 room messages/s
            // at 3 relays × 1,000 rooms), and below what one flooding connection gets through
            // the inbound cap (docs/federation.md "Flood limits").
            room_messages_per_sec: 2_000.0,
            room_message_burst: 4_000.0,
            max_relays: 1_024,
            dial_directory: true,
        }
    }
}

/// Unix milliseconds of a wall-clock time (0 before 1970).
fn unix_ms(wall: SystemTime) -> u64 {
    wall.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl MeshRefusals {
    fn count(&mut self, refusal: Refusal) {
        let counter = match refusal {
            Refusal::Malformed => &mut self.malformed,
            Refusal::Oversized => &mut self.oversized,
            Refusal::Forged => &mut self.forged,
            Refusal::WrongAuthor => &mut self.wrong_author,
            Refusal::Stale => &mut self.stale,
            Refusal::RateLimited => &mut self.rate_limited,
            Refusal::UnknownTopic => &mut self.unknown_topic,
        };
        *counter += 1;
    }
}

impl Federation {
    /// Creates the state machine; the first announcement is queued at once.
    pub fn new(config: FederationConfig, now: Instant, wall: SystemTime) -> Self {
        let own = *config.entry.node_key();
        let directory = Directory::new(own, config.max_relays, config.entry_ttl);
        let gate = RateGate::new(config.room_messages_per_sec, config.room_message_burst);
        let mut node = Self {
            own,
            own_tag: RelayTag::of(&own),
            entry_bytes: config.entry.to_bytes(),
            actions: VecDeque::new(),
            clock: (now, wall),
            last_issued_ms: 0,
            last_sent_ms: 0,
            next_announce: now,
            last_triggered: None,
            announce_due: None,
            next_tick: now + TICK,
            directory,
            listed: Vec::new(),
            dialled: HashMap::new(),
            peers: HashSet::new(),
            arrivals: HashMap::new(),
            peer_tags: HashMap::new(),
            gate,
            penalties: Penalties::new(config.max_relays),
            rooms: HashMap::new(),
            heard: HashMap::new(),
            stats: MeshStats::default(),
            config,
        };
        node.actions.push_back(Action::Subscribe(Topic::Relays));
        node.announce(now, wall);
        node
    }

    /// The next action, or `None`.
    pub fn poll(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call [`Self::timeout`] next.
    pub fn next_timeout(&self) -> Instant {
        let next = self.next_tick.min(self.next_announce);
        self.announce_due.map_or(next, |due| next.min(due))
    }

    /// Time has passed: re-announce, expire stale relays.
    pub fn timeout(&mut self, now: Instant, wall: SystemTime) {
        self.clock = (now, wall);
        let due = self.announce_due.is_some_and(|due| now >= due);
        if due {
            self.last_triggered = Some(now);
        }
        if now >= self.next_announce || due {
            self.announce(now, wall);
        }
        if now >= self.next_tick {
            self.next_tick = now + TICK;
            if !self.directory.expire(now).is_empty() {
                self.list_directory();
            }
            for (relay, score) in self.penalties.tick(now) {
                self.actions.push_back(Action::Score { relay, score });
            }
            self.dialled
                .retain(|_, at| now.saturating_duration_since(*at) < REDIAL_AFTER);
        }
    }

    /// The first connection to `relay` is up.
    pub fn connected(&mut self, now: Instant, relay: NodeKey) {
        let _ = now;
        self.peers.insert(relay);
        self.peer_tags.entry(RelayTag::of(&relay)).or_insert(relay);
    }

    /// The last connection to `relay` closed: its members leave every room.
    pub fn disconnected(&mut self, now: Instant, relay: NodeKey) {
        let _ = now;
        let tag = RelayTag::of(&relay);
        let holds_tag = self.tag_holder(tag) == Some(&relay);
        self.peers.remove(&relay);
        self.arrivals.remove(&relay);
        if self.peer_tags.get(&tag) == Some(&relay) {
            self.peer_tags.remove(&tag);
        }
        self.heard.retain(|(author, _), _| author != &relay);
        if holds_tag {
            self.hand_to_core(MeshInput::RelayGone { relay: tag });
        }
    }

    /// `relay` subscribed to `topic` (we answer with our members of a room topic).
    pub fn subscribed(&mut self, now: Instant, relay: NodeKey, topic: &str) {
        let _ = relay;
        match Topic::parse(topic) {
            Some(Topic::Relays) => match self.last_triggered.map(|at| at + ANNOUNCE_DEBOUNCE) {
                Some(earliest) if now < earliest => self.announce_due = Some(earliest),
                _ => {
                    self.last_triggered = Some(now);
                    self.announce(now, self.wall_at(now));
                }
            },
            Some(Topic::Room(room)) => {
                let Some(members) = self.rooms.get(&room) else {
                    return;
                };
                let mut sessions = Vec::with_capacity(members.len() * PeerId::LEN);
                // The core never lets a room grow past MAX_MEMBERS; a longer list would be
                // refused (and us penalised), so it is cut rather than sent.
                let listed = members.iter().copied().take(MAX_MEMBERS);
                PeerList::encode_into(listed, &mut sessions);
                // Encoded from non-zero ids just above.
                let sessions = PeerList::from_wire(&sessions).expect("non-zero session ids");
                let wall = self.wall_at(now);
                self.publish_room(room, wall, RoomBody::Members(sessions));
            }
            None => {}
        }
    }

    /// `relay` unsubscribed from `topic`.
    pub fn unsubscribed(&mut self, now: Instant, relay: NodeKey, topic: &str) {
        let _ = now;
        let Some(Topic::Room(room)) = Topic::parse(topic) else {
            return;
        };
        self.heard.remove(&(relay, room));
        let tag = RelayTag::of(&relay);
        if self.rooms.contains_key(&room) && self.tag_holder(tag) == Some(&relay) {
            self.hand_to_core(MeshInput::RoomGone { room, relay: tag });
        }
    }

    /// A gossip message arrived; returns how to report it to gossipsub.
    pub fn message(&mut self, now: Instant, wall: SystemTime, gossip: Gossip<'_>) -> Verdict {
        self.clock = (now, wall);
        self.stats.gossip_messages_in += 1;
        self.stats.gossip_bytes_in += gossip.data.len() as u64;
        let checked = match Topic::parse(gossip.topic) {
            Some(Topic::Relays) => self.announcement(now, wall, gossip),
            Some(Topic::Room(room)) => self.room_message(now, wall, room, gossip),
            None => Err(Refusal::UnknownTopic),
        };
        match checked {
            Ok(verdict) => verdict,
            Err(refusal) => {
                self.stats.refused.count(refusal);
                let points = match refusal {
                    Refusal::RateLimited => EXCESS_POINTS,
                    _ => REFUSAL_POINTS,
                };
                if let Some(score) = self.penalties.add(*gossip.via, points, now) {
                    self.actions.push_back(Action::Score {
                        relay: *gossip.via,
                        score,
                    });
                }
                match refusal {
                    Refusal::RateLimited => Verdict::Ignore,
                    _ => Verdict::Reject(refusal),
                }
            }
        }
    }

    /// Something the core's sessions did.
    pub fn from_relay(&mut self, now: Instant, wall: SystemTime, output: MeshOutput) {
        self.clock = (now, wall);
        match output {
            MeshOutput::Joined { room, session } => {
                let members = self.rooms.entry(room).or_default();
                let first = members.is_empty();
                if !members.insert(session) {
                    return;
                }
                if first {
                    self.actions.push_back(Action::Subscribe(Topic::Room(room)));
                }
                self.publish_room(room, wall, RoomBody::Joined(session));
            }
            MeshOutput::Left { room, session } => {
                let Some(members) = self.rooms.get_mut(&room) else {
                    return;
                };
                if !members.remove(&session) {
                    return;
                }
                let last = members.is_empty();
                self.publish_room(room, wall, RoomBody::Left(session));
                if last {
                    self.rooms.remove(&room);
                    self.heard.retain(|(_, r), _| r != &room);
                    self.actions
                        .push_back(Action::Unsubscribe(Topic::Room(room)));
                }
            }
            MeshOutput::Signal {
                room,
                from,
                to,
                blob,
            } => {
                if blob.len() > MAX_SIGNAL_BLOB_LEN || to.relay == self.own_tag {
                    debug!(room = ?room, "mesh: signal not sent (oversized or for this relay)");
                    return;
                }
                let body = RoomBody::Signal {
                    from,
                    to,
                    blob: &blob,
                };
                self.publish_room(room, wall, body);
                self.stats.signals_out += 1;
            }
        }
    }

    /// Counters and gauges.
    pub fn stats(&self) -> MeshStats {
        MeshStats {
            mesh_peers: self.peers.len() as u64,
            known_relays: self.directory.len() as u64,
            ..self.stats
        }
    }

    /// The live relays of the directory, freshest first (this one excluded).
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The penalty points `relay` has now (0 for a relay in good standing).
    pub fn penalty(&self, relay: &NodeKey) -> f64 {
        self.penalties.points(relay)
    }

    /// The wall time at `now`, extrapolated from the last call that carried one.
    fn wall_at(&self, now: Instant) -> SystemTime {
        let (at, wall) = self.clock;
        wall + now.saturating_duration_since(at)
    }

    /// The relay holding `tag`: ourselves, a live relay of the directory or a connected one.
    fn tag_holder(&self, tag: RelayTag) -> Option<&NodeKey> {
        self.directory
            .owner(tag)
            .or_else(|| self.peer_tags.get(&tag))
    }

    fn hand_to_core(&mut self, input: MeshInput) {
        self.actions.push_back(Action::ToRelay(input));
    }
}
