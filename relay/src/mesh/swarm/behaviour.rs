//! What a relay's libp2p node is made of: the transport (TCP → pnet → Noise → Yamux) and
//! the behaviours (one connection per relay; gossipsub with strict signatures, validation and
//! scoring; identify; ping).

use std::time::Duration;

use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::{Boxed, Transport as _};
use libp2p::core::upgrade::Version;
use libp2p::gossipsub::{
    self, IdentityTransform, MaxCountSubscriptionFilter, MessageAuthenticity, PeerScoreParams,
    PeerScoreThresholds, TopicHash, TopicSubscriptionFilter, ValidationMode,
};
use libp2p::identity::Keypair;
use libp2p::pnet::PnetConfig;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, noise, ping, tcp, yamux, PeerId};

use super::settings::{MeshSettings, TestSettings};
use super::single::OneConnection;
use super::throttle::Throttled;
use super::MeshError;
use crate::mesh::node::Topic;
use crate::protocol::MAX_FRAME_LEN;

/// The largest gossip message: a room `Signal` (type, room, time, from, to) with the largest
/// blob, 16,396 bytes.
pub(super) const MAX_MESSAGE: usize = 1 + 32 + 8 + 4 + 12 + (MAX_FRAME_LEN - 45);

/// What gossipsub wraps around a message: author PeerId, sequence number, topic name,
/// signature and protobuf framing (about 200 bytes; rounded up).
const MESSAGE_OVERHEAD: usize = 512;

/// How many of the largest messages one RPC may carry (gossipsub's limit is per RPC).
const MESSAGES_PER_RPC: usize = 4;

/// Most topics one relay may be subscribed to: the directory and a room per local room.
pub(super) const MAX_TOPICS_PER_RELAY: usize = 1 + 10_000;

/// Most subscription changes in one RPC (gossipsub sends one per topic).
const MAX_SUBSCRIPTIONS_PER_RPC: usize = 1_000;

/// Identify's protocol version: relays of another version are not federated with.
pub(super) const IDENTIFY_PROTOCOL: &str = "/lumamesh/mesh/1";

/// Ping every 5 s; a connection with no answer for 10 s is closed (a silent death).
const PING_INTERVAL: Duration = Duration::from_secs(5);
const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection set-up (TCP, pnet, Noise, Yamux) must finish in this time.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);

/// Application score weight: the node's `Action::Score` values count as they are, so the
/// thresholds below are in the node's units.
const APP_SCORE_WEIGHT: f64 = 1.0;

/// Below this score a relay's gossip (IHAVE/IWANT) is ignored …
const GOSSIP_THRESHOLD: f64 = -10.0;
/// … we stop publishing to it …
const PUBLISH_THRESHOLD: f64 = -50.0;
/// … and everything it sends is dropped (graylisted).
const GRAYLIST_THRESHOLD: f64 = -80.0;

/// A relay's libp2p behaviours. `single` comes first: it refuses a second connection to a
/// relay before the others see it.
#[derive(NetworkBehaviour)]
pub(super) struct Behaviour {
    pub(super) single: OneConnection,
    pub(super) gossipsub: gossipsub::Behaviour<IdentityTransform, TopicFilter>,
    pub(super) identify: identify::Behaviour,
    pub(super) ping: ping::Behaviour,
}

/// TCP with Nagle off (signals are small and latency matters), each connection's reads held
/// to the inbound limit ([`Throttled`]), then the salt's pnet, then Noise (authenticates the
/// PeerId = node key), then Yamux.
pub(super) fn transport(
    keypair: &Keypair,
    settings: &MeshSettings,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, MeshError> {
    let psk = settings.salt.pre_shared_key();
    let inbound = settings.tests.inbound;
    let noise = noise::Config::new(keypair).map_err(|e| MeshError::Engine(e.to_string()))?;
    Ok(tcp::tokio::Transport::new(tcp::Config::new().nodelay(true))
        .map(move |socket, _| Throttled::new(socket, inbound))
        .and_then(move |socket, _| PnetConfig::new(psk).handshake(socket))
        .upgrade(Version::V1)
        .authenticate(noise)
        .multiplex(yamux::Config::default())
        .timeout(UPGRADE_TIMEOUT)
        .boxed())
}

/// The behaviours, configured for our messages and our threat model (docs/federation.md).
pub(super) fn behaviour(keypair: &Keypair, tests: &TestSettings) -> Result<Behaviour, MeshError> {
    let engine = |e: String| MeshError::Engine(e);
    let config = gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Strict)
        .validate_messages()
        .flood_publish(true)
        .max_transmit_size(MESSAGES_PER_RPC * (MAX_MESSAGE + MESSAGE_OVERHEAD))
        .heartbeat_interval(tests.heartbeat)
        .heartbeat_initial_delay(tests.heartbeat)
        .duplicate_cache_time(Duration::from_secs(60))
        .build()
        .map_err(|e| engine(e.to_string()))?;
    let mut gossipsub = gossipsub::Behaviour::new_with_subscription_filter(
        MessageAuthenticity::Signed(keypair.clone()),
        config,
        topic_filter(tests.max_topics_per_relay),
    )
    .map_err(|e| engine(e.to_owned()))?;
    gossipsub
        .with_peer_score(score_params(tests), thresholds())
        .map_err(engine)?;
    let identify = identify::Behaviour::new(
        identify::Config::new(IDENTIFY_PROTOCOL.to_owned(), keypair.public())
            .with_agent_version(format!("lumamesh-relay/{}", env!("CARGO_PKG_VERSION"))),
    );
    let ping = ping::Behaviour::new(
        ping::Config::new()
            .with_interval(PING_INTERVAL)
            .with_timeout(PING_TIMEOUT),
    );
    Ok(Behaviour {
        single: OneConnection::new(keypair.public().to_peer_id()),
        gossipsub,
        identify,
        ping,
    })
}

/// Scores: the node's application score is the judge of what relays send (refused and
/// excess gossip, docs/federation.md "Penalties"); no per-topic scores (with flood publishing
/// and one hop, mesh delivery scores would punish honest relays of quiet rooms, and a second
/// penalty for invalid messages would change the node's arithmetic). Gossipsub keeps its own
/// penalties for protocol misbehaviour (broken IWANT promises, early re-GRAFTs) and, in
/// production, for many relays behind one IP address.
fn score_params(tests: &TestSettings) -> PeerScoreParams {
    let mut params = PeerScoreParams {
        app_specific_weight: APP_SCORE_WEIGHT,
        ..PeerScoreParams::default()
    };
    if !tests.colocation_penalty {
        params.ip_colocation_factor_weight = 0.0;
    }
    params
}

fn thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        gossip_threshold: GOSSIP_THRESHOLD,
        publish_threshold: PUBLISH_THRESHOLD,
        graylist_threshold: GRAYLIST_THRESHOLD,
        ..PeerScoreThresholds::default()
    }
}

/// Accepts only our topic names ([`Topic::parse`]).
pub(super) struct OurTopics;

impl TopicSubscriptionFilter for OurTopics {
    fn can_subscribe(&mut self, topic: &TopicHash) -> bool {
        Topic::parse(topic.as_str()).is_some()
    }
}

/// Our topics, and a cap on how many one relay may be subscribed to (so that a relay cannot
/// make us track unbounded subscriptions).
pub(super) type TopicFilter = MaxCountSubscriptionFilter<OurTopics>;

fn topic_filter(max_topics: usize) -> TopicFilter {
    MaxCountSubscriptionFilter {
        filter: OurTopics,
        max_subscribed_topics: max_topics,
        max_subscriptions_per_request: MAX_SUBSCRIPTIONS_PER_RPC,
    }
}

#[cfg(test)]
mod tests {
    use libp2p::gossipsub::{IdentTopic, TopicSubscriptionFilter};

    use super::{topic_filter, MAX_MESSAGE, MAX_TOPICS_PER_RELAY};
    use crate::mesh::node::Topic;
    use crate::protocol::RoomId;

    #[test]
    fn the_largest_message_is_a_signal_with_the_largest_blob() {
        assert_eq!(MAX_MESSAGE, 16_396);
    }

    #[test]
    fn only_our_topics_pass() {
        let mut filter = topic_filter(MAX_TOPICS_PER_RELAY);
        let room = Topic::Room(RoomId::from_bytes([0xab; 32])).name();
        let upper = room
            .to_uppercase()
            .replace("LUMAMESH/1/ROOM/", "lumamesh/1/room/");
        for (name, ok) in [
            (Topic::Relays.name().as_str(), true),
            (room.as_str(), true),
            (upper.as_str(), false),
            ("lumamesh/1/room/abcd", false),
            ("lumamesh/2/relays", false),
            ("/eth2/beacon_block", false),
            ("", false),
        ] {
            assert_eq!(
                filter.can_subscribe(&IdentTopic::new(name).hash()),
                ok,
                "{name}"
            );
        }
    }
}
