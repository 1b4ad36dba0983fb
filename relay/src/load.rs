//! Load generation: many native clients (one UDP socket each, one shared DTLS certificate)
//! connect to a relay at a set rate, join rooms, and signal each other; the report gives
//! connect times and one-way signal latency (sender and receiver share this process's clock).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bootstrap_codec::RelayEntry;
use serde::{Deserialize, Serialize};
use str0m::config::DtlsCert;

use crate::client::{ClientError, UdpClient};
use crate::protocol::{ClientMessage, PeerId, RelayMessage, RoomId, PROTOCOL_VERSION};

/// What to generate.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The relay.
    pub entry: RelayEntry,
    /// Send here instead of the entry's address.
    pub relay_addr: Option<SocketAddr>,
    /// Clients to start.
    pub sessions: usize,
    /// Clients started per second.
    pub connect_rate: f64,
    /// Rooms the clients spread over (client i joins room i mod rooms).
    pub rooms: usize,
    /// Signals each client sends per second once joined (0: none).
    pub signals_per_sec: f64,
    /// Signal blob size in bytes (at least 16).
    pub blob_size: usize,
    /// How long each client stays after joining.
    pub hold: Duration,
    /// Bound on each connect.
    pub connect_timeout: Duration,
    /// Source addresses to spread clients over, round robin (empty: let the route choose).
    pub local_ips: Vec<IpAddr>,
}

/// Percentiles of a set of durations, in milliseconds.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Percentiles {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} samples)",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms, self.count
        )
    }
}

impl Percentiles {
    /// Summarises `samples` (sorted in place).
    pub fn of(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let at = |q: f64| -> f64 {
            if samples.is_empty() {
                return 0.0;
            }
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[i.min(samples.len() - 1)].as_secs_f64() * 1000.0
        };
        Self {
            count: samples.len(),
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// The load run's result.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct LoadReport {
    /// Clients started.
    pub sessions: usize,
    /// Clients whose channel opened and got `Welcome`.
    pub connected: usize,
    /// Clients that failed to connect or were dropped.
    pub failed: usize,
    /// Time from start to `Welcome`.
    pub connect: Percentiles,
    /// Signals sent.
    pub signals_sent: u64,
    /// Signals received.
    pub signals_received: u64,
    /// One-way signal latency through the relay.
    pub signal_latency: Percentiles,
    /// Error frames received.
    pub error_frames: u64,
    /// First few failure messages.
    pub failures: Vec<String>,
    /// Wall time of the run.
    pub elapsed_secs: f64,
}

#[derive(Default)]
struct Shared {
    connect: Vec<Duration>,
    latency: Vec<Duration>,
    report: LoadReport,
}

/// Runs the plan to completion (all clients done) and reports.
pub async fn run(plan: LoadPlan) -> LoadReport {
    let start = Instant::now();
    let cert = str0m::crypto::from_feature_flags()
        .dtls_provider
        .generate_certificate();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let plan = Arc::new(plan);
    let mut tasks = Vec::with_capacity(plan.sessions);
    let gap = Duration::from_secs_f64(1.0 / plan.connect_rate.max(0.001));
    for i in 0..plan.sessions {
        let due = start + gap.mul_f64(i as f64);
        tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
        let (plan, shared, cert) = (plan.clone(), shared.clone(), cert.clone());
        tasks.push(tokio::spawn(async move {
            let result = one_client(i, &plan, cert, start, &shared).await;
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = result {
                s.report.failed += 1;
                if s.report.failures.len() < 10 {
                    s.report.failures.push(format!("client {i}: {e}"));
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
    let mut report = std::mem::take(&mut s.report);
    report.sessions = plan.sessions;
    report.connect = Percentiles::of(&mut s.connect);
    report.signal_latency = Percentiles::of(&mut s.latency);
    report.elapsed_secs = start.elapsed().as_secs_f64();
    report
}

async fn one_client(
    i: usize,
    plan: &LoadPlan,
    cert: Option<DtlsCert>,
    epoch: Instant,
    shared: &Mutex<Shared>,
) -> Result<(), ClientError> {
    let begun = Instant::now();
    let local_ip = (!plan.local_ips.is_empty()).then(|| plan.local_ips[i % plan.local_ips.len()]);
    let mut client = UdpClient::connect_from(
        local_ip,
        &plan.entry,
        plan.relay_addr,
        cert,
        plan.connect_timeout,
    )
    .await?;
    client
        .send(&ClientMessage::Hello {
            version: PROTOCOL_VERSION,
        })
        .await?;
    let frame = client.recv(plan.connect_timeout).await?;
    let Ok(RelayMessage::Welcome(welcome)) = RelayMessage::decode(&frame) else {
        return Err(ClientError::Closed);
    };
    let me = welcome.peer;
    {
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        s.connect.push(begun.elapsed());
        s.report.connected += 1;
    }
    let mut room_bytes = [0u8; 32];
    room_bytes[..8].copy_from_slice(&((i % plan.rooms.max(1)) as u64).to_be_bytes());
    let room = RoomId::from_bytes(room_bytes);
    client.send(&ClientMessage::Join { room }).await?;

    let mut peers: Vec<PeerId> = Vec::new();
    let mut blob = vec![0x5a; plan.blob_size.max(16)];
    let interval =
        (plan.signals_per_sec > 0.0).then(|| Duration::from_secs_f64(1.0 / plan.signals_per_sec));
    let end = Instant::now() + plan.hold;
    let mut next_send = Instant::now() + interval.unwrap_or(plan.hold);
    let (mut sent, mut received, mut errors, mut latencies) = (0u64, 0u64, 0u64, Vec::new());
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if let (Some(every), true) = (interval, now >= next_send) {
            next_send += every;
            if !peers.is_empty() {
                let to = peers[(sent as usize + i) % peers.len()];
                let ts = epoch.elapsed().as_nanos() as u64;
                blob[..8].copy_from_slice(&ts.to_be_bytes());
                let signal = ClientMessage::Signal {
                    room,
                    to,
                    blob: &blob,
                };
                client.send(&signal).await?;
                sent += 1;
            }
            continue;
        }
        let frame = match client.recv(next_send.min(end) - now).await {
            Ok(frame) => frame,
            Err(ClientError::Timeout(_)) => continue,
            Err(e) => return Err(e),
        };
        match RelayMessage::decode(&frame) {
            Ok(RelayMessage::Room { peers: list, .. }) => peers.extend(list.iter()),
            Ok(RelayMessage::Joined { peer, .. }) => peers.push(peer),
            Ok(RelayMessage::Left { peer, .. }) if peer != me => peers.retain(|p| *p != peer),
            Ok(RelayMessage::Signal { blob, .. }) if blob.len() >= 8 => {
                received += 1;
                let mut ts = [0u8; 8];
                ts.copy_from_slice(&blob[..8]);
                let sent_at = Duration::from_nanos(u64::from_be_bytes(ts));
                latencies.push(epoch.elapsed().saturating_sub(sent_at));
            }
            Ok(RelayMessage::Error { .. }) => errors += 1,
            Ok(RelayMessage::Closing { .. }) => return Err(ClientError::Closed),
            _ => {}
        }
    }
    {
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        s.report.signals_sent += sent;
        s.report.signals_received += received;
        s.report.error_frames += errors;
        s.latency.extend(latencies);
    }
    client.close().await
}
