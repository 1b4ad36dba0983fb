//! One connection per pair of relays. Two relays that dial each other (each in the other's
//! `MESH_PEERS`, or both learning each other at once) would otherwise keep two connections,
//! and gossipsub, which sends a relay's queue over whichever connection is ready, would let
//! messages overtake each other (`out_of_order`).
//!
//! The relay with the smaller PeerId decides: it keeps its first connection to a relay and
//! refuses every further one the moment it is set up, before any protocol runs on it; the
//! relay with the larger PeerId refuses nothing. Only one side choosing, the two always agree,
//! and nothing is lost on the refused connection: with no protocol answered on it, nothing
//! can be sent over it, so what either side queued goes out over the one that stays.

use std::collections::HashMap;
use std::convert::Infallible;
use std::task::{Context, Poll};

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::swarm::behaviour::ConnectionEstablished;
use libp2p::swarm::{
    dummy, ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// Why a connection was refused: the relays are connected already.
#[derive(Debug, thiserror::Error)]
#[error("already connected to this relay (one connection per pair of relays)")]
pub(super) struct AlreadyConnected;

/// The behaviour that refuses a second connection to a relay (see the module docs). It
/// must come first in [`Behaviour`](super::behaviour::Behaviour), so that it refuses before
/// gossipsub registers the connection.
pub(super) struct OneConnection {
    local: PeerId,
    /// Established connections per relay.
    established: HashMap<PeerId, usize>,
}

impl OneConnection {
    pub(super) fn new(local: PeerId) -> Self {
        Self {
            local,
            established: HashMap::new(),
        }
    }

    fn admit(&self, peer: PeerId) -> Result<dummy::ConnectionHandler, ConnectionDenied> {
        if self.local < peer && self.established.contains_key(&peer) {
            return Err(ConnectionDenied::new(AlreadyConnected));
        }
        Ok(dummy::ConnectionHandler)
    }
}

impl NetworkBehaviour for OneConnection {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.admit(peer)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.admit(peer)
    }

    fn on_swarm_event(&mut self, event: FromSwarm<'_>) {
        match event {
            FromSwarm::ConnectionEstablished(ConnectionEstablished { peer_id, .. }) => {
                *self.established.entry(peer_id).or_default() += 1;
            }
            FromSwarm::ConnectionClosed(ConnectionClosed {
                peer_id,
                remaining_established,
                ..
            }) => {
                if remaining_established == 0 {
                    self.established.remove(&peer_id);
                } else {
                    self.established.insert(peer_id, remaining_established);
                }
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

/// Whether a dial failed only because the relays are connected already.
pub(super) fn already_connected(error: &libp2p::swarm::DialError) -> bool {
    match error {
        libp2p::swarm::DialError::Denied { cause } => {
            cause.downcast_ref::<AlreadyConnected>().is_some()
        }
        _ => false,
    }
}
