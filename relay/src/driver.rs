//! The tokio driver: one UDP socket, one task, one `select!` over receive, the core's timer,
//! the federation (if any) and the shutdown signal. All relay logic lives in
//! [`crate::core`]; all federation logic in [`crate::mesh`], whose engine runs on a task of
//! its own ([`MeshTask`]) so that a busy federation never holds up the UDP path.
//!
//! The socket is read in batches ([`Socket`]): once it is readable, the driver reads and
//! handles what is waiting, sends what that made the core send, and goes on until the
//! socket is empty or [`RECV_ROUNDS`] reads are done, before it looks at anything else.

mod udp;

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tracing::info;

use crate::core::{Input, Output, Relay};
use crate::health::Snapshot;
use crate::mesh::swarm::{Mesh, MeshTask};
use udp::Run;
#[cfg(test)]
pub(crate) use udp::RECV_BATCH;
pub use udp::{BufferSizes, IoStats, Socket, DEFAULT_BUFFER_BYTES};
pub(crate) use udp::{IoCounters, RecvBufs};

/// Largest datagram read; longer ones are truncated by the kernel and then fail to parse.
pub(crate) const RECV_BUF: usize = 2048;

/// How long a graceful shutdown waits for clients to be told and sessions to close.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How often stats are published to the health server.
pub(crate) const STATS_INTERVAL: Duration = Duration::from_millis(250);

/// Most federation inputs applied in one turn of the loop before the socket is looked at
/// again.
const MESH_BATCH: usize = 64;

/// Most socket reads (each up to 32 datagrams) in one turn of the loop before the timer,
/// the federation and the shutdown signal are looked at again.
pub(crate) const RECV_ROUNDS: usize = 8;

/// Runs the relay on `socket` (and its federation `mesh`, if any) until `shutdown` resolves
/// and the graceful shutdown is over. Stats are published on `stats` every
/// [`STATS_INTERVAL`].
///
/// On shutdown the sessions are told first; the mesh closes last, once they are gone, so
/// the other relays see every member leave.
pub async fn run(
    mut relay: Relay,
    socket: Socket,
    mesh: Option<Mesh>,
    shutdown: impl Future<Output = ()>,
    stats: watch::Sender<Snapshot>,
) -> std::io::Result<()> {
    let mut mesh = mesh.map(MeshTask::spawn);
    let mut bufs = RecvBufs::new(&socket);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut closing_until: Option<Instant> = None;
    let mut next_stats = Instant::now();
    loop {
        let wake = loop {
            to_mesh(&mut relay, mesh.as_ref()).await;
            let wake = flush(&mut relay, &socket).await;
            // Sending may have made the core queue more for the federation.
            if !to_mesh(&mut relay, mesh.as_ref()).await {
                break wake;
            }
        };
        let now = Instant::now();
        if now >= next_stats {
            stats.send_replace(snapshot(&relay, &socket, mesh.as_ref()));
            next_stats = now + STATS_INTERVAL;
        }
        if let Some(until) = closing_until {
            if relay.is_empty() || now >= until {
                to_mesh(&mut relay, mesh.as_ref()).await;
                flush(&mut relay, &socket).await;
                stats.send_replace(snapshot(&relay, &socket, mesh.as_ref()));
                if let Some(mesh) = mesh.take() {
                    mesh.close().await;
                }
                info!("relay stopped");
                return Ok(());
            }
        }
        let mut wake = wake.min(next_stats);
        if let Some(until) = closing_until {
            wake = wake.min(until);
        }
        let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(wake));
        tokio::select! {
            ready = socket.readable() => {
                ready?;
                for _ in 0..RECV_ROUNDS {
                    if receive(&mut relay, &socket, &mut bufs) == 0 {
                        break;
                    }
                    flush(&mut relay, &socket).await;
                }
            }
            () = sleep => relay.handle_input(Instant::now(), Input::Timeout),
            input = next_mesh_input(mesh.as_mut()) => {
                relay.handle_mesh(Instant::now(), input);
                if let Some(mesh) = mesh.as_mut() {
                    for _ in 1..MESH_BATCH {
                        let Some(input) = mesh.try_recv() else { break };
                        relay.handle_mesh(Instant::now(), input);
                    }
                }
            }
            () = &mut shutdown, if closing_until.is_none() => {
                let now = Instant::now();
                info!(sessions = relay.stats().sessions, "shutting down, telling clients");
                relay.shutdown(now);
                closing_until = Some(now + SHUTDOWN_GRACE);
            }
        }
    }
}

/// The next thing the federation tells the core; never resolves without a federation.
async fn next_mesh_input(mesh: Option<&mut MeshTask>) -> crate::core::MeshInput {
    match mesh {
        Some(mesh) => mesh.recv().await,
        None => std::future::pending().await,
    }
}

/// Hands what the core's sessions did to the federation (a relay that is not federated
/// queues nothing). Returns whether anything moved.
async fn to_mesh(relay: &mut Relay, mesh: Option<&MeshTask>) -> bool {
    let mut moved = false;
    while let Some(output) = relay.poll_mesh() {
        if let Some(mesh) = mesh {
            mesh.send(output).await;
        }
        moved = true;
    }
    moved
}

fn snapshot(relay: &Relay, socket: &Socket, mesh: Option<&MeshTask>) -> Snapshot {
    Snapshot {
        relay: relay.stats(),
        mesh: mesh.map(MeshTask::report),
        io: socket.stats(),
    }
}

/// Reads what waits on the socket (one read) into the core; returns how many buffers were
/// read, 0 once the socket is empty.
fn receive(relay: &mut Relay, socket: &Socket, bufs: &mut RecvBufs) -> usize {
    // One clock reading per read: its datagrams arrived together.
    let now = Instant::now();
    socket.try_recv(bufs, |source, contents| {
        relay.handle_input(now, Input::Receive { source, contents });
    })
}

/// Sends every queued datagram, a run of equal-sized ones to one destination as one send;
/// returns when the core next wants a timeout. (Also each shard's, [`crate::shard`].)
pub(crate) async fn flush(relay: &mut Relay, socket: &Socket) -> Instant {
    let max = socket.max_segments();
    let mut run: Option<Run> = None;
    loop {
        match relay.poll_output() {
            Output::Transmit(t) => {
                let contents = match run.as_mut() {
                    Some(run) => match run.push(t.destination, t.contents, max) {
                        Ok(()) => continue,
                        Err(contents) => contents,
                    },
                    None => t.contents,
                };
                if let Some(full) = run.replace(Run::new(t.destination, contents)) {
                    socket.send(&full).await;
                }
            }
            Output::Timeout(at) => {
                if let Some(run) = run {
                    socket.send(&run).await;
                }
                return at;
            }
        }
    }
}
