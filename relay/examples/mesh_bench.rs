//! Federation gossip benchmark (not a test): N real mesh engines (libp2p TCP + pnet + Noise +
//! Yamux + gossipsub, production timings) in one process on loopback, fully meshed, with R
//! rooms each served by k = min(3, N) relays. The relay core is simulated: each engine is
//! fed `MeshOutput::Joined/Left/Signal` as a core would feed it, on this schedule:
//!
//! - room r is served by relays r, r+1, …, r+k−1 (mod N), each with one member that stays;
//! - each such member signals the member of the next serving relay every 5 s (256-byte blob);
//! - each serving relay has a visitor join and leave the room once every 10 s (churn that
//!   changes no subscription).
//!
//! After a warm-up, it counts for each relay, over a window: gossip messages and data bytes
//! (the node's `MeshStats`) and the bytes its TCP connections really carried (the kernel's
//! TCP_INFO through `ss`, so pnet/Noise/Yamux/gossipsub framing, control messages,
//! identify and ping are included), plus the process's CPU time and resident memory.
//!
//! ```text
//! cargo run --release -p lumamesh-relay --example mesh_bench -- [WINDOW_SECS] [RELAYS,..] [ROOMS,..]
//! ```
//!
//! Defaults: a 30 s window after a 10 s warm-up; relays 3,10,30; rooms 0,100,1000. Prints
//! one JSON line per configuration, then a Markdown table.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroU16;
use std::time::{Duration, Instant};

use bootstrap_codec::{IceUfrag, RelayAddress};
use keystore::RelayIdentity;
use lumamesh_relay::core::MeshOutput;
use lumamesh_relay::mesh::swarm::{Mesh, MeshReport, MeshSettings, TestSettings};
use lumamesh_relay::protocol::{PeerAddr, PeerId, RelayTag, RoomId};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

#[path = "common/tcp_bytes.rs"]
mod tcp_bytes;

const WARM_UP: Duration = Duration::from_secs(10);
const TICK: Duration = Duration::from_millis(100);
/// Ticks between two signals of one member (5 s).
const SIGNAL_EVERY: u64 = 50;
/// Ticks between two visitor joins on one serving relay (10 s); it leaves half-way.
const VISIT_EVERY: u64 = 100;
const BLOB: usize = 256;
/// Rooms are served by this many relays (fewer if the federation is smaller).
const RELAYS_PER_ROOM: usize = 3;

enum Cmd {
    Out(MeshOutput),
    Report(oneshot::Sender<MeshReport>),
}

struct Node {
    tx: mpsc::UnboundedSender<Cmd>,
    listen: SocketAddr,
    tag: RelayTag,
}

impl Node {
    fn send(&self, out: MeshOutput) {
        let _ = self.tx.send(Cmd::Out(out));
    }

    async fn report(&self) -> MeshReport {
        let (tx, rx) = oneshot::channel();
        let _ = self.tx.send(Cmd::Report(tx));
        rx.await.expect("node task runs")
    }
}

/// Drives one engine as the relay driver does; the core's inputs are dropped (the node's
/// stats count what was delivered).
async fn drive(mut mesh: Mesh, mut rx: mpsc::UnboundedReceiver<Cmd>) {
    loop {
        tokio::select! {
            event = mesh.next_event() => mesh.handle(event),
            cmd = rx.recv() => match cmd {
                None => return,
                Some(Cmd::Out(out)) => mesh.from_relay(out),
                Some(Cmd::Report(tx)) => {
                    let _ = tx.send(mesh.report());
                }
            },
        }
        while mesh.poll_input().is_some() {}
    }
}

async fn start(n: usize) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    for i in 0..n {
        let identity = RelayIdentity::generate().expect("identity");
        let address = RelayAddress::from_ip(Ipv4Addr::LOCALHOST.into()).expect("address");
        let port = NonZeroU16::new(20_000 + i as u16).expect("non-zero");
        let entry = identity.entry(address, port, IceUfrag::default_relay());
        let mut settings =
            MeshSettings::parse(Some("127.0.0.1:0"), None, Some("mesh bench")).expect("settings");
        settings.peers = nodes.iter().map(|p| p.listen.into()).collect();
        // Production timings; only the colocation penalty is off (every relay is on 127.0.0.1).
        settings.tests = TestSettings {
            colocation_penalty: false,
            ..TestSettings::default()
        };
        let mesh = Mesh::start(&settings, identity.node_secret(), &entry)
            .await
            .expect("mesh starts");
        let listen = mesh.listen_addr().expect("listening");
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(drive(mesh, rx));
        nodes.push(Node {
            tx,
            listen,
            tag: RelayTag::of(entry.node_key()),
        });
    }
    nodes
}

async fn reports(nodes: &[Node]) -> Vec<MeshReport> {
    let mut all = Vec::with_capacity(nodes.len());
    for node in nodes {
        all.push(node.report().await);
    }
    all
}

/// Waits until every relay is connected to and knows every other one.
async fn wait_full_mesh(nodes: &[Node]) {
    let want = nodes.len() as u64 - 1;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let all = reports(nodes).await;
        if all
            .iter()
            .all(|r| r.node.mesh_peers >= want && r.node.known_relays >= want)
        {
            return;
        }
        assert!(Instant::now() < deadline, "no full mesh: {all:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn room_id(r: usize) -> RoomId {
    let mut bytes = [0x6d; 32];
    bytes[..8].copy_from_slice(&(r as u64).to_be_bytes());
    RoomId::from_bytes(bytes)
}

fn member(r: usize) -> PeerId {
    PeerId::new(2 * r as u32 + 1).expect("non-zero")
}

fn visitor(r: usize) -> PeerId {
    PeerId::new(2 * r as u32 + 2).expect("non-zero")
}

/// The relays serving room `r`.
fn serving(r: usize, n: usize) -> impl Iterator<Item = usize> {
    (0..RELAYS_PER_ROOM.min(n)).map(move |j| (r + j) % n)
}

/// One tick of the schedule (module doc): what every serving relay's sessions do.
fn tick(nodes: &[Node], rooms: usize, t: u64) -> u64 {
    let n = nodes.len();
    let mut sent = 0;
    let k = RELAYS_PER_ROOM.min(n);
    for r in 0..rooms {
        for (j, i) in serving(r, n).enumerate() {
            let room = room_id(r);
            let phase = (r as u64 * 7 + j as u64 * 17) % VISIT_EVERY;
            if k > 1 && (t + phase).is_multiple_of(SIGNAL_EVERY) {
                let next = (r + (j + 1) % k) % n;
                sent += 1;
                nodes[i].send(MeshOutput::Signal {
                    room,
                    from: member(r),
                    to: PeerAddr {
                        relay: nodes[next].tag,
                        session: member(r),
                    },
                    blob: vec![0xb1; BLOB],
                });
            }
            match (t + phase) % VISIT_EVERY {
                0 => nodes[i].send(MeshOutput::Joined {
                    room,
                    session: visitor(r),
                }),
                x if x == VISIT_EVERY / 2 => nodes[i].send(MeshOutput::Left {
                    room,
                    session: visitor(r),
                }),
                _ => continue,
            }
            sent += 1;
        }
    }
    sent
}

/// This process's CPU time (user + system), from /proc/self/stat (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    Duration::from_millis((fields[11] + fields[12]) * 10)
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Runs one configuration and returns its JSON line.
async fn bench(n: usize, rooms: usize, window: Duration) -> serde_json::Value {
    let nodes = start(n).await;
    wait_full_mesh(&nodes).await;
    for r in 0..rooms {
        for i in serving(r, n) {
            nodes[i].send(MeshOutput::Joined {
                room: room_id(r),
                session: member(r),
            });
        }
    }
    let ports: HashSet<u16> = nodes.iter().map(|n| n.listen.port()).collect();
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ticks_warm = (WARM_UP.as_millis() / TICK.as_millis()) as u64;
    let ticks_all = ticks_warm + (window.as_millis() / TICK.as_millis()) as u64;
    let mut at_start = None;
    let mut offered = 0;
    for t in 0..ticks_all {
        if t == ticks_warm {
            at_start = Some((
                reports(&nodes).await,
                tcp_bytes::sample(),
                cpu_time(),
                Instant::now(),
            ));
        }
        interval.tick().await;
        let sent = tick(&nodes, rooms, t);
        if t >= ticks_warm {
            offered += sent;
        }
    }
    let (before, tcp_before, cpu_before, t0) = at_start.expect("window started");
    let after = reports(&nodes).await;
    let tcp = tcp_bytes::moved(&tcp_before, &tcp_bytes::sample(), &ports);
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu_before).as_secs_f64();
    let rss = rss_mib();
    let per_sec = |f: fn(&MeshReport) -> u64| {
        let v: Vec<f64> = before
            .iter()
            .zip(&after)
            .map(|(b, a)| (f(a) - f(b)) as f64 / secs)
            .collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let max = v.iter().copied().fold(0.0, f64::max);
        json!({ "mean": round2(mean), "max": round2(max) })
    };
    let refused: u64 = after
        .iter()
        .map(|r| {
            let x = r.node.refused;
            x.malformed
                + x.oversized
                + x.forged
                + x.wrong_author
                + x.stale
                + x.rate_limited
                + x.unknown_topic
        })
        .sum();
    // With port reuse (libp2p's default for dials) every socket's local port is its relay's
    // listen port; otherwise only the total is exact and is shared out evenly.
    let tcp_rate = |f: fn(&tcp_bytes::Counters) -> u64| {
        let v: Vec<f64> = tcp.by_port.values().map(|c| f(c) as f64 / secs).collect();
        let max = v.iter().copied().fold(0.0, f64::max);
        let mean = if tcp.unattributed.received == 0 && v.len() == n {
            v.iter().sum::<f64>() / n as f64
        } else {
            tcp.total_received as f64 / n as f64 / secs
        };
        json!({ "mean": mean.round(), "max": max.round() })
    };
    drop(nodes);
    // Let the tasks see their channels close and the sockets go.
    tokio::time::sleep(Duration::from_secs(2)).await;
    json!({
        "relays": n,
        "rooms": rooms,
        "relays_per_room": RELAYS_PER_ROOM.min(n),
        "window_s": (secs * 10.0).round() / 10.0,
        "per_relay_per_s": {
            "core_outputs_offered": round2(offered as f64 / n as f64 / secs),
            "gossip_messages_out": per_sec(|r| r.node.gossip_messages_out),
            "gossip_messages_in": per_sec(|r| r.node.gossip_messages_in),
            "gossip_data_bytes_out": per_sec(|r| r.node.gossip_bytes_out),
            "gossip_data_bytes_in": per_sec(|r| r.node.gossip_bytes_in),
            "signals_in": per_sec(|r| r.node.signals_in),
            "tcp_bytes_in": tcp_rate(|c| c.received),
            "tcp_bytes_out": tcp_rate(|c| c.sent),
        },
        "tcp_attributed_ports": tcp.by_port.len(),
        "tcp_unattributed_bytes_received": tcp.unattributed.received,
        "refused_total": refused,
        "refused_by_reason": after.iter().map(|r| r.node.refused).collect::<Vec<_>>(),
        "process_cpu_percent": (cpu / secs * 1000.0).round() / 10.0,
        "process_rss_mib": (rss * 10.0).round() / 10.0,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn list(arg: Option<String>, default: &[usize]) -> Vec<usize> {
    match arg {
        Some(a) => a.split(',').map(|v| v.parse().expect("a number")).collect(),
        None => default.to_vec(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let window = Duration::from_secs(args.next().map_or(30, |a| a.parse().expect("seconds")));
    let relays = list(args.next(), &[3, 10, 30]);
    let rooms = list(args.next(), &[0, 100, 1000]);
    let mut rows = Vec::new();
    for &n in &relays {
        for &r in &rooms {
            let row = bench(n, r, window).await;
            println!("{row}");
            rows.push(row);
        }
    }
    println!("\n| relays | rooms | offered/s | msgs published/s | msgs in/s | data B/s published | data B/s in | TCP B/s in | TCP B/s out | TCP in / data in | CPU % (process) | RSS MiB |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        let p = &row["per_relay_per_s"];
        let data = p["gossip_data_bytes_in"]["mean"].as_f64().unwrap_or(0.0);
        let tcp = p["tcp_bytes_in"]["mean"].as_f64().unwrap_or(0.0);
        let ratio = if data > 0.0 {
            format!("{:.1}", tcp / data)
        } else {
            "–".into()
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row["relays"],
            row["rooms"],
            p["core_outputs_offered"],
            p["gossip_messages_out"]["mean"],
            p["gossip_messages_in"]["mean"],
            p["gossip_data_bytes_out"]["mean"],
            p["gossip_data_bytes_in"]["mean"],
            tcp,
            p["tcp_bytes_out"]["mean"],
            ratio,
            row["process_cpu_percent"],
            row["process_rss_mib"],
        );
    }
}
