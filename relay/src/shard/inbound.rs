//! The sharded relay's receive task: reads the socket in batches and hands each datagram to
//! the queue of its source's shard ([`Router`]). A full queue drops the datagram, as a full
//! socket buffer would (UDP is lossy, and str0m resends), and counts it
//! ([`IoStats::queue_dropped`](crate::driver::IoStats)), so that one busy shard cannot hold
//! up the others.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::debug;

use super::Router;
use crate::driver::{IoCounters, RecvBufs, Socket, RECV_ROUNDS};

/// One datagram for a shard.
pub(super) struct Datagram {
    pub(super) source: SocketAddr,
    pub(super) contents: Vec<u8>,
}

/// Where each source's datagrams go.
pub(super) struct Inbound {
    router: Router,
    queues: Vec<mpsc::Sender<Datagram>>,
}

impl Inbound {
    /// Datagrams routed by `router` into `queues`, one per shard.
    pub(super) fn new(router: Router, queues: Vec<mpsc::Sender<Datagram>>) -> Self {
        Self { router, queues }
    }

    /// Queues one datagram for its source's shard, or drops it and counts it in `counters`
    /// if that queue is full.
    pub(super) fn dispatch(&self, source: SocketAddr, contents: &[u8], counters: &IoCounters) {
        let datagram = Datagram {
            source,
            contents: contents.to_vec(),
        };
        if self.queues[self.router.shard_of(source)]
            .try_send(datagram)
            .is_err()
        {
            counters.queue_dropped();
            debug!(%source, "shard queue full, datagram dropped");
        }
    }

    /// Reads `socket` forever, handing each datagram to its shard; ends only if the
    /// runtime's reactor is gone.
    pub(super) async fn run(self, socket: Arc<Socket>) {
        let mut bufs = RecvBufs::new(&socket);
        let counters = socket.counters();
        while socket.readable().await.is_ok() {
            for _ in 0..RECV_ROUNDS {
                let read = socket.try_recv(&mut bufs, |source, contents| {
                    self.dispatch(source, contents, counters);
                });
                if read == 0 {
                    break;
                }
            }
            // The shards this woke wait in this worker's LIFO slot, which other workers
            // cannot steal from: let them run before reading on.
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::{Datagram, Inbound};
    use crate::driver::IoCounters;
    use crate::shard::Router;

    #[test]
    fn a_full_shard_queue_drops_and_counts() {
        let (tx, mut rx) = mpsc::channel::<Datagram>(2);
        let inbound = Inbound::new(Router::new(1), vec![tx]);
        let counters = IoCounters::default();
        let source = "127.0.0.1:5000".parse().unwrap();
        for n in 0..5u8 {
            inbound.dispatch(source, &[n], &counters);
        }
        assert_eq!(counters.stats().queue_dropped, 3, "two fit, three did not");
        let queued: Vec<Vec<u8>> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|d| d.contents)
            .collect();
        assert_eq!(queued, vec![vec![0], vec![1]], "the first two, in order");
        inbound.dispatch(source, &[9], &counters);
        assert_eq!(counters.stats().queue_dropped, 3, "room again once taken");
    }
}
