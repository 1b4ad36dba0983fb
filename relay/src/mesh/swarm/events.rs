//! Swarm events in the federation's terms: connections counted per relay, subscriptions and
//! messages named by node key, dead connections (ping) closed, strangers turned away.

use std::time::Instant;

use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::swarm::{ListenError, SwarmEvent};
use libp2p::{identify, ping};
use tracing::{debug, info, warn};

use super::behaviour::{BehaviourEvent, IDENTIFY_PROTOCOL};
use super::{identity, single, MeshSwarm, Notice, Received};

impl MeshSwarm {
    pub(super) fn on_swarm_event(
        &mut self,
        event: SwarmEvent<BehaviourEvent>,
        now: Instant,
    ) -> Option<Notice> {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                endpoint,
                ..
            } => {
                self.dialer.established(connection_id);
                let Some(nk) = identity::node_key(&peer_id) else {
                    warn!(%peer_id, "a peer without an Ed25519 key is no relay; closing");
                    self.swarm.close_connection(connection_id);
                    return None;
                };
                debug!(relay = %nk, addr = %endpoint.get_remote_address(), "mesh connection up");
                self.connections.insert(connection_id, nk);
                // Only the first connection to a relay is news.
                if num_established.get() > 1 {
                    return None;
                }
                info!(relay = %nk, "relay connected");
                Some(Notice::Connected(nk))
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                cause,
                ..
            } => {
                // Another connection to the same relay stays: no redial while it is up.
                let covered = (num_established > 0).then_some(peer_id);
                self.dialer.ended(connection_id, now, covered);
                if num_established == 0 {
                    self.dialer.disconnected(peer_id, now);
                }
                let nk = self.connections.remove(&connection_id)?;
                debug!(relay = %nk, cause = ?cause, "mesh connection closed");
                (num_established == 0).then(|| {
                    info!(relay = %nk, "relay disconnected");
                    Notice::Disconnected(nk)
                })
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id,
                connection_id,
                error,
            } => {
                if single::already_connected(&error) {
                    self.stats.duplicate_connections += 1;
                    debug!(?peer_id, "already connected to the relay dialled; refused");
                    let covered = peer_id.filter(|p| self.swarm.is_connected(p));
                    self.dialer.ended(connection_id, now, covered);
                    return None;
                }
                self.dialer.ended(connection_id, now, None);
                self.stats.dial_failures += 1;
                debug!(error = %error, "mesh dial failed");
                None
            }
            SwarmEvent::IncomingConnectionError {
                error: ListenError::Denied { cause },
                peer_id,
                ..
            } if cause.downcast_ref::<single::AlreadyConnected>().is_some() => {
                self.stats.duplicate_connections += 1;
                debug!(
                    ?peer_id,
                    "already connected to the relay that dialled us; refused"
                );
                None
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                // Another salt, a port scanner, a relay of another version.
                debug!(from = %send_back_addr, error = %error, "incoming mesh connection failed");
                None
            }
            SwarmEvent::ListenerError { error, .. } => {
                warn!(error = %error, "mesh listener error");
                None
            }
            SwarmEvent::ListenerClosed { reason, .. } => {
                warn!(reason = ?reason, "mesh listener closed");
                None
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => self.on_gossip(event),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(failure),
            })) => {
                debug!(%peer, error = %failure, "ping failed; closing the connection");
                self.stats.ping_timeouts += 1;
                self.swarm.close_connection(connection);
                None
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                if info.protocol_version != IDENTIFY_PROTOCOL {
                    warn!(%peer_id, version = %info.protocol_version, "a relay of another mesh version; closing");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                }
                None
            }
            _ => None,
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) -> Option<Notice> {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                let author = message.source.as_ref().and_then(identity::node_key);
                let via = identity::node_key(&propagation_source);
                let (Some(author), Some(via)) = (author, via) else {
                    // Strict validation guarantees a signed author; a key of another type
                    // is no relay of ours.
                    self.gossipsub().report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Reject,
                    );
                    return None;
                };
                Some(Notice::Message(Box::new(Received {
                    author,
                    via,
                    topic: message.topic.into_string(),
                    data: message.data,
                    id: message_id,
                    propagation_source,
                })))
            }
            gossipsub::Event::Subscribed { peer_id, topic } => {
                let nk = identity::node_key(&peer_id)?;
                Some(Notice::Subscribed(nk, topic.into_string()))
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } => {
                let nk = identity::node_key(&peer_id)?;
                Some(Notice::Unsubscribed(nk, topic.into_string()))
            }
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                debug!(%peer_id, "peer without gossipsub; closing");
                let _ = self.swarm.disconnect_peer_id(peer_id);
                None
            }
            gossipsub::Event::SlowPeer { peer_id, .. } => {
                debug!(%peer_id, "relay too slow to take our gossip");
                None
            }
        }
    }
}
