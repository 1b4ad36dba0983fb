//! Issue 14 on the real binary: a flood from two loopback addresses (random-ufrag binding
//! requests, half-open DTLS and held full sessions; at ten times the rate that blocked
//! clients before, and ignored, at the highest rate `lumamesh-load attack` reaches) keeps no
//! ordinary client out; a spoofed binding request and ClientHello get the
//! spoofed address no more than a small reply; a binding request with a live session's ufrag
//! from a new address does not take the session over.
//!
//! Every address is on loopback; each ordinary client and each role (attacker, victim,
//! hijacker) sends from its own /24 (127.0.x.0), so per-prefix limits treat them as the
//! different networks they stand for. No timing is asserted: waits are generous.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lumamesh_relay::client::UdpClient;
use lumamesh_relay::load::attack::{binding_request, client_hello, Comparison, Kind, Ufrags};
use lumamesh_relay::protocol::{ClientMessage, RelayMessage};
use str0m::ice::StunMessage;

use super::{hello, recv, RelayProcess, WAIT};

/// The flooding addresses: two hosts in two /24s.
const ATTACKERS: &str = "127.0.0.2,127.0.1.3";

/// A relay that logs little: a flood would otherwise fill its stderr file.
fn quiet_relay() -> RelayProcess {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    RelayProcess::start_with_env(&dir, 0, Some(tmp), &[("RUST_LOG", "warn")])
}

fn relay_addr(relay: &RelayProcess) -> SocketAddr {
    SocketAddr::new([127, 0, 0, 1].into(), relay.entry.port())
}

/// Two addresses flood at 1,000 binding requests and 1,000 half-open handshakes a second
/// each (ten times the rate that kept 60 of 100 clients out of the relay before issue 14),
/// plus 20 held sessions, while 100 ordinary clients connect: all of them get in.
#[test]
fn r14_a_flood_from_two_addresses_keeps_no_client_out() {
    flood_keeps_no_client_out("1000");
}

/// The same at the highest rate the attack tool reaches. On a debug build sharing two cores
/// with the rest of the suite the relay's CPU, not its limits, is then the bottleneck: in 2
/// of 7 runs a few clients (5–7 of 100) lost their handshakes to datagrams dropped at the
/// relay's socket and timed out. The release figures (100 of 100 at ~28,000 packets/s per
/// address) are in BENCHMARKS.md, "Under attack (issue 14)"; run this with `--ignored`.
#[test]
#[ignore = "CPU-bound on a debug build: the relay, not its limits, drops datagrams; see BENCHMARKS.md"]
fn r14_a_flood_at_the_tools_highest_rate_keeps_no_client_out() {
    flood_keeps_no_client_out("inf");
}

fn flood_keeps_no_client_out(rate: &str) {
    let relay = quiet_relay();
    let output = Command::new(env!("CARGO_BIN_EXE_lumamesh-load"))
        .args([
            "attack",
            "--entry",
            &relay.entry.to_line(),
            "--from",
            ATTACKERS,
        ])
        .args(["--stun-rate", rate, "--half-open-rate", rate])
        .args(["--full-sessions", "20", "--clients", "100", "--skip-quiet"])
        .args(["--connect-rate", "10", "--connect-timeout-secs", "120"])
        .args(["--warmup-secs", "3", "--json"])
        .stdin(Stdio::null())
        .output()
        .expect("the attack tool runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Comparison = serde_json::from_slice(&output.stdout).expect("JSON report");
    let (clients, attack) = (&report.under_attack, &report.attack);
    eprintln!(
        "flood: (a) {:.0}/s, (b) {:.0}/s, (c) {:?}; clients connect {}",
        attack.stun_per_sec, attack.half_open_per_sec, attack.full, clients.connect
    );
    // The attack really ran, from both addresses, with every part.
    assert_eq!(attack.floods.len(), 2, "{report:#?}");
    for flood in &attack.floods {
        assert!(
            flood.stun_sent > 0 && flood.half_open_sent > 0,
            "{report:#?}"
        );
    }
    assert!(attack.full.attempts > 0, "{report:#?}");
    assert_eq!(clients.sessions, 100, "{report:#?}");
    assert_eq!(clients.connected, 100, "{:#?}", clients);
    assert_eq!(clients.failed, 0, "{:#?}", clients);
}

/// What arrived at a socket in a window.
#[derive(Debug, Default)]
struct Arrivals {
    datagrams: usize,
    bytes: usize,
    largest: usize,
    /// Time of the last arrival since the window opened.
    last: Duration,
}

/// Everything that arrives at `socket` for `window`.
fn collect(socket: &UdpSocket, window: Duration) -> Arrivals {
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let mut seen = Arrivals::default();
    while let Some(left) = window.checked_sub(start.elapsed()) {
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("timeout");
        if let Ok(len) = socket.recv(&mut buf) {
            seen.datagrams += 1;
            seen.bytes += len;
            seen.largest = seen.largest.max(len);
            seen.last = start.elapsed();
        }
    }
    seen
}

#[test]
fn r14_a_spoofed_handshake_reflects_no_more_than_a_small_reply() {
    let relay = quiet_relay();
    // The victim's own socket sends what a spoofer would send in its name.
    let victim = UdpSocket::bind("127.0.200.1:0").expect("bind the victim");
    victim.connect(relay_addr(&relay)).expect("connect");
    let request = binding_request(&relay.entry, &Ufrags::default().fresh(), true);
    let hello = client_hello().expect("a ClientHello");
    victim.send(&request).expect("send");
    victim.send(&hello).expect("send");
    let sent = request.len() + hello.len();
    // A DTLS server retransmits its flight after 1, 3 and 7 s, until the relay's 10 s
    // handshake timeout: 12 s of listening shows all of it.
    let seen = collect(&victim, Duration::from_secs(12));
    eprintln!("the spoofer sent 2 datagrams, {sent} bytes; the victim got {seen:?}");
    // The bound: small datagrams only (none larger than the ClientHello: no certificate
    // flight), at most one answer to the binding request and four HelloVerifyRequests, at most
    // twice the bytes sent. Without a cookie the relay sends its 650-byte flight, repeatedly.
    assert!(
        seen.largest <= hello.len() && seen.datagrams <= 5 && seen.bytes <= 2 * sent,
        "the victim got {seen:?} for {sent} bytes sent"
    );
}

/// A UDP forwarder between a native client and the relay that remembers the client's ICE
/// ufrag from its binding requests (what a test knows: it made the session). The relay sees
/// the session at the forwarder's relay-side address.
struct Forwarder {
    /// Where the client sends.
    addr: SocketAddr,
    ufrag: Arc<Mutex<Option<String>>>,
}

impl Forwarder {
    async fn start(relay: SocketAddr, ufrag_of_relay: String) -> Self {
        let near = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let far = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = near.local_addr().expect("addr");
        let ufrag = Arc::new(Mutex::new(None));
        let seen = ufrag.clone();
        tokio::spawn(async move {
            let (mut a, mut b) = ([0u8; 2048], [0u8; 2048]);
            let mut client = None;
            loop {
                tokio::select! {
                    Ok((len, from)) = near.recv_from(&mut a) => {
                        client = Some(from);
                        let datagram = &a[..len];
                        if let Ok(stun) = StunMessage::parse(datagram) {
                            let names = stun.username().and_then(|u| u.split_once(':'));
                            if let Some((_, theirs)) = names.filter(|(o, _)| *o == ufrag_of_relay) {
                                *seen.lock().expect("lock") = Some(theirs.to_owned());
                            }
                        }
                        let _ = far.send_to(datagram, relay).await;
                    }
                    Ok((len, _)) = far.recv_from(&mut b) => {
                        if let Some(client) = client {
                            let _ = near.send_to(&b[..len], client).await;
                        }
                    }
                }
            }
        });
        Self { addr, ufrag }
    }

    fn ufrag(&self) -> String {
        self.ufrag
            .lock()
            .expect("lock")
            .clone()
            .expect("the client sent a binding request")
    }
}

#[test]
fn r14_a_binding_request_from_a_new_address_does_not_take_a_session_over() {
    let relay = quiet_relay();
    let entry = relay.entry.clone();
    let relay_at = relay_addr(&relay);
    // One thread is enough: the forwarder and the hijacker run while the client awaits.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let forwarder = Forwarder::start(relay_at, entry.ufrag().as_str().to_owned()).await;
        let mut client = UdpClient::connect(&entry, Some(forwarder.addr), None, WAIT)
            .await
            .expect("the client connects");
        hello(&mut client, &entry).await;
        let ufrag = forwarder.ufrag();

        // The hijacker knows the live ufrag and the relay's public password, and nominates
        // its own address again and again while the session is in use.
        let hijacker = tokio::net::UdpSocket::bind("127.0.201.1:0")
            .await
            .expect("bind the hijacker");
        hijacker.connect(relay_at).await.expect("connect");
        let hijacker = Arc::new(hijacker);
        let counts = Arc::new(Mutex::new((0usize, 0usize)));
        let listen = tokio::spawn({
            let (hijacker, counts) = (hijacker.clone(), counts.clone());
            async move {
                let mut buf = [0u8; 2048];
                while let Ok(len) = hijacker.recv(&mut buf).await {
                    let mut c = counts.lock().expect("lock");
                    match Kind::of(&buf[..len]) {
                        Kind::Stun => c.0 += 1,
                        _ => c.1 += 1,
                    }
                }
            }
        });
        let send = tokio::spawn({
            let (hijacker, entry, ufrag) = (hijacker.clone(), entry.clone(), ufrag.clone());
            async move {
                for _ in 0..40 {
                    let request = binding_request(&entry, &ufrag, true);
                    let _ = hijacker.send(&request).await;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
        for nonce in 1..=8u64 {
            client
                .send(&ClientMessage::Ping { nonce })
                .await
                .expect("ping");
            let frame = recv(&mut client).await;
            assert_eq!(
                RelayMessage::decode(&frame).expect("decodes"),
                RelayMessage::Pong { nonce },
                "the session still answers its client"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        send.await.expect("hijacker done");
        // Anything still on its way to the hijacker arrives.
        tokio::time::sleep(Duration::from_secs(2)).await;
        listen.abort();
        let (stun, other) = *counts.lock().expect("lock");
        eprintln!("the hijacker got {stun} STUN replies and {other} other datagrams");
        assert_eq!(
            other, 0,
            "the session's traffic went to the hijacker ({other} datagrams)"
        );
    });
}
