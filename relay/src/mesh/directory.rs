//! The federation's live relays, from verified, fresh, signed announcements.
//!
//! The [`Directory`] only keeps what [`super::node`] has already checked (signature, author,
//! freshness); it decides what is new, what has gone stale and which relay owns a tag. Time is
//! the local monotonic clock: an entry lives `entry_ttl` after the last announcement that
//! renewed it, whatever the author's clock says.

use std::collections::HashMap;
use std::num::NonZeroU16;
use std::time::{Duration, Instant};

use bootstrap_codec::{NodeKey, RelayEntry};

use crate::protocol::RelayTag;

/// One live relay.
#[derive(Debug, Clone)]
pub struct KnownRelay {
    /// Its verified entry.
    pub entry: RelayEntry,
    /// The entry's bytes, as `Nodes` hands them to browsers.
    pub entry_bytes: Vec<u8>,
    /// The mesh TCP port it announced.
    pub mesh_port: Option<NonZeroU16>,
    /// `issued_at_ms` of its last accepted announcement.
    pub issued_at_ms: u64,
    /// When that announcement arrived.
    pub last_seen: Instant,
}

/// What [`Directory::offer`] made of an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// A relay the directory did not hold.
    New,
    /// A newer announcement of a known relay.
    Renewed,
    /// Not newer than the last accepted one (a slower gossip path): nothing changed.
    NotNewer,
    /// Another relay (or this one) already holds the announcing relay's tag: refused.
    TagTaken,
}

/// The live relays, keyed by node key, bounded by `max_relays`.
#[derive(Debug)]
pub struct Directory {
    own: NodeKey,
    relays: HashMap<NodeKey, KnownRelay>,
    tags: HashMap<RelayTag, NodeKey>,
    max_relays: usize,
    entry_ttl: Duration,
}

impl Directory {
    /// An empty directory of the relay `own` (whose tag no other relay may hold).
    pub fn new(own: NodeKey, max_relays: usize, entry_ttl: Duration) -> Self {
        Self {
            own,
            relays: HashMap::new(),
            tags: HashMap::new(),
            max_relays,
            entry_ttl,
        }
    }

    /// Takes a verified announcement of `entry` (its author is `entry.node_key()`), issued at
    /// `issued_at_ms`. When the directory is full, a new relay evicts the stalest one.
    pub fn offer(
        &mut self,
        entry: RelayEntry,
        mesh_port: Option<NonZeroU16>,
        issued_at_ms: u64,
        now: Instant,
    ) -> Offered {
        let nk = *entry.node_key();
        let tag = RelayTag::of(&nk);
        if nk == self.own || self.owner(tag).is_some_and(|owner| owner != &nk) {
            return Offered::TagTaken;
        }
        let renewed = KnownRelay {
            entry_bytes: entry.to_bytes(),
            entry,
            mesh_port,
            issued_at_ms,
            last_seen: now,
        };
        if let Some(known) = self.relays.get_mut(&nk) {
            if issued_at_ms <= known.issued_at_ms {
                return Offered::NotNewer;
            }
            *known = renewed;
            return Offered::Renewed;
        }
        if self.max_relays == 0 {
            return Offered::NotNewer;
        }
        if self.relays.len() >= self.max_relays {
            let stalest = self
                .relays
                .iter()
                .min_by_key(|(_, r)| (r.last_seen, r.issued_at_ms))
                .map(|(nk, _)| *nk);
            if let Some(stalest) = stalest {
                self.remove(&stalest);
            }
        }
        self.relays.insert(nk, renewed);
        self.tags.insert(tag, nk);
        Offered::New
    }

    /// Drops every relay not renewed within `entry_ttl` of `now`; returns their keys.
    pub fn expire(&mut self, now: Instant) -> Vec<NodeKey> {
        let ttl = self.entry_ttl;
        let gone: Vec<NodeKey> = self
            .relays
            .iter()
            .filter(|(_, r)| now.saturating_duration_since(r.last_seen) > ttl)
            .map(|(nk, _)| *nk)
            .collect();
        for nk in &gone {
            self.remove(nk);
        }
        gone
    }

    fn remove(&mut self, nk: &NodeKey) {
        if let Some(known) = self.relays.remove(nk) {
            self.tags.remove(&RelayTag::of(known.entry.node_key()));
        }
    }

    /// The relay holding `tag`: this relay's own key, or a live relay's.
    pub fn owner(&self, tag: RelayTag) -> Option<&NodeKey> {
        if tag == RelayTag::of(&self.own) {
            return Some(&self.own);
        }
        self.tags.get(&tag)
    }

    /// A live relay.
    pub fn get(&self, nk: &NodeKey) -> Option<&KnownRelay> {
        self.relays.get(nk)
    }

    /// The live relays, freshest first (last announcement received, then issued).
    pub fn freshest_first(&self) -> Vec<&KnownRelay> {
        let mut relays: Vec<&KnownRelay> = self.relays.values().collect();
        relays.sort_by(|a, b| {
            (b.last_seen, b.issued_at_ms, b.entry.node_key().as_bytes()).cmp(&(
                a.last_seen,
                a.issued_at_ms,
                a.entry.node_key().as_bytes(),
            ))
        });
        relays
    }

    /// How many relays are live.
    pub fn len(&self) -> usize {
        self.relays.len()
    }

    /// Whether no relay is live.
    pub fn is_empty(&self) -> bool {
        self.relays.is_empty()
    }
}
