//! A throwaway relay inside the current tokio runtime, for tools and tests that need a relay
//! to talk to but not a deployed one (`lumamesh check`, browser tests).
//!
//! [`LocalRelay::start`] generates a fresh identity (nothing is written to disk), binds a UDP
//! socket on an ephemeral port of the given address, signs an entry for it and runs the
//! [`driver`](crate::driver) on a spawned task. [`LocalRelay::stop`] shuts it down
//! gracefully; dropping a `LocalRelay` aborts the task at once.
//! [`LocalRelay::start_with`] also federates it ([`LocalOptions::mesh`]): its mesh listen
//! address is [`LocalRelay::mesh_addr`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), lumamesh_relay::local::LocalRelayError> {
//! use lumamesh_relay::local::LocalRelay;
//!
//! let relay = LocalRelay::start("127.0.0.1".parse().unwrap()).await?;
//! println!("relay.txt line: {}", relay.entry().to_line());
//! relay.stop().await?;
//! # Ok(()) }
//! ```

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU16;
use std::time::Instant;

use bootstrap_codec::{AddressError, IceUfrag, RelayAddress, RelayEntry};
use keystore::{IdentityError, RelayIdentity};
use tokio::net::UdpSocket;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::core::{ConfigError, Limits, RelayConfig, Stats};
use crate::driver::{self, Socket};
use crate::health::Snapshot;
use crate::mesh::swarm::{Mesh, MeshError, MeshReport, MeshSettings};
use crate::shard::Cores;

/// Why a local relay could not start, or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum LocalRelayError {
    /// The throwaway identity could not be generated.
    #[error("cannot generate a relay identity")]
    Identity(#[from] IdentityError),
    /// The address cannot go into a relay entry (unspecified or multicast, say).
    #[error("address {ip} cannot be a relay address")]
    Address {
        /// The address given.
        ip: IpAddr,
        /// Why it was refused.
        #[source]
        source: AddressError,
    },
    /// Binding the UDP socket failed.
    #[error("cannot bind UDP {ip}:0")]
    Bind {
        /// The address given.
        ip: IpAddr,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// The relay core refused its configuration.
    #[error("relay configuration")]
    Config(#[from] ConfigError),
    /// The federation engine did not start.
    #[error("relay mesh")]
    Mesh(#[from] MeshError),
    /// The driver stopped with a socket error.
    #[error("relay driver")]
    Driver(#[source] std::io::Error),
    /// A federated local relay was asked for more than one thread.
    #[error("a federated relay runs on one thread, not {threads}")]
    FederatedThreads {
        /// The threads asked for.
        threads: usize,
    },
    /// The driver task panicked or was cancelled.
    #[error("relay task did not finish: {0}")]
    Task(String),
}

/// How to run a local relay; [`LocalOptions::default`] is a relay on its own.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// Federate it with these settings (listen on `127.0.0.1:0` to get a free port; the
    /// test settings may open loopback colocation and shorten timings).
    pub mesh: Option<MeshSettings>,
    /// Limits instead of [`Limits::default`] (a demo relay that takes one session, say).
    pub limits: Option<Limits>,
}

/// A relay running on a task of the current tokio runtime, with a throwaway identity.
///
/// Dropping it aborts the task (and closes the socket); call [`LocalRelay::stop`] for a
/// graceful shutdown that tells connected clients first.
#[derive(Debug)]
pub struct LocalRelay {
    entry: RelayEntry,
    local_addr: SocketAddr,
    mesh_addr: Option<SocketAddr>,
    peer_id: Option<libp2p::PeerId>,
    stats: watch::Receiver<Snapshot>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl LocalRelay {
    /// Starts a relay on `(ip, 0)` with a freshly generated identity and the default ICE
    /// ufrag. Must be called inside a tokio runtime.
    pub async fn start(ip: IpAddr) -> Result<Self, LocalRelayError> {
        Self::start_with(ip, LocalOptions::default()).await
    }

    /// Like [`Self::start`], with `options` (a federated relay, say).
    pub async fn start_with(ip: IpAddr, options: LocalOptions) -> Result<Self, LocalRelayError> {
        Self::start_sharded(ip, options, 1).await
    }

    /// Like [`Self::start_with`], with `threads` shards ([`crate::shard`]; 0 and 1 both mean
    /// one core, as [`Self::start_with`]). The shards share the current runtime's threads (on
    /// a current-thread runtime, its one thread). A federated relay runs one.
    pub async fn start_sharded(
        ip: IpAddr,
        options: LocalOptions,
        threads: usize,
    ) -> Result<Self, LocalRelayError> {
        if threads > 1 && options.mesh.is_some() {
            return Err(LocalRelayError::FederatedThreads { threads });
        }
        let identity = RelayIdentity::generate()?;
        let address =
            RelayAddress::from_ip(ip).map_err(|source| LocalRelayError::Address { ip, source })?;
        let bind = |source| LocalRelayError::Bind { ip, source };
        let socket = UdpSocket::bind((ip, 0)).await.map_err(bind)?;
        let socket = Socket::new(socket).map_err(bind)?;
        socket.set_buffer_sizes(driver::DEFAULT_BUFFER_BYTES);
        let local_addr = socket.local_addr().map_err(bind)?;
        // The kernel never hands out port 0 for a bound socket.
        let port = NonZeroU16::new(local_addr.port()).expect("bound UDP socket has a port");
        let entry = identity.entry(address, port, IceUfrag::default_relay());
        let mut config = RelayConfig::new(&identity, &entry, local_addr);
        config.federated = options.mesh.is_some();
        if let Some(limits) = &options.limits {
            config.limits = limits.clone();
        }
        let cores = Cores::new(config, threads, Instant::now())?;
        let mesh = match &options.mesh {
            Some(settings) => Some(Mesh::start(settings, identity.node_secret(), &entry).await?),
            None => None,
        };
        let mesh_addr = mesh.as_ref().and_then(Mesh::listen_addr);
        let peer_id = mesh.as_ref().map(Mesh::peer_id);
        let (stats_tx, stats_rx) = watch::channel(Snapshot::default());
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        // A dropped sender also ends the wait, which starts the graceful shutdown.
        let shutdown = async move {
            let _ = shutdown_rx.await;
        };
        let task = tokio::spawn(cores.run(socket, mesh, shutdown, stats_tx));
        Ok(Self {
            entry,
            local_addr,
            mesh_addr,
            peer_id,
            stats: stats_rx,
            shutdown: Some(shutdown_tx),
            task: Some(task),
        })
    }

    /// The relay's signed entry (address, port, fingerprint, ICE credentials, node key).
    pub fn entry(&self) -> &RelayEntry {
        &self.entry
    }

    /// The address the UDP socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where it listens for other relays, if federated and listening.
    pub fn mesh_addr(&self) -> Option<SocketAddr> {
        self.mesh_addr
    }

    /// Its libp2p PeerId (its node key), if federated.
    pub fn peer_id(&self) -> Option<libp2p::PeerId> {
        self.peer_id
    }

    /// The latest stats the driver published (it publishes every 250 ms).
    pub fn stats(&self) -> Stats {
        self.stats.borrow().relay
    }

    /// The latest federation stats, if federated.
    pub fn mesh_report(&self) -> Option<MeshReport> {
        self.stats.borrow().mesh
    }

    /// A receiver of every snapshot the driver publishes (to wait for a condition).
    pub fn watch(&self) -> watch::Receiver<Snapshot> {
        self.stats.clone()
    }

    /// Shuts down gracefully: connected clients are told (`Closing ShuttingDown`) and the
    /// driver exits once they are gone or after [`driver::SHUTDOWN_GRACE`].
    pub async fn stop(mut self) -> Result<(), LocalRelayError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        match task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(LocalRelayError::Driver(e)),
            Err(e) => Err(LocalRelayError::Task(e.to_string())),
        }
    }
}

impl Drop for LocalRelay {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{LocalOptions, LocalRelay};
    use crate::client::UdpClient;
    use crate::driver::{RECV_BATCH, RECV_ROUNDS};
    use crate::protocol::{ClientMessage, CloseCode, RelayMessage, PROTOCOL_VERSION};

    /// Generous bound for anything to happen on a slow, shared machine.
    const WAIT: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn serves_a_client_and_stops_gracefully() {
        let relay = LocalRelay::start("127.0.0.1".parse().unwrap())
            .await
            .expect("local relay starts");
        assert_eq!(relay.entry().port(), relay.local_addr().port());
        assert_eq!(
            relay.entry().address().ip(),
            Some(relay.local_addr().ip()),
            "the entry names the bound address"
        );

        let mut client = UdpClient::connect(relay.entry(), None, None, WAIT)
            .await
            .expect("client connects");
        let hello = ClientMessage::Hello {
            version: PROTOCOL_VERSION,
        };
        client.send(&hello).await.expect("hello");
        let frame = client.recv(WAIT).await.expect("welcome");
        match RelayMessage::decode(&frame).expect("decodes") {
            RelayMessage::Welcome(w) => assert_eq!(w.entry, relay.entry().to_bytes().as_slice()),
            other => panic!("expected welcome, got {other:?}"),
        }

        let mut stats = relay.stats.clone();
        tokio::time::timeout(WAIT, stats.wait_for(|s| s.relay.sessions_open == 1))
            .await
            .expect("stats show the session in time")
            .expect("driver is running");
        assert_eq!(relay.stats().handshakes, 1);

        let stopping = tokio::spawn(relay.stop());
        let frame = client.recv(WAIT).await.expect("closing frame");
        assert_eq!(
            RelayMessage::decode(&frame).expect("decodes"),
            RelayMessage::Closing {
                code: CloseCode::ShuttingDown
            }
        );
        drop(client);
        tokio::time::timeout(WAIT, stopping)
            .await
            .expect("stop finishes")
            .expect("stop task")
            .expect("driver exits cleanly");
    }

    #[tokio::test]
    async fn drop_ends_the_task() {
        let relay = LocalRelay::start("127.0.0.1".parse().unwrap())
            .await
            .expect("local relay starts");
        let mut stats = relay.stats.clone();
        drop(relay);
        // The watch sender lives in the driver task: `changed` fails once the task is gone.
        let ended =
            tokio::time::timeout(WAIT, async { while stats.changed().await.is_ok() {} }).await;
        assert!(ended.is_ok(), "the driver task outlived its LocalRelay");
    }

    /// Issue 17: the driver reads in batches; a burst longer than one read, and than one
    /// turn's reads, is all handled, by one core and by two shards. The junk datagrams are
    /// few enough (300 short ones) for the smallest default socket buffer.
    #[tokio::test]
    async fn a_burst_longer_than_a_batch_is_all_handled() {
        const JUNK: usize = 300;
        const CLIENTS: u8 = 48;
        const { assert!(JUNK > RECV_BATCH * RECV_ROUNDS) };
        for threads in [1, 2] {
            let relay = LocalRelay::start_sharded(
                "127.0.0.1".parse().unwrap(),
                LocalOptions::default(),
                threads,
            )
            .await
            .expect("local relay starts");
            let mut stats = relay.watch();
            // From 30 sockets at once: the relay reads them as they come, many to a read.
            let senders: Vec<std::net::UdpSocket> = (0..30)
                .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").expect("bind"))
                .collect();
            for round in 0..JUNK / senders.len() {
                for socket in &senders {
                    socket
                        .send_to(&[round as u8; 64], relay.local_addr())
                        .expect("send");
                }
            }
            tokio::time::timeout(
                WAIT,
                stats.wait_for(|s| s.relay.datagrams_in == JUNK as u64),
            )
            .await
            .unwrap_or_else(|_| panic!("{threads} thread(s): {:?}", relay.stats()))
            .expect("driver is running");
            assert_eq!(relay.stats().rejects.unauthenticated, JUNK as u64);

            // Clients connecting at once, 6 from each of 8 /24s (within the per-source
            // limits): their STUN checks, DTLS flights and SCTP come in together.
            let mut connects = tokio::task::JoinSet::new();
            for n in 0..CLIENTS {
                let entry = relay.entry().clone();
                let ip = format!("127.0.{}.3", 1 + n % 8).parse().unwrap();
                connects.spawn(async move {
                    UdpClient::connect_from(Some(ip), &entry, None, None, WAIT).await
                });
            }
            let mut clients = Vec::new();
            while let Some(done) = connects.join_next().await {
                clients.push(done.expect("task").expect("client connects"));
            }
            tokio::time::timeout(
                WAIT,
                stats.wait_for(|s| s.relay.handshakes == u64::from(CLIENTS)),
            )
            .await
            .unwrap_or_else(|_| panic!("{threads} thread(s): {:?}", relay.stats()))
            .expect("driver is running");
            let io = relay.watch().borrow().io;
            assert_eq!(io.queue_dropped, 0, "{threads} thread(s)");
            drop(clients);
            relay.stop().await.expect("stops");
        }
    }
}
