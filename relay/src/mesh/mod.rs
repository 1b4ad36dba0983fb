//! Federation: the relays of one `MESH_SALT` form one network (docs/federation.md).
//!
//! - [`wire`]: the messages relays gossip to each other (announcements, room traffic).
//! - [`directory`]: the federation's live relays, from verified, fresh, signed entries.
//! - [`node`]: the sans-IO federation state machine ([`node::Federation`]): swarm events,
//!   the core's [`MeshOutput`](crate::core::MeshOutput)s and time in; gossip to publish,
//!   verdicts on received gossip and [`MeshInput`](crate::core::MeshInput)s for the core out.
//! - [`swarm`]: the rust-libp2p engine (TCP + pnet + Noise + Yamux, gossipsub, identify,
//!   ping) whose PeerId is the relay's node key; translates between libp2p and [`node`].
//!
//! Nothing in [`wire`], [`directory`] or [`node`] touches a socket or a clock.

pub mod directory;
pub mod node;
mod scoring;
pub mod swarm;
pub mod wire;

#[cfg(test)]
mod tests;
