//! CPU per new session, in memory (a benchmark, not a test): the same native str0m clients
//! against (a) a bare str0m ICE-lite server — one `Rtc` per source address, built by the
//! relay's own [`RtcTemplate`] (ICE-lite, shared DTLS certificate and crypto provider, DTLS
//! and SCTP server), nothing else — and (b) the relay core, [`Relay`]. A session is
//! ICE + DTLS + SCTP + DataChannel open, then (core only) Hello/Welcome and a join, then the
//! client's close and the server dropping its state.
//!
//! No sockets: datagrams are handed between the sans-IO objects, time is simulated (it only
//! moves when nothing is in flight). Server CPU is the thread's CPU time spent inside the
//! server's input and output calls; client CPU is the rest of the loop. Rounds alternate
//! (a, b, a, b, …) so that noise on the shared machine hits both.
//!
//! ```text
//! cargo run --release -p lumamesh-relay --example handshake_cpu -- [SESSIONS] [ROUNDS] [BATCH]
//! ```
//! SESSIONS (default 2000) per variant, split over ROUNDS (default 4) rounds each; BATCH
//! (default 50) clients handshake at once.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bootstrap_codec::{IceUfrag, RelayAddress, RelayEntry};
use keystore::RelayIdentity;
use lumamesh_relay::client::{ClientOutput, Connection};
use lumamesh_relay::core::{Input, Limits, Output, Relay, RelayConfig, RtcTemplate};
use lumamesh_relay::protocol::{ClientMessage, RelayMessage, RoomId, PROTOCOL_V1};
use str0m::config::DtlsCert;
use str0m::ice::StunMessage;
use str0m::net::{Protocol, Receive};
use str0m::{Event, Rtc};

const SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 3478);

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu() -> Duration {
    cpu_clock(3)
}

/// CPU time of the whole process (`CLOCK_PROCESS_CPUTIME_ID`).
fn process_cpu() -> Duration {
    cpu_clock(2)
}

fn cpu_clock(id: i32) -> Duration {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec (64-bit Linux layout); the clock ids are
    // the kernel's CPU-time clocks, which always exist.
    let rc = unsafe { clock_gettime(id, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.sec as u64, ts.nsec as u32)
}

/// A server under test: datagrams and time in, datagrams out.
trait Server {
    fn receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8], out: &mut Out);
    fn timeout(&mut self, now: Instant, out: &mut Out);
    fn next_timeout(&self) -> Option<Instant>;
    /// Sessions the server still holds.
    fn live(&self) -> usize;
    /// Whether sessions exchange Hello/Welcome and a join after the channel opens.
    fn speaks_protocol(&self) -> bool;
}

type Out = Vec<(SocketAddr, Vec<u8>)>;

/// The relay core.
struct Core {
    relay: Relay,
    timeout: Option<Instant>,
}

impl Core {
    fn drain(&mut self, out: &mut Out) {
        loop {
            match self.relay.poll_output() {
                Output::Transmit(t) => out.push((t.destination, t.contents)),
                Output::Timeout(t) => {
                    self.timeout = Some(t);
                    return;
                }
            }
        }
    }
}

impl Server for Core {
    fn receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8], out: &mut Out) {
        self.relay
            .handle_input(now, Input::Receive { source, contents });
        self.drain(out);
    }

    fn timeout(&mut self, now: Instant, out: &mut Out) {
        self.relay.handle_input(now, Input::Timeout);
        self.drain(out);
    }

    fn next_timeout(&self) -> Option<Instant> {
        self.timeout
    }

    fn live(&self) -> usize {
        self.relay.stats().sessions as usize
    }

    fn speaks_protocol(&self) -> bool {
        true
    }
}

/// A bare str0m server: one `Rtc` per source address, created by a binding request naming
/// our ufrag, dropped when its channel or connection closes.
struct Bare {
    template: RtcTemplate,
    sessions: HashMap<SocketAddr, (Rtc, Instant)>,
    gone: Vec<SocketAddr>,
}

impl Bare {
    fn build(&self, remote_ufrag: &str, now: Instant) -> Rtc {
        self.template.build(remote_ufrag, now).expect("rtc")
    }

    /// Polls one `Rtc` until its timeout; returns whether it is finished.
    fn drain(rtc: &mut Rtc, next: &mut Instant, out: &mut Out) -> bool {
        loop {
            match rtc.poll_output() {
                Ok(str0m::Output::Transmit(t)) => out.push((t.destination, t.contents.into())),
                Ok(str0m::Output::Event(Event::ChannelClose(_) | Event::Closed)) => return true,
                Ok(str0m::Output::Event(_)) => {}
                Ok(str0m::Output::Timeout(t)) => {
                    *next = t;
                    return !rtc.is_alive();
                }
                Err(_) => return true,
            }
        }
    }
}

impl Server for Bare {
    fn receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8], out: &mut Out) {
        if !self.sessions.contains_key(&source) {
            let Ok(stun) = StunMessage::parse(contents) else {
                return;
            };
            let Some((_, theirs)) = stun.username().and_then(|u| u.split_once(':')) else {
                return;
            };
            let rtc = self.build(theirs, now);
            self.sessions.insert(source, (rtc, now));
        }
        let (rtc, next) = self.sessions.get_mut(&source).expect("inserted");
        if let Ok(r) = Receive::new(Protocol::Udp, source, SERVER, contents) {
            let _ = rtc.handle_input(str0m::Input::Receive(now, r));
        }
        if Self::drain(rtc, next, out) {
            self.sessions.remove(&source);
        }
    }

    fn timeout(&mut self, now: Instant, out: &mut Out) {
        for (addr, (rtc, next)) in &mut self.sessions {
            if *next <= now {
                let done = rtc.handle_input(str0m::Input::Timeout(now)).is_err()
                    || Self::drain(rtc, next, out);
                if done {
                    self.gone.push(*addr);
                }
            }
        }
        for addr in self.gone.drain(..) {
            self.sessions.remove(&addr);
        }
    }

    fn next_timeout(&self) -> Option<Instant> {
        self.sessions.values().map(|(_, t)| *t).min()
    }

    fn live(&self) -> usize {
        self.sessions.len()
    }

    fn speaks_protocol(&self) -> bool {
        false
    }
}

#[derive(PartialEq)]
enum Step {
    Connecting,
    Welcoming,
    Joining,
    Closing,
    Done,
}

struct Client {
    conn: Connection,
    addr: SocketAddr,
    step: Step,
    /// Rooms of four, like a small app's.
    room: RoomId,
    timeout: Option<Instant>,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    sessions: u64,
    /// Datagrams into and out of the server.
    datagrams: u64,
    server: Duration,
    client: Duration,
    process: Duration,
}

/// Runs `count` sessions, `batch` at a time, against `server`; returns the CPU spent.
fn run(
    server: &mut dyn Server,
    entry: &RelayEntry,
    cert: &DtlsCert,
    count: usize,
    batch: usize,
    now: &mut Instant,
    next_port: &mut u32,
) -> Tally {
    let mut tally = Tally::default();
    let process_start = process_cpu();
    let mut out: Out = Vec::new();
    let mut done = 0;
    while done < count {
        let n = batch.min(count - done);
        let client_start = thread_cpu();
        let mut clients: Vec<Client> = (0..n)
            .map(|_| {
                // 16 source addresses, like the load generator; ports as needed.
                let p = *next_port;
                *next_port += 1;
                let ip = Ipv4Addr::new(10, 1, 0, 2 + (p % 16) as u8);
                let addr = SocketAddr::new(ip.into(), 1024 + (p / 16 % 60_000) as u16);
                let conn = Connection::to_addr(entry, SERVER, addr, Some(cert.clone()), *now)
                    .expect("client");
                let mut room = [0; 32];
                room[..4].copy_from_slice(&(p / 4).to_le_bytes());
                Client {
                    conn,
                    addr,
                    step: Step::Connecting,
                    room: RoomId::from_bytes(room),
                    timeout: None,
                }
            })
            .collect();
        let mut client_cpu = thread_cpu() - client_start;
        let mut server_cpu = Duration::ZERO;
        let mut by_addr: HashMap<SocketAddr, usize> = HashMap::new();
        for (i, c) in clients.iter().enumerate() {
            by_addr.insert(c.addr, i);
        }
        let started = *now;
        loop {
            let mut moved = false;
            // Clients: poll, feed their datagrams to the server.
            for c in clients.iter_mut() {
                if c.step == Step::Done {
                    continue;
                }
                loop {
                    let t0 = thread_cpu();
                    let polled = c.conn.poll();
                    client_cpu += thread_cpu() - t0;
                    match polled {
                        ClientOutput::Transmit(t) => {
                            moved = true;
                            tally.datagrams += 1;
                            let t0 = thread_cpu();
                            server.receive(*now, c.addr, &t.contents, &mut out);
                            server_cpu += thread_cpu() - t0;
                        }
                        ClientOutput::Open => {
                            let t0 = thread_cpu();
                            if server.speaks_protocol() {
                                c.conn
                                    .send(&ClientMessage::Hello {
                                        version: PROTOCOL_V1,
                                    })
                                    .expect("hello");
                                c.step = Step::Welcoming;
                            } else {
                                c.conn.close();
                                c.step = Step::Closing;
                            }
                            client_cpu += thread_cpu() - t0;
                        }
                        ClientOutput::Frame(f) => {
                            let t0 = thread_cpu();
                            match (RelayMessage::decode(&f), &c.step) {
                                (Ok(RelayMessage::Welcome(_)), Step::Welcoming) => {
                                    c.conn
                                        .send(&ClientMessage::Join { room: c.room })
                                        .expect("join");
                                    c.step = Step::Joining;
                                }
                                (Ok(RelayMessage::Room { .. }), Step::Joining) => {
                                    c.conn.close();
                                    c.step = Step::Closing;
                                }
                                (
                                    Ok(RelayMessage::Joined { .. } | RelayMessage::Left { .. }),
                                    _,
                                ) => {}
                                (other, _) => panic!("unexpected frame {other:?}"),
                            }
                            client_cpu += thread_cpu() - t0;
                        }
                        ClientOutput::Closed => {
                            assert!(c.step == Step::Closing, "client closed early");
                            c.step = Step::Done;
                            break;
                        }
                        ClientOutput::Timeout(t) => {
                            c.timeout = Some(t);
                            break;
                        }
                    }
                }
            }
            // Server: deliver what it sent.
            let t0 = thread_cpu();
            for (dest, contents) in out.drain(..) {
                moved = true;
                tally.datagrams += 1;
                if let Some(&i) = by_addr.get(&dest) {
                    clients[i].conn.handle_receive(*now, SERVER, &contents);
                }
            }
            client_cpu += thread_cpu() - t0;
            if moved {
                continue;
            }
            let all_done = clients.iter().all(|c| c.step == Step::Done);
            if all_done && server.live() == 0 {
                break;
            }
            assert!(
                now.duration_since(started) < Duration::from_secs(60),
                "sessions did not finish: {} clients left, {} server sessions",
                clients.iter().filter(|c| c.step != Step::Done).count(),
                server.live()
            );
            // Nothing in flight: move time to the earliest timer.
            let next = clients
                .iter()
                .filter(|c| c.step != Step::Done)
                .filter_map(|c| c.timeout)
                .chain(server.next_timeout())
                .min()
                .unwrap_or(*now + Duration::from_millis(10));
            *now = next.max(*now + Duration::from_millis(1));
            let t0 = thread_cpu();
            server.timeout(*now, &mut out);
            server_cpu += thread_cpu() - t0;
            let t0 = thread_cpu();
            for c in clients.iter_mut().filter(|c| c.step != Step::Done) {
                if c.timeout.is_some_and(|t| t <= *now) {
                    c.conn.handle_timeout(*now);
                }
            }
            client_cpu += thread_cpu() - t0;
        }
        tally.server += server_cpu;
        tally.client += client_cpu;
        tally.sessions += n as u64;
        done += n;
    }
    tally.process = process_cpu() - process_start;
    tally
}

fn micros_per(d: Duration, n: u64) -> f64 {
    d.as_secs_f64() * 1e6 / n.max(1) as f64
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let sessions = args.next().and_then(Result::ok).unwrap_or(2000);
    let rounds = args.next().and_then(Result::ok).unwrap_or(4).max(1);
    let batch = args.next().and_then(Result::ok).unwrap_or(50).max(1);
    let per_round = sessions.div_ceil(rounds);

    let identity = RelayIdentity::generate().expect("identity");
    let entry = identity.entry(
        RelayAddress::from_ip(SERVER.ip()).expect("ip"),
        SERVER.port().try_into().expect("port"),
        IceUfrag::default_relay(),
    );
    let mut config = RelayConfig::new(&identity, &entry, SERVER);
    // One host's load: lift the per-source limits as the BENCHMARKS.md load runs do.
    config.limits = Limits {
        max_sessions: 100_000,
        new_sessions_per_ip_per_sec: 1e6,
        new_session_burst_per_ip: 1e6,
        new_sessions_per_prefix_per_sec: 1e6,
        new_session_burst_per_prefix: 1e6,
        max_sessions_per_ip: 100_000,
        max_sessions_per_prefix: 100_000,
        max_handshaking_per_ip: 100_000,
        max_handshaking_per_prefix: 100_000,
        max_handshaking: 100_000,
        ..Limits::default()
    };
    let mut now = Instant::now();
    let mut core = Core {
        relay: Relay::new(config.clone(), now).expect("relay"),
        timeout: None,
    };
    let mut bare = Bare {
        // The core's own builder, so that the bare server's sessions are the core's.
        template: RtcTemplate::new(&config, lumamesh_relay::dtls::crypto_provider()),
        sessions: HashMap::new(),
        gone: Vec::new(),
    };
    // Clients share one certificate, as the load generator's do.
    let cert = str0m::crypto::from_feature_flags()
        .dtls_provider
        .generate_certificate()
        .expect("client certificate");
    let mut port = 0;

    // Warm-up: a few sessions each, not counted.
    run(&mut bare, &entry, &cert, batch, batch, &mut now, &mut port);
    run(&mut core, &entry, &cert, batch, batch, &mut now, &mut port);

    println!(
        "{sessions} sessions per variant, {rounds} alternating rounds, {batch} at a time; \
         µs of CPU per session"
    );
    println!("| round | bare server | core server | ratio | bare client | core client |");
    println!("|---|---:|---:|---:|---:|---:|");
    let (mut bare_all, mut core_all) = (Tally::default(), Tally::default());
    let mut ratios = Vec::new();
    for r in 0..rounds {
        let a = run(
            &mut bare, &entry, &cert, per_round, batch, &mut now, &mut port,
        );
        let b = run(
            &mut core, &entry, &cert, per_round, batch, &mut now, &mut port,
        );
        let (sa, sb) = (
            micros_per(a.server, a.sessions),
            micros_per(b.server, b.sessions),
        );
        ratios.push(sb / sa);
        println!(
            "| {} | {sa:.0} | {sb:.0} | {:.2} | {:.0} | {:.0} |",
            r + 1,
            sb / sa,
            micros_per(a.client, a.sessions),
            micros_per(b.client, b.sessions),
        );
        for (all, t) in [(&mut bare_all, a), (&mut core_all, b)] {
            all.sessions += t.sessions;
            all.datagrams += t.datagrams;
            all.server += t.server;
            all.client += t.client;
            all.process += t.process;
        }
    }
    let (sa, sb) = (
        micros_per(bare_all.server, bare_all.sessions),
        micros_per(core_all.server, core_all.sessions),
    );
    ratios.sort_by(f64::total_cmp);
    println!(
        "| all | {sa:.0} | {sb:.0} | {:.2} (median round {:.2}) | {:.0} | {:.0} |",
        sb / sa,
        ratios[ratios.len() / 2],
        micros_per(bare_all.client, bare_all.sessions),
        micros_per(core_all.client, core_all.sessions),
    );
    println!(
        "process CPU per session (server + client + harness): bare {:.0} µs, core {:.0} µs",
        micros_per(bare_all.process, bare_all.sessions),
        micros_per(core_all.process, core_all.sessions),
    );
    println!(
        "server datagrams (in + out) per session: bare {:.1}, core {:.1}",
        bare_all.datagrams as f64 / bare_all.sessions as f64,
        core_all.datagrams as f64 / core_all.sessions as f64,
    );
}
