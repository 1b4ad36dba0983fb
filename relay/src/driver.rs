//! The tokio driver: one UDP socket, one task, one `select!` over receive, the core's timer
//! and the shutdown signal. All relay logic lives in [`crate::core`].

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::watch;
use tracing::{debug, info};

use crate::core::{Input, Output, Relay, Stats};

/// Largest datagram read; longer ones are truncated by the kernel and then fail to parse.
const RECV_BUF: usize = 2048;

/// How long a graceful shutdown waits for clients to be told and sessions to close.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How often stats are published to the health server.
const STATS_INTERVAL: Duration = Duration::from_millis(250);

/// Runs the relay on `socket` until `shutdown` resolves and the graceful shutdown is over.
/// Stats are published on `stats` every [`STATS_INTERVAL`].
pub async fn run(
    mut relay: Relay,
    socket: UdpSocket,
    shutdown: impl Future<Output = ()>,
    stats: watch::Sender<Stats>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; RECV_BUF];
    let mut shutdown = std::pin::pin!(shutdown);
    let mut closing_until: Option<Instant> = None;
    let mut next_stats = Instant::now();
    loop {
        let wake = flush(&mut relay, &socket).await;
        let now = Instant::now();
        if now >= next_stats {
            stats.send_replace(relay.stats());
            next_stats = now + STATS_INTERVAL;
        }
        if let Some(until) = closing_until {
            if relay.is_empty() || now >= until {
                flush(&mut relay, &socket).await;
                stats.send_replace(relay.stats());
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
            () = &mut shutdown, if closing_until.is_none() => {
                let now = Instant::now();
                info!(sessions = relay.stats().sessions, "shutting down, telling clients");
                relay.shutdown(now);
                closing_until = Some(now + SHUTDOWN_GRACE);
            }
        }
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
