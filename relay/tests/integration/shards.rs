//! A sharded relay on the real binary: `THREADS=2`, native version 2 clients from different
//! /24s of loopback served by different shards, meeting in one room and signalling each
//! other; `/statsz` sums both shards; SIGTERM tells every client.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use lumamesh_relay::client::UdpClient;
use lumamesh_relay::protocol::{ClientMessage, CloseCode, PeerAddr, RelayMessage, RoomId};
use serde_json::Value;

use super::common_mesh::{hello2, until};
use super::{RelayProcess, WAIT};

/// The shard (of two) that gave out `addr`'s peer id: shard k gives ids p, (p - 1) % 2 == k.
fn shard(addr: PeerAddr) -> u32 {
    (addr.session.get() - 1) % 2
}

/// `from` (at address `addrs.0`) signals `to` (at `addrs.1`), which gets it from `addrs.0`.
async fn signal(
    from: &mut UdpClient,
    to: &mut UdpClient,
    room: RoomId,
    addrs: (PeerAddr, PeerAddr),
    blob: &[u8],
) {
    let message = ClientMessage::Signal2 {
        room,
        to: addrs.1,
        blob,
    };
    from.send(&message).await.expect("signal");
    let got = until(to, "Signal2", |m| match m {
        RelayMessage::Signal2 { from, blob, .. } => Some((from, blob.to_vec())),
        _ => None,
    })
    .await;
    assert_eq!(got, (addrs.0, blob.to_vec()));
}

#[test]
fn clients_on_two_shards_meet_and_signal() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    let mut relay = RelayProcess::start_with_env(&dir, 0, Some(tmp), &[("THREADS", "2")]);
    let entry = relay.entry.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // Which shard serves a prefix is a keyed hash with a key drawn at start: connect from
        // 127.0.1.2, 127.0.2.2, … until two clients are on different shards (the chance that
        // 16 prefixes all land on one shard is 2^-15).
        let mut clients: Vec<(UdpClient, PeerAddr)> = Vec::new();
        for x in 1..=16u8 {
            let ip: IpAddr = format!("127.0.{x}.2").parse().expect("ip");
            let mut client = UdpClient::connect_from(Some(ip), &entry, None, None, WAIT)
                .await
                .expect("client connects");
            let me = hello2(&mut client, &entry).await;
            clients.push((client, me));
            let shards: std::collections::HashSet<u32> =
                clients.iter().map(|(_, me)| shard(*me)).collect();
            if shards.len() == 2 {
                break;
            }
        }
        let (mut b, pb) = clients.pop().expect("a client");
        let i = (clients.iter())
            .position(|(_, me)| shard(*me) != shard(pb))
            .expect("two clients on different shards");
        let (mut a, pa) = clients.swap_remove(i);
        assert_ne!(shard(pa), shard(pb));

        let room = RoomId::from_bytes([0x17; 32]);
        a.send(&ClientMessage::Join { room }).await.expect("join");
        until(&mut a, "Room2", |m| {
            matches!(m, RelayMessage::Room2 { .. }).then_some(())
        })
        .await;
        b.send(&ClientMessage::Join { room }).await.expect("join");
        // b's shard answers at once and tells of a when the other shard's list comes.
        let mut seen: Vec<PeerAddr> = until(&mut b, "Room2", |m| match m {
            RelayMessage::Room2 { peers, .. } => Some(peers.iter().collect()),
            _ => None,
        })
        .await;
        if seen.is_empty() {
            seen.push(
                until(&mut b, "Joined2", |m| match m {
                    RelayMessage::Joined2 { peer, .. } => Some(peer),
                    _ => None,
                })
                .await,
            );
        }
        assert_eq!(seen, vec![pa]);
        let joined = until(&mut a, "Joined2", |m| match m {
            RelayMessage::Joined2 { peer, .. } => Some(peer),
            _ => None,
        })
        .await;
        assert_eq!(joined, pb);

        signal(&mut a, &mut b, room, (pa, pb), b"offer").await;
        signal(&mut b, &mut a, room, (pb, pa), b"answer").await;

        // /statsz sums both shards: every session, both signals, one room.
        let sessions = clients.len() as u64 + 2;
        let deadline = Instant::now() + WAIT;
        loop {
            let stats: Value =
                serde_json::from_str(&relay.http_get("/statsz")).expect("statsz is JSON");
            let s = &stats["stats"];
            if s["sessions"].as_u64() == Some(sessions)
                && s["signals_to_relays"].as_u64() == Some(2)
            {
                assert_eq!(s["rooms"].as_u64(), Some(1), "{stats}");
                assert_eq!(s["signals_from_relays"].as_u64(), Some(2), "{stats}");
                break;
            }
            assert!(Instant::now() < deadline, "stats never summed up: {stats}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        relay.sigterm();
        for client in [&mut a, &mut b] {
            let code = until(client, "Closing", |m| match m {
                RelayMessage::Closing { code } => Some(code),
                _ => None,
            })
            .await;
            assert_eq!(code, CloseCode::ShuttingDown);
        }
    });
    let status = relay.wait_exit();
    assert!(status.success(), "relay exited with {status}");
}

#[test]
fn threads_with_federation_is_a_usage_error() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let env = [
        ("UDP_BIND", "127.0.0.1"),
        ("UDP_PORT", "0"),
        ("PUBLIC_IP", "127.0.0.1"),
        ("RUST_LOG", "off"),
        ("THREADS", "2"),
        ("MESH_LISTEN", "127.0.0.1:0"),
    ];
    let (code, stderr) =
        super::run_exit(env!("CARGO_BIN_EXE_lumamesh-relay"), &[], &env, tmp.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: THREADS=2 cannot be combined with federation"),
        "{stderr}"
    );
    assert!(stderr.contains("MESH_LISTEN"), "{stderr}");
}
