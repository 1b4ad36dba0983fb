//! The datagram floods, one OS thread per source address: (a) authenticated binding requests
//! with fresh ufrags, each from a new source port, never followed by anything; (b) half-open
//! DTLS, a binding request (nominating) then a ClientHello from a new port, then silence.
//!
//! Each attempt binds a new socket and drops it after sending, so the relay's answers land on
//! a closed port. A rate of `f64::INFINITY` sends as fast as the thread can.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bootstrap_codec::RelayEntry;

use super::packets::{binding_request, Ufrags};
use super::FloodReport;

/// What one flood thread does.
pub(super) struct Flood {
    /// The relay.
    pub(super) entry: RelayEntry,
    /// Where its datagrams go.
    pub(super) relay: SocketAddr,
    /// The source address.
    pub(super) from: IpAddr,
    /// Binding requests (a) per second (0: none).
    pub(super) stun_rate: f64,
    /// Half-open handshakes (b) per second (0: none).
    pub(super) half_open_rate: f64,
    /// The ClientHello of (b).
    pub(super) client_hello: Vec<u8>,
}

/// A schedule at `rate` per second: `None` for 0, no gap for infinity.
fn gap(rate: f64) -> Option<Duration> {
    (rate > 0.0).then(|| Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::ZERO))
}

/// How far a schedule may fall behind before it forgets what it missed (no burst to catch up).
const MAX_LAG: Duration = Duration::from_millis(100);

impl Flood {
    /// Floods until `stop` is set; gives what was sent.
    pub(super) fn run(self, stop: &AtomicBool) -> FloodReport {
        let start = Instant::now();
        let mut report = FloodReport {
            from: self.from.to_string(),
            ..FloodReport::default()
        };
        let mut ufrags = Ufrags::default();
        let gaps = [gap(self.stun_rate), gap(self.half_open_rate)];
        let mut due = [start; 2];
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let mut sent = false;
            for (kind, every) in gaps.iter().enumerate() {
                let Some(every) = every else { continue };
                if now < due[kind] {
                    continue;
                }
                due[kind] = (due[kind] + *every).max(now.checked_sub(MAX_LAG).unwrap_or(start));
                sent = true;
                let half_open = kind == 1;
                match self.attempt(&ufrags.fresh(), half_open) {
                    Ok(()) if half_open => report.half_open_sent += 1,
                    Ok(()) => report.stun_sent += 1,
                    Err(_) => report.send_errors += 1,
                }
            }
            if !sent {
                let next = gaps
                    .iter()
                    .zip(due)
                    .filter_map(|(every, due)| every.map(|_| due))
                    .min()
                    .unwrap_or(now + MAX_LAG);
                std::thread::sleep(next.saturating_duration_since(now).min(MAX_LAG));
            }
        }
        let secs = start.elapsed().as_secs_f64().max(f64::EPSILON);
        report.stun_per_sec = report.stun_sent as f64 / secs;
        report.half_open_per_sec = report.half_open_sent as f64 / secs;
        report
    }

    /// One attempt from a new source port: a binding request for `ufrag`, and for a half-open
    /// handshake the ClientHello after it.
    fn attempt(&self, ufrag: &str, half_open: bool) -> std::io::Result<()> {
        let socket = UdpSocket::bind(SocketAddr::new(self.from, 0))?;
        socket.send_to(&binding_request(&self.entry, ufrag, half_open), self.relay)?;
        if half_open {
            socket.send_to(&self.client_hello, self.relay)?;
        }
        Ok(())
    }
}

/// Starts one flood thread; join it for its report.
pub(super) fn spawn(
    flood: Flood,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<FloodReport>> {
    std::thread::Builder::new()
        .name(format!("flood {}", flood.from))
        .spawn(move || flood.run(&stop))
}
