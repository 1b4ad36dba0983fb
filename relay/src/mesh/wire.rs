//! The messages relays gossip to each other (docs/federation.md, vectors in
//! `fixtures/protocol/mesh.json`). Filled in by the mesh implementation.
