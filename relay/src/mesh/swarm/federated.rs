//! [`Mesh`]: the libp2p engine and the sans-IO federation node, joined. The driver runs it
//! in the same task as the UDP socket: swarm events and the node's timer come in through
//! [`Mesh::next_event`] / [`Mesh::handle`], the core's outputs through [`Mesh::from_relay`],
//! and [`Mesh::poll_input`] carries out the node's actions and yields what the core must
//! hear.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use bootstrap_codec::{NodeSecret, RelayEntry};
use libp2p::PeerId;
use tracing::debug;

use super::{MeshError, MeshSettings, MeshSwarm, Notice, SwarmInput, SwarmStats};
use crate::core::{MeshInput, MeshOutput};
use crate::mesh::node::{Action, Federation, FederationConfig, MeshStats};

/// How long a closing relay keeps driving the swarm so that its last gossip (its members
/// leaving) goes out before the connections close.
const CLOSE_FLUSH: Duration = Duration::from_millis(300);

/// How long a closing relay waits for its connections to close.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

/// What the federation layer reports for `/statsz` and `/metrics`.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct MeshReport {
    /// The node's counters and gauges.
    #[serde(flatten)]
    pub node: MeshStats,
    /// The engine's own counters.
    pub swarm: SwarmStats,
    /// Connections to other relays open now (one per relay, once both sides settled).
    pub connections: u64,
}

/// What [`Mesh::next_event`] waited for; hand it to [`Mesh::handle`].
pub struct MeshEvent(Event);

enum Event {
    Swarm(SwarmInput),
    Timer,
}

/// A relay's federation: [`MeshSwarm`] plus [`Federation`].
pub struct Mesh {
    swarm: MeshSwarm,
    federation: Federation,
}

impl Mesh {
    /// Starts the engine (binds `MESH_LISTEN`) and the node, which announces `entry` with
    /// the bound port. Must be called inside a tokio runtime.
    pub async fn start(
        settings: &MeshSettings,
        secret: &NodeSecret,
        entry: &RelayEntry,
    ) -> Result<Self, MeshError> {
        let swarm = MeshSwarm::start(settings, secret).await?;
        let mesh_port = swarm.listen_addr().map(|addr| addr.port());
        let mut config = FederationConfig::new(entry.clone(), mesh_port);
        if let Some(every) = settings.tests.announce_every {
            config.announce_every = every;
        }
        if let Some((per_sec, burst)) = settings.tests.room_rate {
            config.room_messages_per_sec = per_sec;
            config.room_message_burst = burst;
        }
        let federation = Federation::new(config, Instant::now(), SystemTime::now());
        Ok(Self { swarm, federation })
    }

    /// The relay's libp2p PeerId (its node key).
    pub fn peer_id(&self) -> PeerId {
        self.swarm.peer_id()
    }

    /// The bound `MESH_LISTEN` address, if listening.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.swarm.listen_addr()
    }

    /// Counters and gauges.
    pub fn report(&self) -> MeshReport {
        MeshReport {
            node: self.federation.stats(),
            swarm: self.swarm.stats(),
            connections: self.swarm.connections() as u64,
        }
    }

    /// Waits for a swarm event or the node's timer. Cancel-safe.
    pub async fn next_event(&mut self) -> MeshEvent {
        let at = self.federation.next_timeout();
        tokio::select! {
            input = self.swarm.next_event() => MeshEvent(Event::Swarm(input)),
            () = tokio::time::sleep_until(at.into()) => MeshEvent(Event::Timer),
        }
    }

    /// Handles what [`Self::next_event`] returned. Drain [`Self::poll_input`] afterwards.
    pub fn handle(&mut self, event: MeshEvent) {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let input = match event.0 {
            Event::Timer => {
                self.federation.timeout(now, wall);
                return;
            }
            Event::Swarm(input) => input,
        };
        match self.swarm.handle(input) {
            None => {}
            Some(Notice::Connected(relay)) => self.federation.connected(now, relay),
            Some(Notice::Disconnected(relay)) => self.federation.disconnected(now, relay),
            Some(Notice::Subscribed(relay, topic)) => {
                debug!(%relay, topic, "relay subscribed");
                self.federation.subscribed(now, relay, &topic)
            }
            Some(Notice::Unsubscribed(relay, topic)) => {
                debug!(%relay, topic, "relay unsubscribed");
                self.federation.unsubscribed(now, relay, &topic)
            }
            Some(Notice::Message(message)) => {
                let verdict = self.federation.message(now, wall, message.gossip());
                debug!(
                    author = %message.author,
                    via = %message.via,
                    topic = message.topic,
                    len = message.data.len(),
                    ?verdict,
                    "gossip in"
                );
                self.swarm.report(&message, verdict);
            }
        }
    }

    /// Something the core's sessions did. Drain [`Self::poll_input`] afterwards.
    pub fn from_relay(&mut self, output: MeshOutput) {
        self.federation
            .from_relay(Instant::now(), SystemTime::now(), output);
    }

    /// Carries out the node's actions on the swarm and returns the next input for the core,
    /// or `None` when nothing is left.
    pub fn poll_input(&mut self) -> Option<MeshInput> {
        while let Some(action) = self.federation.poll() {
            match action {
                Action::ToRelay(input) => return Some(input),
                Action::Publish { topic, data } => self.swarm.publish(&topic.name(), data),
                Action::Subscribe(topic) => self.swarm.subscribe(&topic.name()),
                Action::Unsubscribe(topic) => self.swarm.unsubscribe(&topic.name()),
                Action::Dial { relay, addr } => self.swarm.dial(&relay, addr),
                Action::Score { relay, score } => self.swarm.set_score(&relay, score),
            }
        }
        None
    }

    /// Leaves the federation: the gossip already queued goes out, then every connection
    /// closes, so the other relays drop this relay's members at once.
    pub async fn close(mut self) {
        while self.poll_input().is_some() {}
        let flush = tokio::time::sleep(CLOSE_FLUSH);
        tokio::pin!(flush);
        loop {
            tokio::select! {
                event = self.next_event() => {
                    self.handle(event);
                    // The core is gone: what the node would tell it no longer matters.
                    while self.poll_input().is_some() {}
                }
                () = &mut flush => break,
            }
        }
        self.swarm.close(CLOSE_LIMIT).await;
    }
}
