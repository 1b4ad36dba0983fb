//! The rust-libp2p engine behind the federation.
//!
//! [`MeshSwarm`] owns a `libp2p::Swarm` whose PeerId is the relay's node key `nk`
//! ([`identity`]): TCP (Nagle off) → pnet with the `MESH_SALT` key → Noise → Yamux, and
//! gossipsub (strict signatures, validation before forwarding, flood publishing, scoring, a
//! topic filter), identify and ping. It listens on `MESH_LISTEN`, keeps the `MESH_PEERS`
//! dialled (redialled with backoff, 1 s doubling to 60 s) and reports what happened as
//! [`Notice`]s in the federation's terms (relays by [`NodeKey`], topics by name).
//! [`Mesh`] joins it to the sans-IO [`Federation`](crate::mesh::node::Federation): swarm
//! notices in, the node's actions out, [`MeshInput`](crate::core::MeshInput)s for the core.
//!
//! Why pnet for the salt: relays with different salts cannot complete a connection at all
//! (everything after TCP is encrypted with the salt's key, Noise included), so they learn
//! nothing of each other — not the PeerIds, not the topics (docs/federation.md).

mod behaviour;
mod dialer;
mod events;
mod federated;
pub mod identity;
mod settings;
mod single;
mod task;
mod throttle;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bootstrap_codec::{NodeKey, NodeSecret};
use futures_util::StreamExt as _;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageId, PublishError};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{DialError, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::mpsc;
use tracing::{debug, warn};

pub use federated::{Mesh, MeshEvent, MeshReport};
pub use settings::{HostPort, HostPortError, MeshSalt, MeshSettings, TestSettings};
pub use task::MeshTask;
pub use throttle::InboundLimit;

use self::behaviour::{Behaviour, BehaviourEvent};
use self::dialer::Dialer;
use crate::mesh::node::{Gossip, Verdict};

/// How long the engine waits for its listener to report the bound address.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections stay open while idle (relays talk rarely when rooms are quiet); ping finds
/// the dead ones.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Why the federation engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    /// A `MESH_*` value is not what the setting takes.
    #[error("{setting}: {problem}")]
    Setting {
        /// `MESH_LISTEN` or `MESH_PEERS`.
        setting: &'static str,
        /// What is wrong with the value (part of the message, not a cause).
        problem: HostPortError,
    },
    /// The `MESH_LISTEN` address cannot be resolved or bound.
    #[error("cannot listen on TCP {addr} (MESH_LISTEN)")]
    Bind {
        /// The address.
        addr: HostPort,
        /// The socket or resolver error.
        #[source]
        source: std::io::Error,
    },
    /// libp2p refused its configuration (a bug, not the operator's doing).
    #[error("libp2p engine: {0}")]
    Engine(String),
}

/// Something the swarm did, in the federation's terms.
#[derive(Debug)]
pub enum Notice {
    /// The first connection to a relay is up.
    Connected(NodeKey),
    /// The last connection to a relay closed.
    Disconnected(NodeKey),
    /// A connected relay subscribed to a topic.
    Subscribed(NodeKey, String),
    /// A connected relay unsubscribed from a topic.
    Unsubscribed(NodeKey, String),
    /// A gossip message arrived; report a [`Verdict`] with [`MeshSwarm::report`].
    Message(Box<Received>),
}

/// A gossip message waiting for its verdict.
#[derive(Debug)]
pub struct Received {
    /// The relay that signed it.
    pub author: NodeKey,
    /// The relay that handed it to us.
    pub via: NodeKey,
    /// The topic name.
    pub topic: String,
    /// The message bytes.
    pub data: Vec<u8>,
    id: MessageId,
    propagation_source: PeerId,
}

impl Received {
    /// The message as the federation node takes it.
    pub fn gossip(&self) -> Gossip<'_> {
        Gossip {
            author: &self.author,
            via: &self.via,
            topic: &self.topic,
            data: &self.data,
        }
    }
}

/// Counters of the engine itself (the node counts gossip; see `MeshStats`).
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct SwarmStats {
    /// Publications no relay was subscribed to hear (normal: a room on this relay only).
    pub publish_unheard: u64,
    /// Publications that failed otherwise (queues full, too large).
    pub publish_failed: u64,
    /// Dials that failed (refused, unreachable, another salt, unresolvable name).
    pub dial_failures: u64,
    /// Connections closed because ping went unanswered.
    pub ping_timeouts: u64,
    /// Connections refused because the two relays were connected already (one connection
    /// per pair of relays; only the relay with the smaller PeerId refuses).
    pub duplicate_connections: u64,
}

/// What [`MeshSwarm::next_event`] waited for; hand it to [`MeshSwarm::handle`].
pub struct SwarmInput(Input);

enum Input {
    Swarm(Box<SwarmEvent<BehaviourEvent>>),
    Resolved(usize, std::io::Result<SocketAddr>),
    DialTimer,
}

/// The libp2p node of a relay. See the module docs.
pub struct MeshSwarm {
    swarm: Swarm<Behaviour>,
    dialer: Dialer,
    resolved_tx: mpsc::UnboundedSender<(usize, std::io::Result<SocketAddr>)>,
    resolved_rx: mpsc::UnboundedReceiver<(usize, std::io::Result<SocketAddr>)>,
    listen_addr: Option<SocketAddr>,
    /// Which relay each open connection is to (connections to non-relays are closed).
    connections: HashMap<libp2p::swarm::ConnectionId, NodeKey>,
    stats: SwarmStats,
}

impl MeshSwarm {
    /// Builds the node for the relay whose node key is `secret`, binds `settings.listen`
    /// and waits for the bound address; the `MESH_PEERS` are dialled from the first
    /// [`Self::next_event`] on. Must be called inside a tokio runtime.
    pub async fn start(settings: &MeshSettings, secret: &NodeSecret) -> Result<Self, MeshError> {
        let keypair = identity::keypair(secret);
        let transport = behaviour::transport(&keypair, settings)?;
        let behaviour = behaviour::behaviour(&keypair, &settings.tests)?;
        let config = libp2p::swarm::Config::with_tokio_executor()
            .with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT);
        let mut swarm = Swarm::new(transport, behaviour, keypair.public().to_peer_id(), config);
        let listen_addr = match &settings.listen {
            Some(listen) => Some(listen_on(&mut swarm, listen).await?),
            None => None,
        };
        let (resolved_tx, resolved_rx) = mpsc::unbounded_channel();
        Ok(Self {
            swarm,
            dialer: Dialer::new(settings.peers.clone(), Instant::now()),
            resolved_tx,
            resolved_rx,
            listen_addr,
            connections: HashMap::new(),
            stats: SwarmStats::default(),
        })
    }

    /// The relay's PeerId (its node key).
    pub fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// The bound `MESH_LISTEN` address (its port is the one other relays dial).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen_addr
    }

    /// The engine's own counters.
    pub fn stats(&self) -> SwarmStats {
        self.stats
    }

    /// Connections to relays open now.
    pub fn connections(&self) -> usize {
        self.connections.len()
    }

    /// Waits for the next thing to handle (a swarm event, a resolved name, a redial that is
    /// due). Cancel-safe: use it in `select!`.
    pub async fn next_event(&mut self) -> SwarmInput {
        let timer = self.dialer.next_timeout();
        let sleep = async {
            match timer {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = self.swarm.select_next_some() => SwarmInput(Input::Swarm(Box::new(event))),
            Some((index, result)) = self.resolved_rx.recv() => {
                SwarmInput(Input::Resolved(index, result))
            }
            () = sleep => SwarmInput(Input::DialTimer),
        }
    }

    /// Handles what [`Self::next_event`] returned; gives what the federation must hear.
    pub fn handle(&mut self, input: SwarmInput) -> Option<Notice> {
        let now = Instant::now();
        match input.0 {
            Input::Swarm(event) => self.on_swarm_event(*event, now),
            Input::Resolved(index, Ok(addr)) => {
                self.dial_configured(index, addr, now);
                None
            }
            Input::Resolved(index, Err(e)) => {
                debug!(error = %e, "MESH_PEERS name does not resolve (yet)");
                self.stats.dial_failures += 1;
                self.dialer.not_dialled(index, now);
                None
            }
            Input::DialTimer => {
                for (index, target) in self.dialer.due(now) {
                    match target.socket_addr() {
                        Some(addr) => self.dial_configured(index, addr, now),
                        None => {
                            let tx = self.resolved_tx.clone();
                            tokio::spawn(async move {
                                let _ = tx.send((index, settings::resolve(&target).await));
                            });
                        }
                    }
                }
                None
            }
        }
    }

    /// Reports the verdict on a received message: `Accept` forwards it, `Reject` penalises
    /// the relay that handed it over, `Ignore` drops it.
    pub fn report(&mut self, message: &Received, verdict: Verdict) {
        let acceptance = match verdict {
            Verdict::Accept => MessageAcceptance::Accept,
            Verdict::Reject(_) => MessageAcceptance::Reject,
            Verdict::Ignore => MessageAcceptance::Ignore,
        };
        self.gossipsub().report_message_validation_result(
            &message.id,
            &message.propagation_source,
            acceptance,
        );
    }

    /// Publishes `data` on `topic` to every connected relay subscribed to it. Nobody being
    /// subscribed is normal (counted, not logged above debug).
    pub fn publish(&mut self, topic: &str, data: Vec<u8>) {
        match self.gossipsub().publish(IdentTopic::new(topic), data) {
            Ok(_) => {}
            Err(PublishError::NoPeersSubscribedToTopic) => {
                self.stats.publish_unheard += 1;
                debug!(topic, "published to no relay");
            }
            Err(e) => {
                self.stats.publish_failed += 1;
                warn!(topic, error = %e, "gossip publish failed");
            }
        }
    }

    /// Subscribes to `topic` (announced to every connected relay).
    pub fn subscribe(&mut self, topic: &str) {
        if let Err(e) = self.gossipsub().subscribe(&IdentTopic::new(topic)) {
            warn!(topic, error = %e, "gossip subscribe failed");
        }
    }

    /// Unsubscribes from `topic`.
    pub fn unsubscribe(&mut self, topic: &str) {
        self.gossipsub().unsubscribe(&IdentTopic::new(topic));
    }

    /// Dials a relay learned from the directory, unless connected to it or dialling it.
    pub fn dial(&mut self, relay: &NodeKey, addr: SocketAddr) {
        let opts = DialOpts::peer_id(identity::peer_id(relay))
            .addresses(vec![multiaddr(addr)])
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        match self.swarm.dial(opts) {
            Ok(()) | Err(DialError::DialPeerConditionFalse(_)) => {}
            Err(e) => {
                self.stats.dial_failures += 1;
                debug!(%relay, %addr, error = %e, "dialling a directory relay failed");
            }
        }
    }

    /// Sets a relay's application score (negative for misbehaviour; see the thresholds in
    /// `behaviour.rs`).
    pub fn set_score(&mut self, relay: &NodeKey, score: f64) {
        let peer = identity::peer_id(relay);
        self.gossipsub().set_application_score(&peer, score);
    }

    /// A relay's gossipsub score (`None` if gossipsub does not know it).
    pub fn score(&self, relay: &NodeKey) -> Option<f64> {
        self.swarm
            .behaviour()
            .gossipsub
            .peer_score(&identity::peer_id(relay))
    }

    /// Closes every connection; returns once they are closed or after `limit`.
    pub async fn close(&mut self, limit: Duration) {
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        let deadline = tokio::time::Instant::now() + limit;
        while self.swarm.connected_peers().next().is_some() {
            match tokio::time::timeout_at(deadline, self.swarm.select_next_some()).await {
                Ok(event) => {
                    let _ = self.on_swarm_event(event, Instant::now());
                }
                Err(_) => break,
            }
        }
    }

    fn gossipsub(
        &mut self,
    ) -> &mut gossipsub::Behaviour<libp2p::gossipsub::IdentityTransform, behaviour::TopicFilter>
    {
        &mut self.swarm.behaviour_mut().gossipsub
    }

    fn dial_configured(&mut self, index: usize, addr: SocketAddr, now: Instant) {
        let opts = DialOpts::unknown_peer_id().address(multiaddr(addr)).build();
        let connection = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => self.dialer.dialing(index, connection),
            Err(e) => {
                self.stats.dial_failures += 1;
                debug!(%addr, error = %e, "dialling a MESH_PEERS relay failed");
                self.dialer.not_dialled(index, now);
            }
        }
    }
}

/// Binds `listen` and waits for the listener to report its port.
async fn listen_on(
    swarm: &mut Swarm<Behaviour>,
    listen: &HostPort,
) -> Result<SocketAddr, MeshError> {
    let bind = |source| MeshError::Bind {
        addr: listen.clone(),
        source,
    };
    let addr = settings::resolve(listen).await.map_err(bind)?;
    swarm.listen_on(multiaddr(addr)).map_err(|e| match e {
        libp2p::TransportError::Other(source) => bind(unwrapped(source)),
        libp2p::TransportError::MultiaddrNotSupported(a) => {
            MeshError::Engine(format!("TCP cannot listen on {a}"))
        }
    })?;
    let bound = tokio::time::timeout(LISTEN_TIMEOUT, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address, .. } => {
                    if let Some(port) = tcp_port(&address) {
                        return Ok(port);
                    }
                }
                SwarmEvent::ListenerClosed {
                    reason: Err(source),
                    ..
                }
                | SwarmEvent::ListenerError { error: source, .. } => return Err(bind(source)),
                _ => {}
            }
        }
    })
    .await
    .map_err(|_| MeshError::Engine("the listener reported no address".into()))??;
    Ok(SocketAddr::new(addr.ip(), bound))
}

/// The error as one message: the transport's wrappers each print their cause again.
fn unwrapped(error: std::io::Error) -> std::io::Error {
    std::io::Error::new(error.kind(), error.to_string())
}

/// `/ip4/…/tcp/…` or `/ip6/…/tcp/…`.
fn multiaddr(addr: SocketAddr) -> Multiaddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) => Protocol::Ip4(ip),
        IpAddr::V6(ip) => Protocol::Ip6(ip),
    };
    Multiaddr::empty().with(ip).with(Protocol::Tcp(addr.port()))
}

fn tcp_port(addr: &Multiaddr) -> Option<u16> {
    addr.iter().find_map(|p| match p {
        Protocol::Tcp(port) => Some(port),
        _ => None,
    })
}
