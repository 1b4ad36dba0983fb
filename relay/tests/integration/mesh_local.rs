//! Two federated relays in one process ([`LocalRelay::start_with`]): they find each other,
//! their PeerIds are their node keys, version 2 clients on either meet and signal, and a
//! relay that stops gracefully takes its members out of the other relay's rooms.

use std::time::Duration;

use lumamesh_relay::client::UdpClient;
use lumamesh_relay::health::Snapshot;
use lumamesh_relay::local::{LocalOptions, LocalRelay};
use lumamesh_relay::mesh::swarm::{identity, MeshSettings, TestSettings};
use lumamesh_relay::protocol::{ClientMessage, PeerAddr, RelayMessage, RoomId};

use super::common_mesh::hello2;
use super::WAIT;

fn options(salt: &str, peers: &[std::net::SocketAddr]) -> LocalOptions {
    options_on("127.0.0.1:0", salt, peers)
}

fn options_on(listen: &str, salt: &str, peers: &[std::net::SocketAddr]) -> LocalOptions {
    let mut mesh = MeshSettings::parse(Some(listen), None, Some(salt)).expect("settings");
    mesh.peers = peers.iter().map(|&p| p.into()).collect();
    mesh.tests = TestSettings::loopback();
    LocalOptions {
        mesh: Some(mesh),
        ..LocalOptions::default()
    }
}

async fn start(salt: &str, peers: &[std::net::SocketAddr]) -> LocalRelay {
    LocalRelay::start_with("127.0.0.1".parse().unwrap(), options(salt, peers))
        .await
        .expect("federated local relay starts")
}

/// Waits until the relay's snapshot satisfies `check`.
async fn wait_for(relay: &LocalRelay, what: &str, check: impl Fn(&Snapshot) -> bool) {
    let mut watch = relay.watch();
    tokio::time::timeout(WAIT, watch.wait_for(|s| check(s)))
        .await
        .unwrap_or_else(|_| panic!("never saw {what}: {:?}", relay.mesh_report()))
        .expect("driver is running");
}

fn peers_and_relays(s: &Snapshot, peers: u64, relays: u64) -> bool {
    s.mesh
        .is_some_and(|m| m.node.mesh_peers == peers && m.node.known_relays == relays)
}

/// The frames these tests look at, owned.
#[derive(Debug, PartialEq)]
enum Owned {
    Welcome(lumamesh_relay::protocol::PeerId),
    Room(Vec<PeerAddr>),
    Joined(PeerAddr),
    Left(PeerAddr),
    Signal(PeerAddr, Vec<u8>),
    Other,
}

fn decode(frame: &[u8]) -> Owned {
    match RelayMessage::decode(frame).expect("decodes") {
        RelayMessage::Welcome(w) => Owned::Welcome(w.peer),
        RelayMessage::Room2 { peers, .. } => Owned::Room(peers.iter().collect()),
        RelayMessage::Joined2 { peer, .. } => Owned::Joined(peer),
        RelayMessage::Left2 { peer, .. } => Owned::Left(peer),
        RelayMessage::Signal2 { from, blob, .. } => Owned::Signal(from, blob.to_vec()),
        _ => Owned::Other,
    }
}

/// Reads frames until `want` comes (other room traffic may come first).
async fn expect(client: &mut UdpClient, want: Owned) {
    loop {
        let got = decode(&client.recv(WAIT).await.expect("a frame"));
        if got == want {
            return;
        }
        assert!(
            !matches!(got, Owned::Signal(..)),
            "expected {want:?}, got {got:?}"
        );
    }
}

async fn signal(client: &mut UdpClient, room: RoomId, to: PeerAddr, blob: &[u8]) {
    let signal = ClientMessage::Signal2 { room, to, blob };
    client.send(&signal).await.expect("signal");
}

/// Waits for `want` on `client` while `sender` is driven too: a large frame needs the
/// sender's SCTP to see acknowledgements before it can send the rest.
async fn expect_while_driving(client: &mut UdpClient, want: Owned, sender: &mut UdpClient) {
    let drive = async {
        let frame = sender.recv(WAIT).await.expect("sender stays connected");
        panic!("the sender got an unexpected frame: {:?}", decode(&frame));
    };
    tokio::select! {
        () = expect(client, want) => {}
        () = drive => {}
    }
}

/// A version 2 client on each relay joins `room` (A's first) and sees the other.
async fn meet(
    a: &LocalRelay,
    b: &LocalRelay,
    room: RoomId,
) -> ((UdpClient, PeerAddr), (UdpClient, PeerAddr)) {
    let mut ca = UdpClient::connect(a.entry(), None, None, WAIT)
        .await
        .expect("connects to a");
    let mut cb = UdpClient::connect(b.entry(), None, None, WAIT)
        .await
        .expect("connects to b");
    let pa = hello2(&mut ca, a.entry()).await;
    let pb = hello2(&mut cb, b.entry()).await;
    ca.send(&ClientMessage::Join { room }).await.expect("join");
    expect(&mut ca, Owned::Room(vec![])).await;
    cb.send(&ClientMessage::Join { room }).await.expect("join");
    // b's client learns a's member from a's snapshot; a's client hears b's join.
    expect(&mut cb, Owned::Joined(pa)).await;
    expect(&mut ca, Owned::Joined(pb)).await;
    ((ca, pa), (cb, pb))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_local_relays_federate_and_clients_meet_across_them() {
    let a = start("local salt", &[]).await;
    let b = start("local salt", &[a.mesh_addr().expect("listening")]).await;
    for relay in [&a, &b] {
        let nk = relay.entry().node_key();
        assert_eq!(relay.peer_id(), Some(identity::peer_id(nk)), "PeerId is nk");
        assert_eq!(identity::node_key(&relay.peer_id().unwrap()), Some(*nk));
        wait_for(relay, "one peer and one known relay", |s| {
            peers_and_relays(s, 1, 1)
        })
        .await;
    }

    let room = RoomId::from_bytes([0x33; 32]);
    let ((mut ca, pa), (mut cb, pb)) = meet(&a, &b, room).await;

    // The largest blob a v2 client may send crosses in one gossip message.
    let blob = vec![0x5e; lumamesh_relay::protocol::MAX_BLOB2_LEN];
    signal(&mut ca, room, pb, &blob).await;
    expect_while_driving(&mut cb, Owned::Signal(pa, blob), &mut ca).await;
    signal(&mut cb, room, pa, b"answer").await;
    expect(&mut ca, Owned::Signal(pb, b"answer".to_vec())).await;
    for relay in [&a, &b] {
        wait_for(relay, "a signal out and one in", |s| {
            s.mesh
                .is_some_and(|m| m.node.signals_out == 1 && m.node.signals_in == 1)
        })
        .await;
    }

    // B stops gracefully: its client is told, and a's client sees it leave the room.
    let (left, stopped) = tokio::time::timeout(WAIT, async {
        tokio::join!(expect(&mut ca, Owned::Left(pb)), b.stop())
    })
    .await
    .expect("stop finishes");
    let () = left;
    stopped.expect("driver exits cleanly");
    drop(cb);
    wait_for(&a, "no peers left", |s| {
        s.mesh.is_some_and(|m| m.node.mesh_peers == 0)
    })
    .await;
}

/// Issue 13: two relays with each other in `MESH_PEERS` used to keep two connections (one
/// each way), over which gossip overtook itself (`out_of_order`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_dialling_each_other_keep_one_connection() {
    // B's mesh port, chosen before B runs: A dials it (and keeps failing) until B is up.
    let b_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let salt = "each other";
    let start_with = |options| async {
        LocalRelay::start_with("127.0.0.1".parse().unwrap(), options)
            .await
            .expect("federated local relay starts")
    };
    let a = start_with(options(salt, &[b_addr])).await;
    let a_addr = a.mesh_addr().expect("listening");
    let b = start_with(options_on(&b_addr.to_string(), salt, &[a_addr])).await;
    // Each dials the other: the relay with the smaller PeerId refuses the second connection
    // (whichever came second), and neither redials while the one left is up.
    for relay in [&a, &b] {
        wait_for(relay, "the other relay", |s| peers_and_relays(s, 1, 1)).await;
    }
    let refused = |r: &LocalRelay| r.mesh_report().map_or(0, |m| m.swarm.duplicate_connections);
    for relay in [&a, &b] {
        wait_for(relay, "the second connection refused", |_| {
            refused(&a) + refused(&b) >= 1
        })
        .await;
    }

    // A short exchange: members on both relays join, signal both ways, one leaves.
    let room = RoomId::from_bytes([0x34; 32]);
    let ((mut ca, pa), (mut cb, pb)) = meet(&a, &b, room).await;
    for round in 0..20u8 {
        signal(&mut ca, room, pb, &[b'a', round]).await;
        signal(&mut cb, room, pa, &[b'b', round]).await;
    }
    for round in 0..20u8 {
        expect(&mut cb, Owned::Signal(pa, vec![b'a', round])).await;
        expect(&mut ca, Owned::Signal(pb, vec![b'b', round])).await;
    }
    cb.send(&ClientMessage::Leave { room })
        .await
        .expect("leave");
    expect(&mut ca, Owned::Left(pb)).await;
    for relay in [&a, &b] {
        let report = relay.mesh_report().expect("federated");
        assert_eq!(report.connections, 1, "one connection each: {report:?}");
        assert_eq!(report.node.out_of_order, 0, "{report:?}");
        assert_eq!(report.node.mesh_peers, 1, "{report:?}");
    }
}

#[tokio::test]
async fn a_relay_alone_has_no_mesh() {
    let relay = LocalRelay::start("127.0.0.1".parse().unwrap())
        .await
        .expect("starts");
    assert_eq!(relay.mesh_addr(), None);
    assert_eq!(relay.peer_id(), None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(relay.mesh_report().is_none());
    relay.stop().await.expect("stops");
}
