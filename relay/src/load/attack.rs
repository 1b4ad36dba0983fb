//! An attack on one relay from a few source addresses, to test and measure admission under
//! flood (issue 14): (a) authenticated STUN binding requests with fresh ufrags, each from a new
//! source port, never going on (the relay's ufrag and password are public, in its entry);
//! (b) half-open DTLS: a nominating binding request, a ClientHello, then silence; (c) full
//! sessions opened and held, re-opened when they end.
//!
//! (a) and (b) run on one OS thread per source address, at a rate per address (infinity: as
//! fast as the thread can); (c) runs as tasks on the current tokio runtime. [`Attack::start`]
//! begins everything at once, [`Attack::stop`] ends it and reports what was sent and held;
//! [`compare`] measures ordinary clients connecting quiet and under attack, in one run.
//!
//! ```no_run
//! # async fn demo(target: lumamesh_relay::load::LoadTarget) -> Result<(), lumamesh_relay::load::attack::AttackError> {
//! use lumamesh_relay::load::attack::{Attack, AttackPlan};
//!
//! let plan = AttackPlan {
//!     target,
//!     from: vec!["127.0.0.2".parse().unwrap(), "127.0.1.3".parse().unwrap()],
//!     stun_rate: f64::INFINITY,
//!     half_open_rate: f64::INFINITY,
//!     full_sessions: 100,
//!     connect_timeout: std::time::Duration::from_secs(5),
//! };
//! let attack = Attack::start(plan)?;
//! tokio::time::sleep(std::time::Duration::from_secs(10)).await;
//! println!("{:?}", attack.stop().await);
//! # Ok(()) }
//! ```

mod flood;
mod held;
mod packets;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{LoadPlan, LoadReport, LoadTarget};
pub use packets::{binding_request, client_hello, Kind, Ufrags};

/// Why an attack could not start.
#[derive(Debug, thiserror::Error)]
pub enum AttackError {
    /// No source address to attack from.
    #[error("no source address to attack from")]
    NoSource,
    /// The entry names a host name and no relay address was given.
    #[error("relay entry has no IP address (host name {0}); give the relay's address")]
    NoIp(String),
    /// No DTLS certificate could be generated.
    #[error("cannot generate a DTLS certificate")]
    Certificate,
    /// The DTLS engine refused to start a handshake.
    #[error("dtls: {0}")]
    Dtls(String),
    /// A flood thread could not start.
    #[error("cannot start a flood thread")]
    Thread(#[source] std::io::Error),
}

/// What to attack with.
#[derive(Debug, Clone)]
pub struct AttackPlan {
    /// The relay.
    pub target: LoadTarget,
    /// Source addresses (for example 127.0.0.2 and 127.0.1.3: two addresses in two /24s).
    pub from: Vec<IpAddr>,
    /// Binding requests (a) per second from each source address (0: none; infinity: as fast
    /// as possible).
    pub stun_rate: f64,
    /// Half-open handshakes (b) per second from each source address (0, infinity as above).
    pub half_open_rate: f64,
    /// Full sessions (c) to hold at once, over all source addresses (0: none).
    pub full_sessions: usize,
    /// Bound on each full session's connect.
    pub connect_timeout: Duration,
}

/// What one source address's flood thread sent.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloodReport {
    /// The source address.
    pub from: String,
    /// Binding requests (a) sent.
    pub stun_sent: u64,
    /// Half-open handshakes (b) sent (a binding request and a ClientHello each).
    pub half_open_sent: u64,
    /// Attempts whose socket could not be bound or whose send failed.
    pub send_errors: u64,
    /// (a) per second reached.
    pub stun_per_sec: f64,
    /// (b) per second reached.
    pub half_open_per_sec: f64,
}

/// What the full-session slots (c) did.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldReport {
    /// Connects tried.
    pub attempts: u64,
    /// Connects that got `Welcome`.
    pub opened: u64,
    /// Connects that failed (refused, timed out).
    pub failed: u64,
    /// Sessions that ended while held (closed by the relay, or lost).
    pub dropped: u64,
    /// Sessions held when the attack stopped.
    pub held: u64,
    /// Most sessions held at once.
    pub held_peak: u64,
    /// First few failures.
    pub failures: Vec<String>,
}

/// What the attack sent and held.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttackReport {
    /// Wall time from start to stop.
    pub elapsed_secs: f64,
    /// (a) per second over all source addresses.
    pub stun_per_sec: f64,
    /// (b) per second over all source addresses.
    pub half_open_per_sec: f64,
    /// Each source address's floods.
    pub floods: Vec<FloodReport>,
    /// The full sessions.
    pub full: HeldReport,
}

/// A running attack.
pub struct Attack {
    start: Instant,
    stop_floods: Arc<AtomicBool>,
    floods: Vec<std::thread::JoinHandle<FloodReport>>,
    stop_slots: watch::Sender<bool>,
    slots: Vec<JoinHandle<()>>,
    held: Arc<held::Slots>,
}

impl Attack {
    /// Starts every part of `plan` at once; the full-session slots run on the current tokio
    /// runtime, which must be running.
    pub fn start(plan: AttackPlan) -> Result<Self, AttackError> {
        if plan.from.is_empty() {
            return Err(AttackError::NoSource);
        }
        let relay = match plan.target.addr {
            Some(addr) => addr,
            None => {
                let address = plan.target.entry.address();
                let ip = address
                    .ip()
                    .ok_or_else(|| AttackError::NoIp(address.to_string()))?;
                SocketAddr::new(ip, plan.target.entry.port())
            }
        };
        let hello = client_hello()?;
        let stop_floods = Arc::new(AtomicBool::new(false));
        let mut floods = Vec::new();
        if plan.stun_rate > 0.0 || plan.half_open_rate > 0.0 {
            for &from in &plan.from {
                let flood = flood::Flood {
                    entry: plan.target.entry.clone(),
                    relay,
                    from,
                    stun_rate: plan.stun_rate,
                    half_open_rate: plan.half_open_rate,
                    client_hello: hello.clone(),
                };
                match flood::spawn(flood, stop_floods.clone()) {
                    Ok(handle) => floods.push(handle),
                    Err(e) => {
                        stop_floods.store(true, std::sync::atomic::Ordering::Relaxed);
                        return Err(AttackError::Thread(e));
                    }
                }
            }
        }
        let cert = crate::dtls::crypto_provider()
            .dtls_provider
            .generate_certificate();
        let held = Arc::new(held::Slots {
            target: plan.target.clone(),
            cert,
            connect_timeout: plan.connect_timeout,
            report: Mutex::new(HeldReport::default()),
        });
        let (stop_slots, stopped) = watch::channel(false);
        let slots = (0..plan.full_sessions)
            .map(|i| {
                let from = plan.from[i % plan.from.len()];
                tokio::spawn(held.clone().run(from, stopped.clone()))
            })
            .collect();
        Ok(Self {
            start: Instant::now(),
            stop_floods,
            floods,
            stop_slots,
            slots,
            held,
        })
    }

    /// Stops everything (held sessions close) and reports.
    pub async fn stop(self) -> AttackReport {
        self.stop_floods
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.stop_slots.send(true);
        for slot in self.slots {
            let _ = slot.await;
        }
        let elapsed_secs = self.start.elapsed().as_secs_f64();
        let floods: Vec<FloodReport> = tokio::task::spawn_blocking(move || {
            self.floods
                .into_iter()
                .filter_map(|t| t.join().ok())
                .collect()
        })
        .await
        .unwrap_or_default();
        let full = self
            .held
            .report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        AttackReport {
            elapsed_secs,
            stun_per_sec: floods.iter().map(|f| f.stun_per_sec).sum(),
            half_open_per_sec: floods.iter().map(|f| f.half_open_per_sec).sum(),
            floods,
            full,
        }
    }
}

/// Ordinary clients connecting quiet and under attack, side by side.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Comparison {
    /// The clients on the quiet relay, before the attack (if run).
    pub quiet: Option<LoadReport>,
    /// The same clients while the attack runs.
    pub under_attack: LoadReport,
    /// What the attack sent and held.
    pub attack: AttackReport,
}

/// Runs `clients` on the quiet relay (when `quiet_first`), then starts `attack`, lets it run
/// for `warmup`, runs `clients` again while it goes on, and stops it.
pub async fn compare(
    attack: AttackPlan,
    clients: LoadPlan,
    quiet_first: bool,
    warmup: Duration,
) -> Result<Comparison, AttackError> {
    let quiet = match quiet_first {
        true => Some(super::run(clients.clone()).await),
        false => None,
    };
    let running = Attack::start(attack)?;
    tokio::time::sleep(warmup).await;
    let under_attack = super::run(clients).await;
    Ok(Comparison {
        quiet,
        under_attack,
        attack: running.stop().await,
    })
}
