//! Load generation: many native clients (one UDP socket each, one shared DTLS certificate)
//! connect to the relays of a list at a set rate, join rooms, and signal each other in
//! protocol version 2; the report gives connect times and one-way signal latency (sender and
//! receiver share this process's clock), separately for signals within one relay and across
//! relays.
//!
//! Client `i` connects to entry `i mod relays` of the list and joins room
//! `(i / relays) mod rooms`, so consecutive clients of one room sit on different relays: with
//! a federation every room spans its relays. A pair of members is *cross-relay* when the tags
//! of their peer addresses differ; relays that are not federated never show a member of
//! another relay, so their cross-relay figures stay zero.
//!
//! Clients start at `connect_rate`, signal from their join until `hold` after the last one
//! started, then all stop at once and keep reading until every signal sent to a member still
//! there has arrived (at least [`DRAIN`], at most [`DRAIN_MAX`]), and only then close: nobody
//! signals a member that has already left, and a signal still in flight (a datagram the
//! kernel dropped under load comes again with SCTP's retransmission, a second or more later)
//! is waited for rather than counted lost.
//!
//! A client signals only members it knows are present: named by the relay (`Room2`,
//! `Joined2`, not since `Left2`) and, in the run's [`ledger`], not gone. The ledger sorts every
//! signal sent: delivered, `lost_to_present` (its target was there to the end and never got
//! it: the figure that must be 0), `to_absent` (the target failed or was closed before it
//! arrived), `from_absent` (the sender did, before the relay forwarded it); every `Error`
//! frame is counted by code and by the request it answers.
//!
//! Members are addressed by the full address the relay announced, never by assuming the
//! entry's tag: `Welcome` gives only a session id, and a relay may serve a session under
//! another tag than its entry's (a shard with a tag of its own; today's shards share the
//! relay's tag and split the session ids), so the ledger learns who owns which address from
//! deliveries (see [`ledger`]).
//! Signals within one relay and across relays are told apart by the entries the two clients
//! dialled, not by tags.
//!
//! With [`LoadPlan::session_hold`] every client instead closes that long after its
//! `Welcome` and signals nothing: new sessions at a sustained rate, each short-lived.
//!
//! [`attack`] floods one relay instead, as issue 14's adversary does, and measures ordinary
//! clients connecting under the flood.

pub mod attack;
mod ledger;
mod members;
mod report;
pub mod usage;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bootstrap_codec::RelayEntry;
use str0m::config::DtlsCert;

use crate::client::{ClientError, UdpClient};
use crate::protocol::{
    msg_type, ClientMessage, PeerId, RelayMessage, RelayTag, RoomId, PROTOCOL_VERSION,
};
use ledger::Ledger;
pub use ledger::HEADER_LEN as MIN_BLOB_LEN;
use members::Members;
pub use report::{ErrorCount, LoadReport, Pair, PairReport, Percentiles, RelayShare};
use report::{Tally, Totals};

/// One relay of the list.
#[derive(Debug, Clone)]
pub struct LoadTarget {
    /// The relay's entry.
    pub entry: RelayEntry,
    /// Send here instead of the entry's address.
    pub addr: Option<SocketAddr>,
}

impl LoadTarget {
    /// The relay's tag in peer addresses.
    pub fn tag(&self) -> RelayTag {
        RelayTag::of(self.entry.node_key())
    }

    /// Where its clients send: `addr`, or the entry's address.
    pub fn address(&self) -> String {
        match self.addr {
            Some(addr) => addr.to_string(),
            None => format!("{}:{}", self.entry.address(), self.entry.port()),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The relays; clients are spread over every one, round robin.
    pub relays: Vec<LoadTarget>,
    /// Clients to start.
    pub sessions: usize,
    /// Clients started per second.
    pub connect_rate: f64,
    /// Rooms the clients spread over (see the module documentation).
    pub rooms: usize,
    /// Signals each client sends per second once joined (0: none).
    pub signals_per_sec: f64,
    /// Signal blob size in bytes (at least [`MIN_BLOB_LEN`]).
    pub blob_size: usize,
    /// How long the clients keep signalling once the last one has started (the ramp); all
    /// stop together, wait [`DRAIN`] for signals in flight and close.
    pub hold: Duration,
    /// Bound on each connect.
    pub connect_timeout: Duration,
    /// Source addresses to spread clients over, round robin (empty: let the route choose).
    pub local_ips: Vec<IpAddr>,
    /// Sustained mode: each client joins its room, closes this long after its `Welcome`
    /// and signals nothing (`hold` and the drain do not apply). `None`: every client stays
    /// until the run's end.
    pub session_hold: Option<Duration>,
}

/// The least clients wait, after they all stop signalling, before they close: signals still
/// in flight arrive, and no client signals a member that has already gone (which the relay
/// would answer `UnknownPeer`).
pub const DRAIN: Duration = Duration::from_secs(1);

/// The most clients wait for signals still on their way to a present member before they
/// close anyway (what is still missing then is `lost_to_present`).
pub const DRAIN_MAX: Duration = Duration::from_secs(15);

/// How often a client that stopped signalling looks whether the run's signals have settled.
const SETTLE_POLL: Duration = Duration::from_millis(50);

/// Where client `i` goes: the index of its relay in a list of `relays` and of its room among
/// `rooms`. Consecutive clients take consecutive relays, and each round over the relays
/// fills one room, so a room gets members on every relay.
pub fn placement(i: usize, relays: usize, rooms: usize) -> (usize, usize) {
    let relays = relays.max(1);
    (i % relays, (i / relays) % rooms.max(1))
}

/// Why one client stopped early.
#[derive(Debug, thiserror::Error)]
enum ClientFailure {
    /// The connection failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The first frame after `Hello` (its type byte, 0 if empty) was not a `Welcome`.
    #[error("relay answered Hello with a 0x{0:02x} frame, not Welcome")]
    NoWelcome(u8),
    /// The relay speaks another version with us.
    #[error("relay welcomed version {0}, not {PROTOCOL_VERSION}")]
    Version(u8),
    /// The relay closed the session (`Closing`).
    #[error("relay closed the session: {0}")]
    Closing(crate::protocol::CloseCode),
}

#[derive(Default)]
struct Shared {
    connect: Vec<Duration>,
    totals: Totals,
    report: LoadReport,
    ledger: Ledger,
    /// When the first client saw the run's signals settled.
    settled: Option<Instant>,
    /// When the last client got its `Welcome`.
    last_welcome: Option<Instant>,
}

impl Shared {
    fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
        // A panicking client task cannot leave the counters half-written in a way that
        // matters for a report; keep going with what is there.
        shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs the plan to completion (all clients done) and reports. An empty relay list starts
/// no client.
pub async fn run(plan: LoadPlan) -> LoadReport {
    let start = Instant::now();
    let cert = str0m::crypto::from_feature_flags()
        .dtls_provider
        .generate_certificate();
    let mut shared = Shared::default();
    shared.report.relays = plan
        .relays
        .iter()
        .map(|t| RelayShare {
            tag: t.tag().to_string(),
            address: t.address(),
            ..RelayShare::default()
        })
        .collect();
    let shared = Arc::new(Mutex::new(shared));
    let sessions = if plan.relays.is_empty() {
        0
    } else {
        plan.sessions
    };
    let plan = Arc::new(plan);
    let mut tasks = Vec::with_capacity(sessions);
    let gap = Duration::from_secs_f64(1.0 / plan.connect_rate.max(0.001));
    let stop = start + gap.mul_f64(sessions.saturating_sub(1) as f64) + plan.hold;
    for i in 0..sessions {
        let due = start + gap.mul_f64(i as f64);
        tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
        let (plan, shared, cert) = (plan.clone(), shared.clone(), cert.clone());
        tasks.push(tokio::spawn(async move {
            let (relay, _) = placement(i, plan.relays.len(), plan.rooms);
            Shared::lock(&shared).report.relays[relay].sessions += 1;
            let result = one_client(i, &plan, cert, start, stop, &shared).await;
            let mut s = Shared::lock(&shared);
            if let Err(e) = result {
                s.report.failed += 1;
                s.report.relays[relay].failed += 1;
                if s.report.failures.len() < 10 {
                    s.report.failures.push(format!("client {i}: {e}"));
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut s = Shared::lock(&shared);
    let mut report = std::mem::take(&mut s.report);
    report.sessions = sessions;
    report.connect = Percentiles::of(&mut s.connect);
    std::mem::take(&mut s.totals).finish(&mut report);
    let outcome = s.ledger.outcome();
    report.signals_delivered = outcome.delivered;
    // Sent counts come from the ledger: only it knows which client a target address is.
    report.signals_sent = outcome.sent_pairs.iter().sum();
    report.same_relay.signals_sent = outcome.sent_pairs[0];
    report.cross_relay.signals_sent = outcome.sent_pairs[1];
    report.to_unidentified = outcome.to_unidentified;
    report.lost_to_present = outcome.lost_to_present;
    report.to_absent = outcome.to_absent;
    report.from_absent = outcome.from_absent;
    report.signals_refused = outcome.refused;
    report.signals_unexpected = outcome.unexpected;
    report.drain_secs = s
        .settled
        .map_or(0.0, |t| t.saturating_duration_since(stop).as_secs_f64());
    report.elapsed_secs = start.elapsed().as_secs_f64();
    report.offered_rate = plan.connect_rate;
    report.achieved_rate = s.last_welcome.map_or(0.0, |last| {
        report.connected as f64
            / last
                .saturating_duration_since(start)
                .as_secs_f64()
                .max(1e-3)
    });
    report
}

/// Nanoseconds since `epoch`, as the first 8 bytes of a blob carry them.
fn stamp(epoch: Instant) -> u64 {
    // u64 nanoseconds last 584 years.
    epoch.elapsed().as_nanos() as u64
}

/// How long ago the stamp at the head of `blob` was taken; `None` if the blob is too short.
fn age(epoch: Instant, blob: &[u8]) -> Option<Duration> {
    let ts: [u8; 8] = blob.get(..8)?.try_into().ok()?;
    let sent_at = Duration::from_nanos(u64::from_be_bytes(ts));
    Some(epoch.elapsed().saturating_sub(sent_at))
}

/// Connects one client to `target` from `local_ip` (the route's choice if `None`), says
/// `Hello` in [`PROTOCOL_VERSION`] and waits for `Welcome`, each step within `timeout`;
/// gives the client and its session id (its full address carries the tag of the shard that
/// serves it, which `Welcome` does not say).
async fn open(
    target: &LoadTarget,
    local_ip: Option<IpAddr>,
    cert: Option<DtlsCert>,
    timeout: Duration,
) -> Result<(UdpClient, PeerId), ClientFailure> {
    let mut client =
        UdpClient::connect_from(local_ip, &target.entry, target.addr, cert, timeout).await?;
    client
        .send(&ClientMessage::Hello {
            version: PROTOCOL_VERSION,
        })
        .await?;
    let frame = client.recv(timeout).await?;
    let welcome = match RelayMessage::decode(&frame) {
        Ok(RelayMessage::Welcome(welcome)) => welcome,
        _ => {
            return Err(ClientFailure::NoWelcome(
                frame.first().copied().unwrap_or(0),
            ))
        }
    };
    if welcome.version != PROTOCOL_VERSION {
        return Err(ClientFailure::Version(welcome.version));
    }
    Ok((client, welcome.peer))
}

async fn one_client(
    i: usize,
    plan: &LoadPlan,
    cert: Option<DtlsCert>,
    epoch: Instant,
    stop: Instant,
    shared: &Mutex<Shared>,
) -> Result<(), ClientFailure> {
    let begun = Instant::now();
    let (relay, room_index) = placement(i, plan.relays.len(), plan.rooms);
    let target = &plan.relays[relay];
    let local_ip = (!plan.local_ips.is_empty()).then(|| plan.local_ips[i % plan.local_ips.len()]);
    let (mut client, session) = open(target, local_ip, cert, plan.connect_timeout).await?;
    let welcomed = Instant::now();
    {
        let mut s = Shared::lock(shared);
        s.connect.push(welcomed.saturating_duration_since(begun));
        s.report.connected += 1;
        s.report.relays[relay].connected += 1;
        s.last_welcome = s.last_welcome.max(Some(welcomed));
        s.ledger.register(i, relay, session);
    }
    // Sustained mode: this client's own end, no drain.
    let (stop, drain) = match plan.session_hold {
        Some(hold) => (welcomed + hold, false),
        None => (stop, true),
    };
    let mut room_bytes = [0u8; 32];
    room_bytes[..8].copy_from_slice(&(room_index as u64).to_be_bytes());
    let room = RoomId::from_bytes(room_bytes);
    let mut tally = Tally::default();
    let result = signal_loop(
        i,
        plan,
        (&mut client, relay, room),
        epoch,
        (stop, drain),
        shared,
        &mut tally,
    )
    .await;
    // What was counted counts even when the client ends early.
    {
        let mut s = Shared::lock(shared);
        s.totals.add(tally);
        if result.is_err() {
            s.ledger.gone(i);
        }
    }
    result?;
    Ok(client.close().await?)
}

/// Joins `room` as a client of relay `relay` (its index in the plan), signals present
/// members until `stop`, then, with `drain`, reads until the run's signals have settled (see
/// the module docs); without, returns at `stop`.
async fn signal_loop(
    i: usize,
    plan: &LoadPlan,
    (client, relay, room): (&mut UdpClient, usize, RoomId),
    epoch: Instant,
    (stop, drain): (Instant, bool),
    shared: &Mutex<Shared>,
    tally: &mut Tally,
) -> Result<(), ClientFailure> {
    client.send(&ClientMessage::Join { room }).await?;
    let mut members = Members::new(room);
    let mut blob = vec![0x5a; plan.blob_size.max(MIN_BLOB_LEN)];
    let interval = (plan.signals_per_sec > 0.0 && drain)
        .then(|| Duration::from_secs_f64(1.0 / plan.signals_per_sec));
    let mut next_send = interval.map(|every| Instant::now() + every);
    let (mut turn, mut seq) = (i, 0u32);
    // Client indexes fit in u32: a run has far fewer clients.
    let index = i as u32;
    loop {
        let now = Instant::now();
        if !drain && now >= stop {
            return Ok(());
        }
        if now >= stop + DRAIN {
            let mut s = Shared::lock(shared);
            if now >= stop + DRAIN_MAX || s.ledger.outstanding() == 0 {
                s.settled.get_or_insert(now);
                return Ok(());
            }
        }
        if let Some(due) = next_send.filter(|due| now >= *due) {
            next_send = interval
                .map(|every| due + every)
                .filter(|next| *next < stop);
            let to = {
                let mut s = Shared::lock(shared);
                // Never ourselves: an address the ledger names as this client.
                let to = members.pick(turn, |peer| {
                    s.ledger.present(peer) && s.ledger.resolve(peer) != Some(i)
                });
                if let Some(to) = to {
                    s.ledger.sent(index, seq, to);
                }
                to
            };
            if let Some(to) = to {
                turn += 1;
                blob[..8].copy_from_slice(&stamp(epoch).to_be_bytes());
                ledger::write_id(&mut blob, index, seq, &to);
                seq = seq.wrapping_add(1);
                let signal = ClientMessage::Signal2 {
                    room,
                    to,
                    blob: &blob,
                };
                client.send(&signal).await?;
            }
            continue;
        }
        let wake = match next_send {
            Some(due) => due,
            None if !drain => stop,
            None if now < stop + DRAIN => stop + DRAIN,
            None => now + SETTLE_POLL,
        };
        let frame = match client.recv(wake.saturating_duration_since(now)).await {
            Ok(frame) => frame,
            Err(ClientError::Timeout(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let Ok(message) = RelayMessage::decode(&frame) else {
            continue;
        };
        members.apply(&message);
        match message {
            RelayMessage::Signal2 { from, blob, .. } => {
                let Some(id @ (sender, _, me)) = ledger::read_id(blob) else {
                    Shared::lock(shared).ledger.delivered_foreign();
                    continue;
                };
                if let Some(latency) = age(epoch, blob) {
                    let theirs = placement(sender as usize, plan.relays.len(), plan.rooms).0;
                    let pair = match theirs == relay {
                        true => Pair::SameRelay,
                        false => Pair::CrossRelay,
                    };
                    tally.delivered(pair, latency);
                }
                // The sender wrote the address it reached us at: ours.
                members.set_me(me);
                Shared::lock(shared).ledger.delivered(i, from, id);
            }
            RelayMessage::Error { code, request } => {
                tally.error(code, request);
                if request == msg_type::SIGNAL2 {
                    Shared::lock(shared).ledger.refused();
                }
            }
            RelayMessage::Closing { code } => return Err(ClientFailure::Closing(code)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::placement;

    #[test]
    fn clients_go_round_robin_over_every_relay() {
        let relays: Vec<usize> = (0..7).map(|i| placement(i, 3, 10).0).collect();
        assert_eq!(relays, [0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn each_room_gets_a_member_on_every_relay() {
        // 3 relays, 2 rooms, 12 clients: each room has two members on each relay.
        let mut seen = [[0; 3]; 2];
        for i in 0..12 {
            let (relay, room) = placement(i, 3, 2);
            seen[room][relay] += 1;
        }
        assert_eq!(seen, [[2; 3]; 2]);
    }

    #[test]
    fn one_relay_keeps_the_old_placement() {
        // Before relay lists, client i joined room i mod rooms.
        for i in 0..20 {
            assert_eq!(placement(i, 1, 4), (0, i % 4));
        }
    }

    #[test]
    fn degenerate_counts_do_not_divide_by_zero() {
        assert_eq!(placement(5, 0, 0), (0, 0));
    }
}
