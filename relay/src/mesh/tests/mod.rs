//! Tests of the federation layer: the wire codec against `fixtures/protocol/mesh.json` and
//! by property, and [`Federation`](super::node::Federation)s wired by an in-memory gossip
//! ([`fake_swarm`]) with fake time.

mod directory;
mod fake_swarm;
mod federation;
mod props;
mod vectors;
