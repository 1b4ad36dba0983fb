//! An in-memory stand-in for the gossipsub swarm: [`Federation`]s wired by links, with the
//! subscription and forwarding rules that matter to the node (a message reaches the linked
//! relays subscribed to its topic; one a receiver `Accept`s is forwarded on, one it `Ignore`s
//! or `Reject`s stops there; each relay sees a message once), and fake time.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bootstrap_codec::{
    Fingerprint, IcePwd, IceUfrag, NodeKey, NodeSecret, RelayEntry, UnsignedEntry,
};

use crate::core::{MeshInput, MeshOutput};
use crate::mesh::node::{Action, Federation, FederationConfig, Gossip, Topic, Verdict};

/// 2026-12-01 12:00 UTC, the wall clock every test starts at.
pub(super) const START_MS: u64 = 1_796_126_400_000;

/// The node secret of test relay `i` (relays are numbered from 0).
pub(super) fn secret(i: u8) -> NodeSecret {
    NodeSecret::from_seed(&[i + 1; 32])
}

/// A signed entry for `secret` at `address` (an IP address or a host name).
pub(super) fn entry(secret: &NodeSecret, address: &str) -> RelayEntry {
    let fingerprint = Fingerprint::from_bytes(*secret.public().as_bytes());
    UnsignedEntry {
        address: address.parse().expect("test address"),
        port: 3478.try_into().expect("non-zero port"),
        pwd: IcePwd::derived(&secret.public(), &fingerprint),
        fingerprint,
        ufrag: IceUfrag::default_relay(),
    }
    .sign(secret)
}

/// Test settings for relay `i`: loopback, mesh port `4000 + i`, small limits where a test
/// wants to reach them.
pub(super) fn config(i: u8) -> FederationConfig {
    let mut config =
        FederationConfig::new(entry(&secret(i), "127.0.0.1"), Some(4000 + u16::from(i)));
    config.room_messages_per_sec = 10.0;
    config.room_message_burst = 20.0;
    config
}

/// One relay of the fake swarm and what it did.
pub(super) struct Node {
    pub(super) key: NodeKey,
    pub(super) fed: Federation,
    /// Topics it subscribes to.
    pub(super) topics: HashSet<String>,
    /// Messages it has seen (gossipsub's duplicate cache), by author and bytes.
    seen: HashSet<(NodeKey, Vec<u8>)>,
    /// What it handed to the core.
    pub(super) inbox: Vec<MeshInput>,
    /// Dials it asked for.
    pub(super) dials: Vec<(NodeKey, SocketAddr)>,
    /// Scores it set.
    pub(super) scores: Vec<(NodeKey, f64)>,
    /// Verdicts it gave, with the author of the message.
    pub(super) verdicts: Vec<(NodeKey, Verdict)>,
    /// Messages it published, with their topic.
    pub(super) published: Vec<(Topic, Vec<u8>)>,
}

/// What travels between relays, in order.
enum InFlight {
    /// A message to `to` from `author`, handed over by relay `via`.
    Message {
        to: usize,
        author: NodeKey,
        via: usize,
        topic: String,
        data: Vec<u8>,
    },
    /// `from` subscribed to (or unsubscribed from) `topic`, told to `to`.
    Subscription {
        to: usize,
        from: NodeKey,
        topic: String,
        on: bool,
    },
}

/// Relays, links between them and the clock.
pub(super) struct FakeSwarm {
    pub(super) nodes: Vec<Node>,
    links: HashSet<(usize, usize)>,
    pub(super) now: Instant,
    pub(super) wall: SystemTime,
}

impl FakeSwarm {
    /// `configs.len()` relays, none linked yet.
    pub(super) fn new(configs: Vec<FederationConfig>) -> Self {
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_millis(START_MS);
        let nodes = configs
            .into_iter()
            .map(|config| Node {
                key: *config.entry.node_key(),
                fed: Federation::new(config, now, wall),
                topics: HashSet::new(),
                seen: HashSet::new(),
                inbox: Vec::new(),
                dials: Vec::new(),
                scores: Vec::new(),
                verdicts: Vec::new(),
                published: Vec::new(),
            })
            .collect();
        let mut swarm = Self {
            nodes,
            links: HashSet::new(),
            now,
            wall,
        };
        swarm.pump();
        swarm
    }

    /// `n` relays with [`config`].
    pub(super) fn of(n: u8) -> Self {
        Self::new((0..n).map(config).collect())
    }

    fn linked(&self, a: usize, b: usize) -> bool {
        self.links.contains(&(a.min(b), a.max(b)))
    }

    fn peers(&self, a: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&b| b != a && self.linked(a, b))
            .collect()
    }

    /// Opens a connection: both sides learn of it and of each other's subscriptions.
    pub(super) fn connect(&mut self, a: usize, b: usize) {
        self.links.insert((a.min(b), a.max(b)));
        let now = self.now;
        for (x, y) in [(a, b), (b, a)] {
            let key = self.nodes[y].key;
            self.nodes[x].fed.connected(now, key);
        }
        for (x, y) in [(a, b), (b, a)] {
            let key = self.nodes[y].key;
            let topics: Vec<String> = self.nodes[y].topics.iter().cloned().collect();
            for topic in topics {
                self.nodes[x].fed.subscribed(now, key, &topic);
            }
        }
        self.pump();
    }

    /// Closes the connection between `a` and `b`.
    pub(super) fn disconnect(&mut self, a: usize, b: usize) {
        self.links.remove(&(a.min(b), a.max(b)));
        let now = self.now;
        for (x, y) in [(a, b), (b, a)] {
            let key = self.nodes[y].key;
            self.nodes[x].fed.disconnected(now, key);
        }
        self.pump();
    }

    /// Something relay `i`'s core did.
    pub(super) fn core(&mut self, i: usize, output: MeshOutput) {
        let (now, wall) = (self.now, self.wall);
        self.nodes[i].fed.from_relay(now, wall, output);
        self.pump();
    }

    /// Moves both clocks on by `by` in steps of at most a second, running the timers.
    pub(super) fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while self.now < end {
            let step = (end - self.now).min(Duration::from_secs(1));
            self.now += step;
            self.wall += step;
            let (now, wall) = (self.now, self.wall);
            for node in &mut self.nodes {
                if node.fed.next_timeout() <= now {
                    node.fed.timeout(now, wall);
                }
            }
            self.pump();
        }
    }

    /// Hands relay `to` a message as if `via` had relayed `author`'s gossip; returns the
    /// verdict (the adversary's way in: any author, any bytes).
    pub(super) fn inject(
        &mut self,
        to: usize,
        author: &NodeKey,
        via: &NodeKey,
        topic: &str,
        data: &[u8],
    ) -> Verdict {
        let (now, wall) = (self.now, self.wall);
        let gossip = Gossip {
            author,
            via,
            topic,
            data,
        };
        let verdict = self.nodes[to].fed.message(now, wall, gossip);
        self.nodes[to].verdicts.push((*author, verdict));
        self.pump();
        verdict
    }

    /// Carries out every queued action until the swarm is quiet.
    pub(super) fn pump(&mut self) {
        let mut flight: VecDeque<InFlight> = VecDeque::new();
        loop {
            let mut busy = false;
            for i in 0..self.nodes.len() {
                while let Some(action) = self.nodes[i].fed.poll() {
                    busy = true;
                    self.act(i, action, &mut flight);
                }
            }
            while let Some(event) = flight.pop_front() {
                busy = true;
                match event {
                    InFlight::Message {
                        to,
                        author,
                        via,
                        topic,
                        data,
                    } => self.deliver(to, author, via, topic, data, &mut flight),
                    InFlight::Subscription {
                        to,
                        from,
                        topic,
                        on: true,
                    } => self.nodes[to].fed.subscribed(self.now, from, &topic),
                    InFlight::Subscription {
                        to, from, topic, ..
                    } => self.nodes[to].fed.unsubscribed(self.now, from, &topic),
                }
            }
            if !busy {
                break;
            }
        }
    }

    fn act(&mut self, i: usize, action: Action, flight: &mut VecDeque<InFlight>) {
        let key = self.nodes[i].key;
        let mut tell = |swarm: &Self, topic: Topic, on: bool| {
            for to in swarm.peers(i) {
                let (from, topic) = (key, topic.name());
                flight.push_back(InFlight::Subscription {
                    to,
                    from,
                    topic,
                    on,
                });
            }
        };
        match action {
            Action::Subscribe(topic) => {
                self.nodes[i].topics.insert(topic.name());
                tell(self, topic, true);
            }
            Action::Unsubscribe(topic) => {
                self.nodes[i].topics.remove(&topic.name());
                tell(self, topic, false);
            }
            Action::Publish { topic, data } => {
                self.nodes[i].seen.insert((key, data.clone()));
                self.nodes[i].published.push((topic, data.clone()));
                self.send(i, key, topic.name(), data, None, flight);
            }
            Action::Dial { relay, addr } => self.nodes[i].dials.push((relay, addr)),
            Action::Score { relay, score } => self.nodes[i].scores.push((relay, score)),
            Action::ToRelay(input) => self.nodes[i].inbox.push(input),
        }
    }

    /// Queues `data` from `from` to its linked relays subscribed to `topic` (except `skip`).
    fn send(
        &self,
        from: usize,
        author: NodeKey,
        topic: String,
        data: Vec<u8>,
        skip: Option<usize>,
        flight: &mut VecDeque<InFlight>,
    ) {
        for p in self.peers(from) {
            if Some(p) != skip && self.nodes[p].topics.contains(&topic) {
                flight.push_back(InFlight::Message {
                    to: p,
                    author,
                    via: from,
                    topic: topic.clone(),
                    data: data.clone(),
                });
            }
        }
    }

    fn deliver(
        &mut self,
        to: usize,
        author: NodeKey,
        via: usize,
        topic: String,
        data: Vec<u8>,
        flight: &mut VecDeque<InFlight>,
    ) {
        let via_key = self.nodes[via].key;
        if author == self.nodes[to].key || !self.nodes[to].seen.insert((author, data.clone())) {
            return;
        }
        let verdict = self.nodes[to].fed.message(
            self.now,
            self.wall,
            Gossip {
                author: &author,
                via: &via_key,
                topic: &topic,
                data: &data,
            },
        );
        self.nodes[to].verdicts.push((author, verdict));
        if verdict == Verdict::Accept {
            self.send(to, author, topic, data, Some(via), flight);
        }
    }

    /// Relay `i`'s inbox, emptied.
    pub(super) fn take_inbox(&mut self, i: usize) -> Vec<MeshInput> {
        std::mem::take(&mut self.nodes[i].inbox)
    }

    /// The last directory relay `i` handed its core.
    pub(super) fn last_directory(&self, i: usize) -> Option<Vec<Vec<u8>>> {
        self.nodes[i]
            .inbox
            .iter()
            .rev()
            .find_map(|input| match input {
                MeshInput::Directory(entries) => Some(entries.clone()),
                _ => None,
            })
    }
}
