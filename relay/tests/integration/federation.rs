//! Federation on real binaries: three `lumamesh-relay` processes on loopback joined by
//! `MESH_*`, native version 2 clients on different relays meeting in one room, a relay
//! killed, and a relay with another salt that must never join in.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use lumamesh_relay::client::UdpClient;
use lumamesh_relay::protocol::{ClientMessage, PeerAddr, RelayMessage, RoomId};
use serde_json::Value;

use super::common_mesh::{hello2, until};
use super::{RelayProcess, WAIT};

const SALT: &str = "federation-test-salt";

/// Starts a federated relay: listening for other relays on 127.0.0.1 (port chosen by the
/// kernel), dialling `peers`, with `salt`.
pub(super) fn federated(salt: &str, peers: &[SocketAddr]) -> RelayProcess {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    let peers = peers
        .iter()
        .map(SocketAddr::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut env = vec![("MESH_LISTEN", "127.0.0.1:0"), ("MESH_SALT", salt)];
    if !peers.is_empty() {
        env.push(("MESH_PEERS", peers.as_str()));
    }
    let relay = RelayProcess::start_with_env(&dir, 0, Some(tmp), &env);
    assert!(
        relay.mesh.is_some(),
        "a federated relay prints `mesh: <addr>`"
    );
    relay
}

/// The relay's `/statsz` as JSON.
pub(super) fn statsz(relay: &RelayProcess) -> Value {
    serde_json::from_str(&relay.http_get("/statsz")).expect("statsz is JSON")
}

/// Waits until `check` holds for the relay's `/statsz` "mesh" object.
pub(super) fn wait_mesh(relay: &RelayProcess, what: &str, check: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let stats = statsz(relay);
        if check(&stats["mesh"]) {
            return;
        }
        assert!(Instant::now() < deadline, "never saw {what}: {stats}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count(mesh: &Value, key: &str) -> u64 {
    mesh[key].as_u64().unwrap_or(0)
}

/// Three relays, chained C → B → A, until each has two mesh peers and knows two relays.
pub(super) fn three_relays() -> [RelayProcess; 3] {
    let a = federated(SALT, &[]);
    let b = federated(SALT, &[a.mesh.expect("mesh")]);
    let c = federated(SALT, &[b.mesh.expect("mesh")]);
    for relay in [&a, &b, &c] {
        wait_mesh(relay, "two mesh peers and two known relays", |m| {
            count(m, "mesh_peers") == 2 && count(m, "known_relays") == 2
        });
    }
    [a, b, c]
}

/// Joins and waits (Room2, then Joined2s) until the session sees exactly `others`.
async fn join_and_see(client: &mut UdpClient, room: RoomId, others: &[PeerAddr]) {
    client
        .send(&ClientMessage::Join { room })
        .await
        .expect("join");
    let mut seen: Vec<PeerAddr> = until(client, "Room2", |m| match m {
        RelayMessage::Room2 { peers, .. } => Some(peers.iter().collect()),
        _ => None,
    })
    .await;
    while seen.len() < others.len() {
        let peer = until(client, "Joined2", |m| match m {
            RelayMessage::Joined2 { peer, .. } => Some(peer),
            _ => None,
        })
        .await;
        seen.push(peer);
    }
    seen.sort();
    let mut want = others.to_vec();
    want.sort();
    assert_eq!(seen, want);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn clients_on_three_federated_relays_meet_signal_and_see_a_dead_relay_leave() {
    let [a, b, c] = three_relays();
    // Every relay lists all three in Nodes (own entry first).
    runtime().block_on(async {
        let room = RoomId::from_bytes([0x5a; 32]);
        let mut clients = Vec::new();
        let mut addrs = Vec::new();
        for relay in [&a, &b, &c] {
            let mut client = UdpClient::connect(&relay.entry, None, None, WAIT)
                .await
                .expect("connects");
            let addr = hello2(&mut client, &relay.entry).await;
            client.send(&ClientMessage::GetNodes).await.expect("nodes");
            let nodes: Vec<Vec<u8>> = until(&mut client, "Nodes", |m| match m {
                RelayMessage::Nodes(n) => Some(n.iter().map(<[u8]>::to_vec).collect()),
                _ => None,
            })
            .await;
            assert_eq!(nodes.len(), 3, "Nodes lists the federation");
            assert_eq!(nodes[0], relay.entry.to_bytes(), "own entry first");
            clients.push(client);
            addrs.push(addr);
        }
        // They join one after the other; each sees the ones before it.
        for i in 0..3 {
            join_and_see(&mut clients[i], room, &addrs[..i]).await;
        }
        for (i, client) in clients.iter_mut().enumerate().take(2) {
            for later in &addrs[i + 1..] {
                let peer = until(client, "Joined2", |m| match m {
                    RelayMessage::Joined2 { peer, .. } => Some(peer),
                    _ => None,
                })
                .await;
                assert_eq!(peer, *later);
            }
        }
        // A signal from the client on C to the one on A, and the answer back.
        // Within SCTP's first congestion window: the sender is not polled while we wait on
        // the receiver, so a larger frame would wait for acks nobody reads.
        let offer = vec![0x6f; 3_000];
        clients[2]
            .send(&ClientMessage::Signal2 {
                room,
                to: addrs[0],
                blob: &offer,
            })
            .await
            .expect("signal");
        let (from, blob) = until(&mut clients[0], "Signal2", |m| match m {
            RelayMessage::Signal2 { from, blob, .. } => Some((from, blob.to_vec())),
            _ => None,
        })
        .await;
        assert_eq!((from, blob), (addrs[2], offer));
        clients[0]
            .send(&ClientMessage::Signal2 {
                room,
                to: addrs[2],
                blob: b"answer",
            })
            .await
            .expect("signal");
        let (from, blob) = until(&mut clients[2], "Signal2", |m| match m {
            RelayMessage::Signal2 { from, blob, .. } => Some((from, blob.to_vec())),
            _ => None,
        })
        .await;
        assert_eq!((from, blob.as_slice()), (addrs[0], &b"answer"[..]));

        // B dies without a word: A's and C's clients see B's client leave.
        let _ = b.sigkill();
        for i in [0, 2] {
            let gone = until(&mut clients[i], "Left2", |m| match m {
                RelayMessage::Left2 { peer, .. } => Some(peer),
                _ => None,
            })
            .await;
            assert_eq!(gone, addrs[1]);
        }
    });
}

/// A TCP port that was free a moment ago (bound, then released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn two_relays_pointing_at_each_other_list_both_in_nodes() {
    // The README's set-up: each names the other in MESH_PEERS; the second starts later.
    let (port_a, port_b) = (free_port(), free_port());
    let start = |listen: u16, peer: u16| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let (listen, peer) = (format!("127.0.0.1:{listen}"), format!("127.0.0.1:{peer}"));
        let env = [
            ("MESH_LISTEN", listen.as_str()),
            ("MESH_PEERS", peer.as_str()),
            ("MESH_SALT", SALT),
        ];
        RelayProcess::start_with_env(&dir, 0, Some(tmp), &env)
    };
    let a = start(port_a, port_b);
    std::thread::sleep(Duration::from_millis(1500));
    let b = start(port_b, port_a);
    for relay in [&a, &b] {
        wait_mesh(relay, "each other", |m| {
            count(m, "mesh_peers") == 1 && count(m, "known_relays") == 1
        });
    }
    runtime().block_on(async {
        for (relay, other) in [(&a, &b), (&b, &a)] {
            let mut client = UdpClient::connect(&relay.entry, None, None, WAIT)
                .await
                .expect("connects");
            hello2(&mut client, &relay.entry).await;
            client.send(&ClientMessage::GetNodes).await.expect("nodes");
            let nodes: Vec<Vec<u8>> = until(&mut client, "Nodes", |m| match m {
                RelayMessage::Nodes(n) => Some(n.iter().map(<[u8]>::to_vec).collect()),
                _ => None,
            })
            .await;
            assert_eq!(nodes, vec![relay.entry.to_bytes(), other.entry.to_bytes()]);
        }
    });
}

#[test]
fn relays_with_another_salt_never_join() {
    // Twice: a mismatch must not depend on who dials first or on timing.
    for _ in 0..2 {
        let a = federated(SALT, &[]);
        let b = federated(SALT, &[a.mesh.expect("mesh")]);
        let stranger = federated(
            "another salt",
            &[a.mesh.expect("mesh"), b.mesh.expect("mesh")],
        );
        for relay in [&a, &b] {
            wait_mesh(relay, "one mesh peer", |m| count(m, "mesh_peers") == 1);
        }
        // Give the stranger time to try (it redials with backoff), then look again.
        std::thread::sleep(Duration::from_secs(3));
        for relay in [&a, &b] {
            let mesh = &statsz(relay)["mesh"];
            assert_eq!(count(mesh, "mesh_peers"), 1, "{mesh}");
            assert_eq!(count(mesh, "known_relays"), 1, "{mesh}");
        }
        let mesh = &statsz(&stranger)["mesh"];
        assert_eq!(count(mesh, "mesh_peers"), 0, "{mesh}");
        assert_eq!(count(mesh, "known_relays"), 0, "{mesh}");
        assert_eq!(count(mesh, "gossip_messages_in"), 0, "{mesh}");
    }
}
