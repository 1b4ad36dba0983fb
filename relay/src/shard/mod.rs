//! A relay on several threads: one core per thread ("shard"), one UDP socket.
//!
//! One task reads the socket in batches and hands each datagram to the shard of its
//! source's prefix ([`Router`], [`inbound`]): every address of an IPv4 /24 or an IPv6 /64 (the prefix the per-prefix
//! limits count, `core::prefix`) lands on one shard, so per-address and per-prefix limits
//! stay exact, and a flood from one prefix loads only its own shard. Which shard a prefix
//! gets is a keyed hash with a key drawn at start, so nobody can pick prefixes that land on
//! someone else's shard. Each shard runs its core ([`crate::core::Relay`], configured as a
//! [`Shard`]) on a task of its own and sends on the shared socket itself.
//!
//! To a client every shard is the same relay: same entry, tag, credentials and certificate.
//! Rooms span shards through the federation interface: each shard's
//! [`MeshOutput`](crate::core::MeshOutput)s go through the [`hub::Hub`], which hands the
//! other shards the [`MeshInput`]s they must hear.
//! The relay-wide caps (`MAX_SESSIONS`, `MAX_HANDSHAKING`, `MAX_ROOM_SIZE`) are counted by all
//! shards together ([`Shared`]).
//!
//! Known limits: version 1 sessions see only the members of their own shard (they never see
//! another relay's members either); two shards that admit joiners to a nearly full room at
//! once cannot pass `MAX_ROOM_SIZE`, but a joiner may see the other shards' members a moment
//! after its `Room` answer (as `Joined`). A federated relay runs one shard (`THREADS=1`).

pub mod hub;
mod inbound;

#[cfg(test)]
mod tests;

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::info;

use crate::core::{ConfigError, Input, MeshInput, Relay, RelayConfig, Shard, Shared, Stats};
use crate::driver::{self, flush, Socket, SHUTDOWN_GRACE, STATS_INTERVAL};
use crate::health::Snapshot;
use crate::mesh::swarm::Mesh;
use hub::Hub;
use inbound::{Datagram, Inbound};

/// Datagrams waiting for one shard; past this, the receive task drops them and counts them
/// ([`inbound`]).
const QUEUE: usize = 4096;

/// Most inputs one shard handles in a turn before it flushes what they made it send.
const BATCH: usize = 64;

/// Picks the shard for a datagram's source: a keyed hash of the source's prefix.
#[derive(Debug, Clone)]
pub struct Router {
    key: RandomState,
    shards: usize,
}

impl Router {
    /// A router over `shards` shards with a fresh random key.
    pub fn new(shards: usize) -> Self {
        Self {
            key: RandomState::new(),
            shards: shards.max(1),
        }
    }

    /// The shard that serves `source`: the same for every address of its prefix.
    pub fn shard_of(&self, source: SocketAddr) -> usize {
        let prefix = crate::core::prefix(source.ip());
        (self.key.hash_one(prefix) % self.shards as u64) as usize
    }
}

/// A relay's cores, ready to run: one, run by [`driver::run`] (boxed: far larger than the
/// shards' handle), or several shards (never federated).
pub enum Cores {
    /// One core on the current task.
    One(Box<Relay>),
    /// Several shards, each on a task of its own.
    Sharded(Shards),
}

impl std::fmt::Debug for Cores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::One(_) => f.write_str("Cores::One"),
            Self::Sharded(shards) => f.debug_tuple("Cores::Sharded").field(shards).finish(),
        }
    }
}

impl Cores {
    /// One core from `config` if `threads` is 0 or 1, else `threads` shards ([`Shards::new`]).
    pub fn new(config: RelayConfig, threads: usize, now: Instant) -> Result<Self, ConfigError> {
        Ok(if threads > 1 {
            Self::Sharded(Shards::new(config, threads, now)?)
        } else {
            Self::One(Box::new(Relay::new(config, now)?))
        })
    }

    /// Runs the cores on `socket` until `shutdown` resolves and the graceful shutdown is
    /// over ([`driver::run`], [`Shards::run`]). Only one core can be federated: shards given
    /// a `mesh` refuse to start.
    pub async fn run(
        self,
        socket: Socket,
        mesh: Option<Mesh>,
        shutdown: impl Future<Output = ()>,
        stats: watch::Sender<Snapshot>,
    ) -> std::io::Result<()> {
        match (self, mesh) {
            (Self::One(relay), mesh) => driver::run(*relay, socket, mesh, shutdown, stats).await,
            (Self::Sharded(shards), None) => shards.run(socket, shutdown, stats).await,
            (Self::Sharded(_), Some(_)) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a federated relay runs one core, not shards",
            )),
        }
    }
}

/// The cores of one sharded relay, ready to run.
pub struct Shards {
    relays: Vec<Relay>,
    shared: Shared,
}

impl std::fmt::Debug for Shards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shards")
            .field("shards", &self.relays.len())
            .finish_non_exhaustive()
    }
}

impl Shards {
    /// `threads` cores (at least 1) from one relay's `config`, each a [`Shard`] sharing the
    /// relay-wide counts.
    pub fn new(config: RelayConfig, threads: usize, now: Instant) -> Result<Self, ConfigError> {
        let shared = Shared::default();
        let count = u32::try_from(threads.max(1)).unwrap_or(u32::MAX);
        let relays = (0..count)
            .map(|index| {
                let mut config = config.clone();
                config.shard = Shard::new(index, count, shared.clone());
                Relay::new(config, now)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { relays, shared })
    }

    /// How many shards.
    pub fn len(&self) -> usize {
        self.relays.len()
    }

    /// Always false: there is at least one shard.
    pub fn is_empty(&self) -> bool {
        self.relays.is_empty()
    }

    /// Runs every shard on its own task of the current runtime (spread over its worker
    /// threads) until `shutdown` resolves and every shard's graceful shutdown is over, like
    /// [`crate::driver::run`]. The stats published on `stats` are all shards' summed, with
    /// `rooms` the relay's distinct rooms.
    pub async fn run(
        self,
        socket: Socket,
        shutdown: impl Future<Output = ()>,
        stats: watch::Sender<Snapshot>,
    ) -> std::io::Result<()> {
        let socket = Arc::new(socket);
        let n = self.relays.len();
        let tag = self.relays[0].tag();
        let mut inboxes = Vec::with_capacity(n);
        let mut mesh_rxs = Vec::with_capacity(n);
        let mut queues = Vec::with_capacity(n);
        let mut queue_rxs = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = mpsc::unbounded_channel();
            inboxes.push(tx);
            mesh_rxs.push(rx);
            let (tx, rx) = mpsc::channel(QUEUE);
            queues.push(tx);
            queue_rxs.push(rx);
        }
        let links = Arc::new(Links {
            hub: Mutex::new(Hub::new(tag, n)),
            inboxes,
        });
        let publisher = Arc::new(Publisher {
            slots: Mutex::new(vec![Stats::default(); n]),
            shared: self.shared,
            socket: socket.clone(),
            tx: stats,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for (((k, relay), queue), mesh_rx) in self
            .relays
            .into_iter()
            .enumerate()
            .zip(queue_rxs)
            .zip(mesh_rxs)
        {
            let shard = ShardTask {
                index: k,
                relay,
                socket: socket.clone(),
                queue,
                mesh: mesh_rx,
                links: links.clone(),
                publisher: publisher.clone(),
                stop: stop_rx.clone(),
            };
            tasks.spawn(shard.run());
        }
        // In a set of its own, so that it ends with this future however that ends.
        let mut receiver = JoinSet::new();
        receiver.spawn(Inbound::new(Router::new(n), queues).run(socket));
        info!(shards = n, "relay shards running");
        let mut shutdown = std::pin::pin!(shutdown);
        let mut result = Ok(());
        let mut stopping = false;
        loop {
            tokio::select! {
                () = &mut shutdown, if !stopping => {
                    stop_tx.send_replace(true);
                    stopping = true;
                }
                done = tasks.join_next() => match done {
                    None => break,
                    Some(Ok(Ok(()))) => {}
                    Some(Ok(Err(e))) => {
                        result = Err(e);
                        stop_tx.send_replace(true);
                        stopping = true;
                    }
                    Some(Err(e)) => {
                        result = Err(std::io::Error::other(format!("relay shard: {e}")));
                        stop_tx.send_replace(true);
                        stopping = true;
                    }
                },
            }
        }
        receiver.abort_all();
        info!("relay stopped");
        result
    }
}

/// The hub and every shard's inbox.
struct Links {
    hub: Mutex<Hub>,
    inboxes: Vec<mpsc::UnboundedSender<MeshInput>>,
}

impl Links {
    /// Hands what shard `k`'s sessions did to the hub and its answers to the shards they
    /// are for; returns whether anything moved. The inputs are queued while the hub is held,
    /// so each shard gets them in the hub's order.
    fn route(&self, k: usize, relay: &mut Relay) -> bool {
        let Some(first) = relay.poll_mesh() else {
            return false;
        };
        let mut out = Vec::new();
        let mut hub = self.hub();
        let mut next = Some(first);
        while let Some(output) = next {
            hub.handle(k, output, &mut out);
            next = relay.poll_mesh();
        }
        for (shard, input) in out {
            // A shard that has stopped needs nothing more.
            let _ = self.inboxes[shard].send(input);
        }
        true
    }

    fn hub(&self) -> MutexGuard<'_, Hub> {
        self.hub.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Sums the shards' stats into the snapshot the health server reads.
struct Publisher {
    slots: Mutex<Vec<Stats>>,
    shared: Shared,
    socket: Arc<Socket>,
    tx: watch::Sender<Snapshot>,
}

impl Publisher {
    fn publish(&self, k: usize, stats: Stats) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots[k] = stats;
        let mut total: Stats = slots.iter().copied().sum();
        total.rooms = self.shared.rooms() as u64;
        self.tx.send_replace(Snapshot {
            relay: total,
            mesh: None,
            io: self.socket.stats(),
        });
    }
}

/// One shard's loop: its queue, its inbox from the hub, its timer and the stop signal.
struct ShardTask {
    index: usize,
    relay: Relay,
    socket: Arc<Socket>,
    queue: mpsc::Receiver<Datagram>,
    mesh: mpsc::UnboundedReceiver<MeshInput>,
    links: Arc<Links>,
    publisher: Arc<Publisher>,
    stop: watch::Receiver<bool>,
}

impl ShardTask {
    async fn run(mut self) -> std::io::Result<()> {
        let mut closing_until: Option<Instant> = None;
        let mut next_stats = Instant::now();
        loop {
            let wake = loop {
                self.links.route(self.index, &mut self.relay);
                let wake = flush(&mut self.relay, &self.socket).await;
                if !self.links.route(self.index, &mut self.relay) {
                    break wake;
                }
            };
            let now = Instant::now();
            if now >= next_stats {
                self.publisher.publish(self.index, self.relay.stats());
                next_stats = now + STATS_INTERVAL;
            }
            if let Some(until) = closing_until {
                if self.relay.is_empty() || now >= until {
                    self.links.route(self.index, &mut self.relay);
                    flush(&mut self.relay, &self.socket).await;
                    self.publisher.publish(self.index, self.relay.stats());
                    return Ok(());
                }
            }
            let mut wake = wake.min(next_stats);
            if let Some(until) = closing_until {
                wake = wake.min(until);
            }
            let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(wake));
            tokio::select! {
                Some(datagram) = self.queue.recv() => {
                    self.receive(&datagram);
                    for _ in 1..BATCH {
                        let Ok(datagram) = self.queue.try_recv() else { break };
                        self.receive(&datagram);
                    }
                }
                () = sleep => self.relay.handle_input(Instant::now(), Input::Timeout),
                Some(input) = self.mesh.recv() => {
                    self.relay.handle_mesh(Instant::now(), input);
                    for _ in 1..BATCH {
                        let Ok(input) = self.mesh.try_recv() else { break };
                        self.relay.handle_mesh(Instant::now(), input);
                    }
                }
                () = stopped(&mut self.stop), if closing_until.is_none() => {
                    let now = Instant::now();
                    info!(shard = self.index, sessions = self.relay.stats().sessions, "shutting down, telling clients");
                    self.relay.shutdown(now);
                    closing_until = Some(now + SHUTDOWN_GRACE);
                }
            }
        }
    }

    fn receive(&mut self, datagram: &Datagram) {
        let input = Input::Receive {
            source: datagram.source,
            contents: &datagram.contents,
        };
        self.relay.handle_input(Instant::now(), input);
    }
}

/// Resolves once the relay is told to stop (or whoever could tell it is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
