//! The per-connection inbound cap, applied before any work: every TCP connection of the mesh
//! reads at most `bytes_per_sec` (after a first `burst`), below pnet, Noise, Yamux and
//! gossipsub's signature checks. A relay that sends faster finds its bytes waiting in the
//! kernel's buffers, then its own send queues full (TCP backpressure); the other connections,
//! each with its own budget, are not touched.
//!
//! [`ByteBucket`] is the sans-IO budget (time passed in); [`Throttled`] wraps a stream with
//! one and sleeps on tokio's timer when the budget is spent.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use libp2p::futures::{AsyncRead, AsyncWrite};

/// When the budget is spent, a read waits until this much (or what the reader asked for, if
/// less) is available again, not for a single byte.
const READ_CHUNK: usize = 4096;

/// How much one connection may read: `bytes_per_sec` sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundLimit {
    /// Bytes per second, sustained.
    pub bytes_per_sec: u32,
    /// Bytes readable at once after a quiet spell (at least 1).
    pub burst: u32,
}

/// A token bucket of bytes: full at `burst`, refilled at `bytes_per_sec`.
#[derive(Debug)]
pub(super) struct ByteBucket {
    per_sec: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl ByteBucket {
    /// A full bucket.
    pub(super) fn new(limit: InboundLimit, now: Instant) -> Self {
        let burst = f64::from(limit.burst.max(1));
        Self {
            per_sec: f64::from(limit.bytes_per_sec),
            burst,
            tokens: burst,
            at: now,
        }
    }

    /// Whole bytes that may be read now.
    pub(super) fn available(&mut self, now: Instant) -> usize {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        self.at = now;
        // Truncation is the point: only whole bytes.
        self.tokens as usize
    }

    /// `n` bytes were read.
    pub(super) fn spend(&mut self, n: usize) {
        self.tokens -= n as f64;
    }

    /// When `want` bytes (at most the burst) will be available; `None` at a zero rate.
    pub(super) fn ready_at(&self, want: usize) -> Option<Instant> {
        let missing = (want as f64).min(self.burst) - self.tokens;
        if missing <= 0.0 {
            return Some(self.at);
        }
        let wait = Duration::try_from_secs_f64(missing / self.per_sec).ok()?;
        self.at.checked_add(wait)
    }
}

/// A stream whose reads are held to an [`InboundLimit`]; writes pass unchanged.
pub(super) struct Throttled<S> {
    inner: S,
    bucket: ByteBucket,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> Throttled<S> {
    pub(super) fn new(inner: S, limit: InboundLimit) -> Self {
        Self {
            inner,
            bucket: ByteBucket::new(limit, Instant::now()),
            sleep: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Throttled<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if let Some(sleep) = this.sleep.as_mut() {
                ready!(sleep.as_mut().poll(cx));
                this.sleep = None;
            }
            let allowed = this.bucket.available(Instant::now());
            if allowed == 0 && !buf.is_empty() {
                let Some(at) = this.bucket.ready_at(buf.len().min(READ_CHUNK)) else {
                    // A zero rate: this connection reads nothing, ever.
                    return Poll::Pending;
                };
                let at = tokio::time::Instant::from_std(at);
                this.sleep = Some(Box::pin(tokio::time::sleep_until(at)));
                continue;
            }
            let n = buf.len().min(allowed);
            let read = ready!(Pin::new(&mut this.inner).poll_read(cx, &mut buf[..n]))?;
            this.bucket.spend(read);
            return Poll::Ready(Ok(read));
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Throttled<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{ByteBucket, InboundLimit};

    #[test]
    fn a_burst_then_the_rate() {
        let t0 = Instant::now();
        let limit = InboundLimit {
            bytes_per_sec: 1_000,
            burst: 500,
        };
        let mut bucket = ByteBucket::new(limit, t0);
        assert_eq!(bucket.available(t0), 500);
        bucket.spend(500);
        assert_eq!(bucket.available(t0), 0);
        assert_eq!(bucket.ready_at(100), Some(t0 + Duration::from_millis(100)));
        assert_eq!(bucket.available(t0 + Duration::from_millis(250)), 250);
        assert_eq!(
            bucket.available(t0 + Duration::from_secs(60)),
            500,
            "a quiet minute refills no more than the burst"
        );
        assert_eq!(
            bucket.ready_at(10_000),
            Some(t0 + Duration::from_secs(60)),
            "asking for more than the burst waits only for the burst"
        );
    }

    #[test]
    fn a_zero_rate_is_never_ready_again() {
        let t0 = Instant::now();
        let limit = InboundLimit {
            bytes_per_sec: 0,
            burst: 0,
        };
        let mut bucket = ByteBucket::new(limit, t0);
        assert_eq!(bucket.available(t0), 1);
        bucket.spend(1);
        assert_eq!(bucket.available(t0 + Duration::from_secs(3600)), 0);
        assert_eq!(bucket.ready_at(1), None);
    }
}
