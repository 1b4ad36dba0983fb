//! The drivers' UDP socket: datagrams in and out in batches, so that a burst of clients costs
//! a few system calls and a few trips through the runtime rather than one of each per
//! datagram.
//!
//! The system calls are quinn-udp's (`recvmmsg` with GRO in, `sendmsg` with GSO out where the
//! kernel has them): a read takes up to [`RECV_BATCH`] datagrams, and [`Socket::send`] sends
//! a run of equal-sized datagrams for one destination as one GSO send. Sending never stops
//! the relay: UDP is best effort, and a failed send is a lost datagram that str0m resends.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use quinn_udp::{RecvMeta, Transmit, UdpSocketState};
use serde::Serialize;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tracing::{debug, info, warn};

use super::RECV_BUF;

/// Most datagrams one read takes.
pub(crate) const RECV_BATCH: usize = quinn_udp::BATCH_SIZE;

/// Socket buffer size asked for by default (`UDP_BUFFER_BYTES`): a burst of new clients
/// must fit while the relay works through the one before. The kernel caps it at
/// `net.core.rmem_max` / `wmem_max`.
pub const DEFAULT_BUFFER_BYTES: usize = 8 << 20;

/// Largest GRO read: the kernel coalesces at most 64 KiB of one flow into one buffer.
const GRO_BUF: usize = 1 << 16;

/// Most bytes one GSO send carries (a UDP datagram's limit, with room for headers).
const GSO_BYTES: usize = 60_000;

/// What the drivers count themselves, outside the cores: datagrams lost on the relay's side
/// of the socket.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IoStats {
    /// Datagrams read from the socket but dropped before a core saw them: their shard's
    /// queue was full (a sharded relay only; the kernel's own drops on a full socket buffer
    /// show in `netstat -su` as receive buffer errors).
    pub queue_dropped: u64,
    /// Sends that failed (each a lost datagram; str0m resends).
    pub send_errors: u64,
    /// Reads that failed (ICMP errors surface here on some systems: they concern one peer).
    pub recv_errors: u64,
}

/// [`IoStats`] shared by the tasks that use one socket.
#[derive(Debug, Default)]
pub(crate) struct IoCounters {
    queue_dropped: AtomicU64,
    send_errors: AtomicU64,
    recv_errors: AtomicU64,
}

impl IoCounters {
    pub(crate) fn queue_dropped(&self) {
        self.queue_dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> IoStats {
        IoStats {
            queue_dropped: self.queue_dropped.load(Ordering::Relaxed),
            send_errors: self.send_errors.load(Ordering::Relaxed),
            recv_errors: self.recv_errors.load(Ordering::Relaxed),
        }
    }
}

/// The relay's UDP socket, with what the kernel offers for batches.
#[derive(Debug)]
pub struct Socket {
    io: UdpSocket,
    state: UdpSocketState,
    counters: IoCounters,
}

impl Socket {
    /// Takes over a bound socket.
    pub fn new(io: UdpSocket) -> io::Result<Self> {
        let state = UdpSocketState::new((&io).into())?;
        Ok(Self {
            io,
            state,
            counters: IoCounters::default(),
        })
    }

    /// The address it is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// Asks for `bytes` of receive and of send buffer and logs, once, what the kernel gave
    /// (Linux reports twice the bytes it counts against the limit). A kernel that gives less
    /// is not an error: the relay runs with what it got, and says how to raise it.
    pub fn set_buffer_sizes(&self, bytes: usize) -> BufferSizes {
        let sock = || (&self.io).into();
        if let Err(e) = self.state.set_recv_buffer_size(sock(), bytes) {
            debug!(error = %e, bytes, "cannot set the UDP receive buffer");
        }
        if let Err(e) = self.state.set_send_buffer_size(sock(), bytes) {
            debug!(error = %e, bytes, "cannot set the UDP send buffer");
        }
        let sizes = BufferSizes {
            recv: self.state.recv_buffer_size(sock()).unwrap_or(0),
            send: self.state.send_buffer_size(sock()).unwrap_or(0),
        };
        info!(
            asked = bytes,
            recv = sizes.recv,
            send = sizes.send,
            "udp socket buffers"
        );
        if sizes.recv < bytes {
            warn!(
                asked = bytes,
                got = sizes.recv,
                "the kernel capped the UDP receive buffer; raise net.core.rmem_max (and \
                 wmem_max) to take bursts without drops"
            );
        }
        sizes
    }

    /// What the drivers counted on this socket so far.
    pub fn stats(&self) -> IoStats {
        self.counters.stats()
    }

    pub(crate) fn counters(&self) -> &IoCounters {
        &self.counters
    }

    /// Waits until a read may find datagrams.
    pub(crate) async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Reads what is waiting, up to [`RECV_BATCH`] buffers, without waiting, and hands each
    /// datagram to `each` (source, contents; contents past [`RECV_BUF`] cut off, as the
    /// kernel cuts off a longer datagram without GRO). Returns how many buffers were read:
    /// 0 once the socket is empty. A failed read is counted and logged, and reads as 1 so
    /// that the caller goes on reading.
    pub(crate) fn try_recv(
        &self,
        bufs: &mut RecvBufs,
        mut each: impl FnMut(SocketAddr, &[u8]),
    ) -> usize {
        let RecvBufs { data, slot, meta } = bufs;
        let mut chunks = data.chunks_mut(*slot);
        // `data` holds RECV_BATCH slots (RecvBufs::new).
        let mut iovs: [IoSliceMut<'_>; RECV_BATCH] =
            std::array::from_fn(|_| IoSliceMut::new(chunks.next().expect("one slot per read")));
        let read = self.io.try_io(Interest::READABLE, || {
            self.state.recv((&self.io).into(), &mut iovs, meta)
        });
        let count = match read {
            Ok(count) => count,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return 0,
            Err(e) => {
                self.counters.recv_errors.fetch_add(1, Ordering::Relaxed);
                debug!(error = %e, "udp receive failed");
                return 1;
            }
        };
        for (meta, buf) in meta.iter().zip(&iovs).take(count) {
            let stride = meta.stride.max(1);
            for datagram in buf[..meta.len].chunks(stride) {
                each(meta.addr, &datagram[..datagram.len().min(RECV_BUF)]);
            }
        }
        count
    }

    /// Sends `run`, waiting while the socket's buffer is full. A send that fails is counted
    /// and logged, never returned: UDP is best effort.
    pub(crate) async fn send(&self, run: &Run) {
        let transmit = Transmit {
            destination: run.destination,
            ecn: None,
            contents: &run.contents,
            segment_size: (run.count > 1).then_some(run.segment),
            src_ip: None,
        };
        let sent = self
            .io
            .async_io(Interest::WRITABLE, || {
                self.state.try_send((&self.io).into(), &transmit)
            })
            .await;
        if let Err(e) = sent {
            self.counters.send_errors.fetch_add(1, Ordering::Relaxed);
            debug!(error = %e, destination = %run.destination, datagrams = run.count, "udp send failed");
        }
    }

    /// Most datagrams one send may carry for one destination (1 without GSO).
    pub(crate) fn max_segments(&self) -> usize {
        self.state.max_gso_segments()
    }
}

/// The receive and send buffer sizes the kernel reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSizes {
    /// SO_RCVBUF as read back.
    pub recv: usize,
    /// SO_SNDBUF as read back.
    pub send: usize,
}

/// Buffers for [`Socket::try_recv`]: one slot per datagram of a read (a GRO slot takes up
/// to 64 KiB of one flow's datagrams).
pub(crate) struct RecvBufs {
    data: Vec<u8>,
    slot: usize,
    meta: [RecvMeta; RECV_BATCH],
}

impl RecvBufs {
    pub(crate) fn new(socket: &Socket) -> Self {
        let slot = if socket.state.gro_segments() > 1 {
            GRO_BUF
        } else {
            RECV_BUF
        };
        Self {
            data: vec![0; slot * RECV_BATCH],
            slot,
            meta: [RecvMeta::default(); RECV_BATCH],
        }
    }
}

/// Datagrams for one destination that go out in one send: equal-sized but maybe the last,
/// which may be shorter (what GSO takes).
#[derive(Debug)]
pub(crate) struct Run {
    destination: SocketAddr,
    contents: Vec<u8>,
    segment: usize,
    count: usize,
}

impl Run {
    /// A run of one datagram (its buffer is kept, not copied).
    pub(crate) fn new(destination: SocketAddr, contents: Vec<u8>) -> Self {
        let segment = contents.len();
        Self {
            destination,
            contents,
            segment,
            count: 1,
        }
    }

    /// Adds the datagram if it can go in the same send (at most `max` datagrams, and at most
    /// [`GSO_BYTES`]); gives it back if not.
    pub(crate) fn push(
        &mut self,
        destination: SocketAddr,
        contents: Vec<u8>,
        max: usize,
    ) -> Result<(), Vec<u8>> {
        let shorter_last = !self.contents.len().is_multiple_of(self.segment.max(1));
        if destination != self.destination
            || self.count >= max
            || shorter_last
            || contents.is_empty()
            || contents.len() > self.segment
            || self.contents.len() + contents.len() > GSO_BYTES
        {
            return Err(contents);
        }
        self.contents.extend_from_slice(&contents);
        self.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Run;

    #[test]
    fn a_run_is_equal_datagrams_for_one_destination_but_the_last() {
        let a = "127.0.0.1:1".parse().unwrap();
        let b = "127.0.0.1:2".parse().unwrap();
        let mut run = Run::new(a, vec![1; 100]);
        assert_eq!(run.push(a, vec![2; 100], 64), Ok(()));
        assert_eq!(
            run.push(b, vec![3; 100], 64),
            Err(vec![3; 100]),
            "another peer"
        );
        assert_eq!(run.push(a, vec![3; 101], 64), Err(vec![3; 101]), "longer");
        assert_eq!(run.push(a, vec![3; 40], 64), Ok(()), "a shorter last one");
        assert_eq!(
            run.push(a, vec![4; 40], 64),
            Err(vec![4; 40]),
            "after the last"
        );
        assert_eq!((run.count, run.segment, run.contents.len()), (3, 100, 240));
        let mut run = Run::new(a, vec![1; 10]);
        assert_eq!(run.push(a, vec![1; 10], 1), Err(vec![1; 10]), "no GSO");
    }
}
