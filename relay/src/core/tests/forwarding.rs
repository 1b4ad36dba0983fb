//! Forwarding limits (issue 14): one member flooding another, or churning through a room,
//! is held to its budget while everyone else's traffic still passes.

use std::time::Duration;

use super::harness::Net;
use super::{decode, room};
use crate::core::{Limits, MeshInput};
use crate::protocol::{
    msg_type, ClientMessage, ErrorCode, PeerAddr, PeerId, RelayMessage, RelayTag, RoomId,
    PROTOCOL_VERSION,
};

const V2: u8 = PROTOCOL_VERSION;

/// Three members of `r` (the last one version 2); returns their ids, the clients' frames
/// cleared.
fn three_in(net: &mut Net, r: RoomId) -> [PeerId; 3] {
    let ids = [net.add_client(), net.add_client(), net.add_client()];
    let peers = [
        net.hello(ids[0]),
        net.hello(ids[1]),
        net.hello_as(ids[2], V2),
    ];
    for &i in &ids {
        net.send(i, ClientMessage::Join { room: r });
        net.run_until("room", |n| !n.clients[i].frames.is_empty());
    }
    net.run_until("all told", |n| n.clients[ids[0]].frames.len() >= 3);
    for &i in &ids {
        net.clients[i].frames.clear();
    }
    peers
}

/// Sends client `i` a ping and waits for its pong: every frame it sent before is handled.
fn sync(net: &mut Net, i: usize, nonce: u64) {
    net.send(i, ClientMessage::Ping { nonce });
    net.run_until("pong", |n| {
        n.clients[i]
            .frames
            .back()
            .is_some_and(|f| decode(f) == RelayMessage::Pong { nonce })
    });
}

/// Frames client `i` holds of message type `kind`.
fn count(net: &Net, i: usize, kind: u8) -> usize {
    let frames = net.clients[i].frames.iter();
    frames.filter(|f| f.first() == Some(&kind)).count()
}

/// This relay's address for its session `peer`.
fn local(net: &Net, peer: PeerId) -> PeerAddr {
    PeerAddr {
        relay: net.relay.tag(),
        session: peer,
    }
}

/// `RateLimited` errors client `i` holds.
fn rate_limited(net: &Net, i: usize) -> usize {
    let frames = net.clients[i].frames.iter();
    let limited = frames.filter(|f| {
        matches!(
            decode(f),
            RelayMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            }
        )
    });
    limited.count()
}

#[test]
fn one_sender_flooding_one_target_is_limited_and_others_still_reach_it() {
    let mut net = Net::new(Limits::default());
    let r = room(1);
    let [_, pb, _] = three_in(&mut net, r);
    let (a, b, c) = (0, 1, 2);
    // 36 small signals at once: 30 pass (the pair's burst), 6 are refused.
    for n in 0..36u8 {
        let blob = [n; 8];
        net.send(
            a,
            ClientMessage::Signal {
                room: r,
                to: pb,
                blob: &blob,
            },
        );
    }
    sync(&mut net, a, 1);
    assert_eq!(
        rate_limited(&net, a),
        6,
        "the flood past the pair's burst is refused"
    );
    assert_eq!(net.relay.stats().signals_limited, 6);
    // Another member's signal to the same target passes.
    let to = local(&net, pb);
    net.send(
        c,
        ClientMessage::Signal2 {
            room: r,
            to,
            blob: b"from c",
        },
    );
    until_last(&mut net, b, b"from c");
    assert_eq!(count(&net, b, msg_type::SIGNAL_IN), 30 + 1);
    // The budget refills: a second later the flooder may send again.
    net.run_for(Duration::from_secs(1));
    net.clients[a].frames.clear();
    net.send(
        a,
        ClientMessage::Signal {
            room: r,
            to: pb,
            blob: b"later",
        },
    );
    sync(&mut net, a, 2);
    assert_eq!(rate_limited(&net, a), 0);
}

#[test]
fn large_blobs_are_limited_by_bytes_per_pair() {
    let mut net = Net::new(Limits::default());
    let r = room(2);
    let [pa, _, pc] = three_in(&mut net, r);
    let (a, b, c) = (0, 1, 2);
    let big = vec![7u8; 16_000];
    // Twelve 16 KB blobs from c to a: 128 KiB of burst lets eight through.
    let to = local(&net, pa);
    for _ in 0..12 {
        net.send(
            c,
            ClientMessage::Signal2 {
                room: r,
                to,
                blob: &big,
            },
        );
        while net.pump() {}
    }
    sync(&mut net, c, 1);
    assert_eq!(rate_limited(&net, c), 4);
    // b still gets a large signal through to a.
    net.send(
        b,
        ClientMessage::Signal {
            room: r,
            to: pa,
            blob: &big,
        },
    );
    sync(&mut net, b, 2);
    net.run_until("b's signal", |n| count(n, a, msg_type::SIGNAL_IN) == 9);
    let from_c = net.clients[a]
        .frames
        .iter()
        .filter(|f| matches!(decode(f), RelayMessage::Signal { from, .. } if from == pc));
    assert_eq!(from_c.count(), 8);
}

#[test]
fn a_churning_member_is_refused_and_not_told_past_its_burst() {
    let mut net = Net::new(Limits::default());
    let r = room(3);
    let [_, pb, pc] = three_in(&mut net, r);
    let (a, b, c) = (0, 1, 2);
    net.send(c, ClientMessage::Leave { room: r });
    // Six rounds of join and leave: three joins pass (the burst of four, less the first
    // join), three are refused, and their leaves find c out of the room.
    for _ in 0..6 {
        net.send(c, ClientMessage::Join { room: r });
        net.send(c, ClientMessage::Leave { room: r });
    }
    sync(&mut net, c, 1);
    assert_eq!(rate_limited(&net, c), 3);
    assert_eq!(net.relay.stats().joins_limited, 3);
    assert_eq!(count(&net, c, msg_type::ROOM2), 3);
    // a and b heard three joins and four leaves of c (a's own signal to b, sent after,
    // shows everything before it was delivered).
    sync(&mut net, a, 2);
    net.clients[a].frames.pop_back();
    net.send(
        a,
        ClientMessage::Signal {
            room: r,
            to: pb,
            blob: b"x",
        },
    );
    net.run_until("a's signal", |n| count(n, b, msg_type::SIGNAL_IN) == 1);
    for i in [a, b] {
        assert_eq!(count(&net, i, msg_type::JOINED), 3);
        assert_eq!(count(&net, i, msg_type::LEFT), 4);
    }
    assert!(net.clients[b].frames.iter().all(|f| match decode(f) {
        RelayMessage::Signal { .. } => true,
        RelayMessage::Joined { peer, .. } | RelayMessage::Left { peer, .. } => peer == pc,
        _ => false,
    }));
    // Some seconds later c may join again.
    net.run_for(Duration::from_secs(3));
    net.clients[c].frames.clear();
    net.send(c, ClientMessage::Join { room: r });
    let f = net.next_frame(c);
    assert!(matches!(decode(&f), RelayMessage::Room2 { .. }));
}

fn remote(relay: u8, n: u32) -> PeerAddr {
    PeerAddr {
        relay: RelayTag::from_bytes([relay; 8]),
        session: PeerId::new(n).expect("non-zero"),
    }
}

/// Another relay says `from` signals our `to` in `room`.
fn mesh_signal(net: &mut Net, (room, from, to): (RoomId, PeerAddr, PeerId), blob: &[u8]) {
    let now = net.now;
    let blob = blob.to_vec();
    let input = MeshInput::Signal {
        room,
        from,
        to,
        blob,
    };
    net.relay.handle_mesh(now, input);
}

/// Waits until client `i`'s last frame ends with `tail`. The channel is ordered: everything
/// sent before it is in too.
fn until_last(net: &mut Net, i: usize, tail: &[u8]) {
    net.run_until("the last frame", |n| {
        n.clients[i]
            .frames
            .back()
            .is_some_and(|f| f.ends_with(tail))
    });
}

#[test]
fn another_relays_member_is_limited_per_local_target_and_in_churn() {
    let mut net = Net::with(Limits::default(), true);
    let r = room(4);
    let a = net.add_client();
    let pa = net.hello_as(a, V2);
    net.send(a, ClientMessage::Join { room: r });
    net.run_until("room", |n| !n.clients[a].frames.is_empty());
    let (x, y) = (remote(7, 1), remote(7, 2));
    let now = net.now;
    for peer in [x, y] {
        net.relay
            .handle_mesh(now, MeshInput::Joined { room: r, peer });
    }
    // x floods a: 30 pass; y still reaches a.
    for n in 0..40u8 {
        mesh_signal(&mut net, (r, x, pa), &[n; 8]);
    }
    mesh_signal(&mut net, (r, y, pa), b"from y");
    until_last(&mut net, a, b"from y");
    let signals: Vec<PeerAddr> = net.clients[a]
        .frames
        .iter()
        .filter_map(|f| match decode(f) {
            RelayMessage::Signal2 { from, .. } => Some(from),
            _ => None,
        })
        .collect();
    assert_eq!(signals.iter().filter(|&&f| f == x).count(), 30);
    assert_eq!(signals.iter().filter(|&&f| f == y).count(), 1);
    assert_eq!(net.relay.stats().mesh_signals_dropped, 10);
    assert_eq!(net.relay.stats().signals_limited, 10);
    // x churns: its joins past the burst are not kept, so a hears of them no more.
    net.clients[a].frames.clear();
    for _ in 0..10 {
        net.relay
            .handle_mesh(now, MeshInput::Left { room: r, peer: x });
        net.relay
            .handle_mesh(now, MeshInput::Joined { room: r, peer: x });
    }
    mesh_signal(&mut net, (r, y, pa), b"y again");
    until_last(&mut net, a, b"y again");
    // x's first join (above) and three more pass the burst of four.
    assert_eq!(count(&net, a, msg_type::JOINED2), 3);
    assert_eq!(count(&net, a, msg_type::LEFT2), 4);
    assert_eq!(net.relay.stats().joins_limited, 7);
    assert_eq!(
        net.relay.stats().remote_members,
        1,
        "y stays; x's last join was refused"
    );
}

#[test]
fn a_signal_the_target_cannot_take_is_answered_without_a_strike() {
    let mut net = Net::new(Limits::default());
    let r = room(5);
    let ids: Vec<usize> = (0..6).map(|_| net.add_client()).collect();
    let peers: Vec<PeerId> = ids.iter().map(|&i| net.hello_as(i, V2)).collect();
    for &i in &ids {
        net.send(i, ClientMessage::Join { room: r });
        net.run_until("room", |n| count(n, i, msg_type::ROOM2) == 1);
    }
    net.run_until("all told", |n| count(n, ids[0], msg_type::JOINED2) == 5);
    // The target stops acknowledging: the relay's 128 KiB buffer towards it fills up.
    let target = ids[5];
    net.clients[target].silent = true;
    let to = local(&net, peers[5]);
    let blob = [7u8; 1000];
    // Five senders, 30 signals of 1,000 bytes each: within every pair's budget, 150 KB in
    // all. Each sender alone would be kicked for more than 8 strikes.
    for &i in &ids[..5] {
        for _ in 0..30 {
            net.send(
                i,
                ClientMessage::Signal2 {
                    room: r,
                    to,
                    blob: &blob,
                },
            );
        }
    }
    for (n, &i) in ids[..5].iter().enumerate() {
        sync(&mut net, i, n as u64);
    }
    let stats = net.relay.stats();
    assert!(stats.signals_unqueued > 0, "{stats:?}");
    assert_eq!(stats.signals_forwarded + stats.signals_unqueued, 150);
    assert_eq!(stats.signals_limited, 0);
    assert_eq!(
        stats.sessions_kicked, 0,
        "no strike for the target's congestion"
    );
    // Every signal that was not queued was answered to its sender.
    let answered: usize = ids[..5].iter().map(|&i| rate_limited(&net, i)).sum();
    assert_eq!(answered as u64, stats.signals_unqueued);
}
