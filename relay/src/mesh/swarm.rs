//! The rust-libp2p engine behind the federation. Filled in by the swarm implementation.
