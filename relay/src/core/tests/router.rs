//! Several relay cores wired to each other in memory, each with its own clients, on one
//! clock. A tiny router stands in for the mesh layer: it turns one core's `MeshOutput`s into
//! the other cores' `MeshInput`s the way the gossip does (a room's first member subscribes
//! and hears every other relay's `Members`; joins, leaves and signals are published; the
//! last member leaving unsubscribes, which the others hear as `RoomGone`; a relay that dies
//! is `RelayGone`).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use super::harness::Net;
use crate::core::{Limits, MeshInput, MeshOutput};
use crate::protocol::{ClientMessage, PeerAddr, PeerId, RelayTag, RoomId};

/// The relays and what the router knows of their members.
pub(super) struct Fed {
    pub(super) nets: Vec<Net>,
    alive: Vec<bool>,
    /// Per relay: its sessions in each room, as the mesh layer tracks them from outputs.
    members: Vec<HashMap<RoomId, BTreeSet<PeerId>>>,
}

impl Fed {
    /// `n` federated relays with these limits.
    pub(super) fn new(n: usize, limits: Limits) -> Self {
        let mut nets: Vec<Net> = (0..n).map(|_| Net::with(limits.clone(), true)).collect();
        let start = nets
            .iter()
            .map(|net| net.now)
            .max()
            .expect("at least one relay");
        for net in &mut nets {
            net.now = start;
        }
        Self {
            nets,
            alive: vec![true; n],
            members: vec![HashMap::new(); n],
        }
    }

    pub(super) fn tag(&self, relay: usize) -> RelayTag {
        self.nets[relay].relay.tag()
    }

    /// The address of session `peer` on `relay`.
    pub(super) fn addr(&self, relay: usize, peer: PeerId) -> PeerAddr {
        PeerAddr {
            relay: self.tag(relay),
            session: peer,
        }
    }

    /// Relay `relay` dies: it is no longer run, and the others hear `RelayGone`.
    pub(super) fn kill(&mut self, relay: usize) {
        self.alive[relay] = false;
        let tag = self.tag(relay);
        for j in self.others(relay) {
            self.input(j, MeshInput::RelayGone { relay: tag });
        }
    }

    /// One step: deliver on every relay and route mesh traffic; if nothing moved, advance
    /// the shared clock to the earliest wake-up.
    pub(super) fn step(&mut self) {
        if self.pump() {
            return;
        }
        let next = self
            .live()
            .into_iter()
            .map(|i| self.nets[i].next_wake())
            .min()
            .expect("a live relay");
        for i in self.live() {
            self.nets[i].advance(next);
        }
    }

    /// Steps until `done` holds; panics after a generous bound of simulated time.
    pub(super) fn run_until(&mut self, what: &str, mut done: impl FnMut(&mut Fed) -> bool) {
        let first = *self.live().first().expect("a live relay");
        let start = self.nets[first].now;
        for _ in 0..200_000 {
            if done(self) {
                return;
            }
            self.step();
            let now = self.nets[first].now;
            if now.duration_since(start) > Duration::from_secs(600) {
                break;
            }
        }
        panic!("gave up waiting for {what}");
    }

    /// A new client of relay `relay`, connected and welcomed in `version`: its index there
    /// and its address.
    pub(super) fn member(&mut self, relay: usize, version: u8) -> (usize, PeerAddr) {
        let client = self.nets[relay].add_client();
        let peer = self.hello(relay, client, version);
        (client, self.addr(relay, peer))
    }

    /// Connects client `client` of relay `relay` and says hello in `version`.
    pub(super) fn hello(&mut self, relay: usize, client: usize, version: u8) -> PeerId {
        self.run_until("channel open", |f| f.nets[relay].clients[client].open);
        self.nets[relay].send(client, ClientMessage::Hello { version });
        let frame = self.next_frame(relay, client);
        self.nets[relay].welcomed(&frame, version)
    }

    /// Waits for the next frame of client `client` of relay `relay`.
    pub(super) fn next_frame(&mut self, relay: usize, client: usize) -> Vec<u8> {
        self.run_until("a frame", |f| {
            !f.nets[relay].clients[client].frames.is_empty()
        });
        self.nets[relay].clients[client]
            .frames
            .pop_front()
            .expect("checked non-empty")
    }

    /// Runs until nothing is in flight anywhere (without moving the clock).
    pub(super) fn settle(&mut self) {
        while self.pump() {}
    }

    /// Delivers on every live relay and routes mesh traffic; returns whether anything moved.
    fn pump(&mut self) -> bool {
        let mut moved = false;
        for i in self.live() {
            moved |= self.nets[i].pump();
        }
        self.route() || moved
    }

    fn live(&self) -> Vec<usize> {
        (0..self.nets.len()).filter(|&i| self.alive[i]).collect()
    }

    fn others(&self, relay: usize) -> Vec<usize> {
        self.live().into_iter().filter(|&j| j != relay).collect()
    }

    fn input(&mut self, relay: usize, input: MeshInput) {
        let now = self.nets[relay].now;
        self.nets[relay].relay.handle_mesh(now, input);
    }

    /// Moves every queued output; returns whether there was any.
    fn route(&mut self) -> bool {
        let mut moved = false;
        for i in self.live() {
            while let Some(output) = self.nets[i].relay.poll_mesh() {
                moved = true;
                self.publish(i, output);
            }
        }
        moved
    }

    fn publish(&mut self, from: usize, output: MeshOutput) {
        let tag = self.tag(from);
        match output {
            MeshOutput::Joined { room, session } => {
                let mine = self.members[from].entry(room).or_default();
                let subscribing = mine.is_empty();
                mine.insert(session);
                for j in self.others(from) {
                    if subscribing {
                        if let Some(theirs) = self.members[j].get(&room) {
                            let snapshot = MeshInput::Members {
                                room,
                                relay: self.tag(j),
                                sessions: theirs.iter().copied().collect(),
                            };
                            self.input(from, snapshot);
                        }
                    }
                    let peer = PeerAddr {
                        relay: tag,
                        session,
                    };
                    self.input(j, MeshInput::Joined { room, peer });
                }
            }
            MeshOutput::Left { room, session } => {
                let mine = self.members[from].entry(room).or_default();
                mine.remove(&session);
                let unsubscribing = mine.is_empty();
                if unsubscribing {
                    self.members[from].remove(&room);
                }
                for j in self.others(from) {
                    let peer = PeerAddr {
                        relay: tag,
                        session,
                    };
                    self.input(j, MeshInput::Left { room, peer });
                    if unsubscribing {
                        self.input(j, MeshInput::RoomGone { room, relay: tag });
                    }
                }
            }
            MeshOutput::Signal {
                room,
                from: sender,
                to,
                blob,
            } => {
                let target = self
                    .others(from)
                    .into_iter()
                    .find(|&j| self.tag(j) == to.relay);
                if let Some(j) = target {
                    let from = PeerAddr {
                        relay: tag,
                        session: sender,
                    };
                    let to = to.session;
                    self.input(
                        j,
                        MeshInput::Signal {
                            room,
                            from,
                            to,
                            blob,
                        },
                    );
                }
            }
        }
    }
}
