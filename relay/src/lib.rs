//! Lumamesh relay: one UDP socket, many browser DataChannels, rooms and signal forwarding.
//!
//! - [`protocol`]: the Layer-1 frames spoken over the relay DataChannel (`docs/protocol.md`).
//! - [`core`]: the sans-IO relay ([`core::Relay`]): datagrams and time in, datagrams out.
//! - [`driver`]: the tokio loop that runs the core on a UDP socket.
//! - [`dtls`]: a DTLS provider that builds dimpl's configuration once (str0m builds it per
//!   `Rtc`, which dominated CPU).
//! - [`health`]: `/healthz`, `/statsz` and `/metrics` over a tiny HTTP/1.1 responder.
//! - [`client`]: a native client that connects like a browser (tests, load generation).
//! - [`load`]: the load generator behind the `lumamesh-load` binary.
//! - [`mesh`]: federation with other relays over rust-libp2p (`MESH_*`, docs/federation.md).
//! - [`local`]: a throwaway relay on a task of the current runtime (tools and tests).
//! - [`shard`]: the relay on several threads, one core per thread (`THREADS`).
//!
//! Errors are typed per module (`thiserror`); nothing here panics on network input.
//!
//! ```no_run
//! use std::time::Instant;
//! use bootstrap_codec::IceUfrag;
//! use keystore::RelayIdentity;
//! use lumamesh_relay::core::{Input, Output, Relay, RelayConfig};
//!
//! let identity = RelayIdentity::generate().unwrap();
//! let addr = "127.0.0.1:3478".parse().unwrap();
//! let entry = identity.entry("127.0.0.1".parse().unwrap(), 3478.try_into().unwrap(), IceUfrag::default_relay());
//! let mut relay = Relay::new(RelayConfig::new(&identity, &entry, addr), Instant::now()).unwrap();
//! let datagram = [0u8; 20]; // from the socket
//! relay.handle_input(Instant::now(), Input::Receive { source: "192.0.2.1:5000".parse().unwrap(), contents: &datagram });
//! loop {
//!     match relay.poll_output() {
//!         Output::Transmit(t) => { /* socket.send_to(&t.contents, t.destination) */ }
//!         Output::Timeout(at) => break, // wait for the socket or `at`, then call again
//!     }
//! }
//! ```

pub mod client;
pub mod core;
pub mod driver;
pub mod dtls;
pub mod health;
pub mod load;
pub mod local;
pub mod mesh;
pub mod protocol;
pub mod shard;
