//! The tokio driver: one UDP socket, one task, one `select!` over receive, the core's timer,
//! the federation (if any) and the shutdown signal. All relay logic lives in
//! [`crate::core`]; all federation logic in [`crate::mesh`].

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::watch;
use tracing::{debug, info};

use crate::core::{Input, Output, Relay};
use crate::health::Snapshot;
use crate::mesh::swarm::{Mesh, MeshEvent};

/// Largest datagram read; longer ones are truncated by the kernel and then fail to parse.
const RECV_BUF: usize = 2048;

/// How long a graceful shutdown waits for clients to be told and sessions to close.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How often stats are published to the health server.
const STATS_INTERVAL: Duration = Duration::from_millis(250);

/// Runs the relay on `socket` (and its federation `mesh`, if any) until `shutdown` resolves
/// and the graceful shutdown is over. Stats are published on `stats` every
/// [`STATS_INTERVAL`].
///
/// On shutdown the sessions are told first; the mesh closes last, once they are gone, so
/// the other relays see every member leave.
pub async fn run(
    mut relay: Relay,
    socket: UdpSocket,
    mut mesh: Option<Mesh>,
    shutdown: impl Future<Output = ()>,
    stats: watch::Sender<Snapshot>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; RECV_BUF];
    let mut shutdown = std::pin::pin!(shutdown);
    let mut closing_until: Option<Instant> = None;
    let mut next_stats = Instant::now();
    loop {
        let wake = loop {
            exchange(&mut relay, mesh.as_mut());
            let wake = flush(&mut relay, &socket).await;
            // Sending may have made the core queue more for the federation.
            if !exchange(&mut relay, mesh.as_mut()) {
                break wake;
            }
        };
        let now = Instant::now();
        if now >= next_stats {
            stats.send_replace(snapshot(&relay, mesh.as_ref()));
            next_stats = now + STATS_INTERVAL;
        }
        if let Some(until) = closing_until {
            if relay.is_empty() || now >= until {
                exchange(&mut relay, mesh.as_mut());
                flush(&mut relay, &socket).await;
                stats.send_replace(snapshot(&relay, mesh.as_ref()));
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
            received = socket.recv_from(&mut buf) => match received {
                Ok((len, source)) => {
                    let input = Input::Receive { source, contents: &buf[..len] };
                    relay.handle_input(Instant::now(), input);
                }
                // ICMP errors surface here on some systems; they concern one peer only.
                Err(e) => debug!(error = %e, "recv_from failed"),
            },
            () = sleep => relay.handle_input(Instant::now(), Input::Timeout),
            event = next_mesh_event(mesh.as_mut()) => {
                if let Some(mesh) = mesh.as_mut() {
                    mesh.handle(event);
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

/// The next federation event; never resolves without a federation.
async fn next_mesh_event(mesh: Option<&mut Mesh>) -> MeshEvent {
    match mesh {
        Some(mesh) => mesh.next_event().await,
        None => std::future::pending().await,
    }
}

/// Moves what the core's sessions did to the federation and what the federation said to
/// the core, until neither has anything left (each may answer the other). Returns whether
/// anything moved.
fn exchange(relay: &mut Relay, mesh: Option<&mut Mesh>) -> bool {
    let Some(mesh) = mesh else {
        return false;
    };
    let mut any = false;
    loop {
        let mut moved = false;
        while let Some(output) = relay.poll_mesh() {
            mesh.from_relay(output);
            moved = true;
        }
        while let Some(input) = mesh.poll_input() {
            relay.handle_mesh(Instant::now(), input);
            moved = true;
        }
        if !moved {
            return any;
        }
        any = true;
    }
}

fn snapshot(relay: &Relay, mesh: Option<&Mesh>) -> Snapshot {
    Snapshot {
        relay: relay.stats(),
        mesh: mesh.map(Mesh::report),
    }
}

/// Sends every queued datagram; returns when the core next wants a timeout.
async fn flush(relay: &mut Relay, socket: &UdpSocket) -> Instant {
    loop {
        match relay.poll_output() {
            Output::Transmit(t) => {
                // UDP is best effort; a failed send is a lost packet, which str0m recovers.
                if let Err(e) = socket.send_to(&t.contents, t.destination).await {
                    debug!(error = %e, destination = %t.destination, "send_to failed");
                }
            }
            Output::Timeout(at) => return at,
        }
    }
}
