//! What a careless or hostile relay can feed the core: forged, misaddressed, oversized and
//! flooding mesh input is dropped, counted and bounded, never trusted.

use super::harness::Net;
use super::{decode, room};
use crate::core::{Limits, MeshInput};
use crate::protocol::{
    ClientMessage, ErrorCode, PeerAddr, PeerId, RelayMessage, RelayTag, RoomId, MAX_BLOB2_LEN,
    PROTOCOL_V1, PROTOCOL_VERSION,
};

const V2: u8 = PROTOCOL_VERSION;

fn id(n: u32) -> PeerId {
    PeerId::new(n).expect("non-zero")
}

fn remote(relay: u8, n: u32) -> PeerAddr {
    PeerAddr {
        relay: RelayTag::from_bytes([relay; 8]),
        session: id(n),
    }
}

fn feed(net: &mut Net, input: MeshInput) {
    let now = net.now;
    net.relay.handle_mesh(now, input);
}

fn signal(room: RoomId, from: PeerAddr, to: PeerId, blob: &[u8]) -> MeshInput {
    MeshInput::Signal {
        room,
        from,
        to,
        blob: blob.to_vec(),
    }
}

/// Runs until nothing moves and returns what client `i` received.
fn received(net: &mut Net, i: usize) -> Vec<Vec<u8>> {
    while net.pump() {}
    net.clients[i].frames.drain(..).collect()
}

#[test]
fn forged_and_misaddressed_signals_are_dropped_and_counted() {
    let mut net = Net::with(Limits::default(), true);
    let (a, b, c) = (net.add_client(), net.add_client(), net.add_client());
    let pa = net.hello_as(a, V2);
    let pb = net.hello_as(b, PROTOCOL_V1);
    let pc = net.hello_as(c, V2);
    let r = room(1);
    for i in [a, b, c] {
        net.send(i, ClientMessage::Join { room: r });
    }
    net.run_until("joined", |n| n.clients[a].frames.len() >= 3);
    net.clients[a].frames.clear();
    feed(
        &mut net,
        MeshInput::Members {
            room: r,
            relay: remote(7, 1).relay,
            sessions: vec![id(1)],
        },
    );
    let f = received(&mut net, a);
    assert_eq!(
        decode(&f[0]),
        RelayMessage::Joined2 {
            room: r,
            peer: remote(7, 1)
        }
    );
    received(&mut net, c);
    let own = PeerAddr {
        relay: net.relay.tag(),
        session: pc,
    };

    // The one good signal: a known member to an open v2 session in the room.
    feed(&mut net, signal(r, remote(7, 1), pa, b"good"));
    let f = received(&mut net, a);
    assert_eq!(
        decode(&f[0]),
        RelayMessage::Signal2 {
            room: r,
            from: remote(7, 1),
            blob: b"good"
        }
    );
    let forged = [
        // From a relay with no member in the room.
        signal(r, remote(8, 1), pa, b"x"),
        // From a session its relay never announced.
        signal(r, remote(7, 2), pa, b"x"),
        // Claiming to come from one of our own sessions.
        signal(r, own, pa, b"x"),
        // To a v1 session.
        signal(r, remote(7, 1), pb, b"x"),
        // To a session that does not exist, and to one in another room.
        signal(r, remote(7, 1), id(4_000_000), b"x"),
        signal(room(2), remote(7, 1), pa, b"x"),
        // Longer than a Signal2 frame can carry.
        signal(r, remote(7, 1), pa, &vec![0; MAX_BLOB2_LEN + 1]),
    ];
    let count = forged.len() as u64;
    for input in forged {
        feed(&mut net, input);
    }
    // To a session that has closed.
    net.clients[c].conn.close();
    net.run_until("c gone", |n| n.relay.stats().sessions == 2);
    feed(&mut net, signal(r, remote(7, 1), pc, b"x"));
    assert!(received(&mut net, a)
        .iter()
        .all(|f| !matches!(decode(f), RelayMessage::Signal2 { .. })));
    assert!(received(&mut net, b)
        .iter()
        .all(|f| !matches!(decode(f), RelayMessage::Signal { .. })));
    let stats = net.relay.stats();
    assert_eq!(stats.signals_from_relays, 1);
    assert_eq!(stats.mesh_signals_dropped, count + 1);
    // The maximum blob still goes through.
    feed(
        &mut net,
        signal(r, remote(7, 1), pa, &vec![1; MAX_BLOB2_LEN]),
    );
    assert_eq!(received(&mut net, a).len(), 1);
}

#[test]
fn input_for_rooms_without_local_members_or_about_ourselves_is_ignored() {
    let mut net = Net::with(Limits::default(), true);
    let a = net.add_client();
    net.hello_as(a, V2);
    let own_tag = net.relay.tag();
    let elsewhere = room(5);
    let stranger = RelayTag::from_bytes([7; 8]);
    for input in chatter(elsewhere, stranger, 1) {
        feed(&mut net, input);
    }
    assert_eq!(net.relay.stats().mesh_ignored, 4);
    assert_eq!(net.relay.stats().remote_members, 0);
    assert_eq!(net.relay.stats().rooms, 0);

    // Joining afterwards shows nothing of it.
    net.send(a, ClientMessage::Join { room: elsewhere });
    let f = net.next_frame(a);
    assert!(matches!(decode(&f), RelayMessage::Room2 { peers, .. } if peers.is_empty()));
    // Another relay may not speak for our sessions.
    for input in chatter(elsewhere, own_tag, 77) {
        feed(&mut net, input);
    }
    feed(&mut net, MeshInput::RelayGone { relay: own_tag });
    assert!(received(&mut net, a).is_empty());
    assert_eq!(net.relay.stats().remote_members, 0);
    // A Left, RoomGone or RelayGone for members nobody announced changes nothing.
    let [_, _, left, gone] = chatter(elsewhere, stranger, 1);
    for input in [left, gone, MeshInput::RelayGone { relay: stranger }] {
        feed(&mut net, input);
    }
    assert!(received(&mut net, a).is_empty());
}

/// What relay `relay` says about its session `n` in `room`: it joined, a snapshot, it left,
/// the relay left the room.
fn chatter(room: RoomId, relay: RelayTag, n: u32) -> [MeshInput; 4] {
    let peer = PeerAddr {
        relay,
        session: id(n),
    };
    [
        MeshInput::Joined { room, peer },
        MeshInput::Members {
            room,
            relay,
            sessions: vec![id(n)],
        },
        MeshInput::Left { room, peer },
        MeshInput::RoomGone { room, relay },
    ]
}

#[test]
fn floods_from_two_relays_never_pass_the_room_size() {
    let limits = Limits {
        max_room_size: 10,
        ..Limits::default()
    };
    let mut net = Net::with(limits, true);
    let (a, b, c) = (net.add_client(), net.add_client(), net.add_client());
    net.hello_as(a, V2);
    net.hello_as(b, PROTOCOL_V1);
    net.hello_as(c, V2);
    let r = room(3);
    for i in [a, b] {
        net.send(i, ClientMessage::Join { room: r });
    }
    net.run_until("joined", |n| n.clients[a].frames.len() >= 2);
    received(&mut net, a);
    received(&mut net, b);
    for n in 1..=5_000 {
        feed(
            &mut net,
            MeshInput::Joined {
                room: r,
                peer: remote(7, n),
            },
        );
        feed(
            &mut net,
            MeshInput::Joined {
                room: r,
                peer: remote(8, n),
            },
        );
    }
    let big: Vec<PeerId> = (1..=100_000).map(id).collect();
    feed(
        &mut net,
        MeshInput::Members {
            room: r,
            relay: remote(9, 1).relay,
            sessions: big,
        },
    );
    let stats = net.relay.stats();
    assert_eq!(stats.remote_members, 8);
    assert_eq!(stats.remote_members_refused, 10_000 - 8 + 100_000);
    assert_eq!(
        received(&mut net, a).len(),
        8,
        "one Joined2 per member kept"
    );
    assert!(
        received(&mut net, b).is_empty(),
        "v1 sessions never hear of remote members"
    );

    // The room is full for local joiners too.
    net.send(c, ClientMessage::Join { room: r });
    let f = net.next_frame(c);
    assert!(matches!(
        decode(&f),
        RelayMessage::Error {
            code: ErrorCode::RoomFull,
            ..
        }
    ));

    // One flooder's empty snapshot takes its members away (v2 sessions hear each go).
    feed(
        &mut net,
        MeshInput::Members {
            room: r,
            relay: remote(7, 1).relay,
            sessions: vec![],
        },
    );
    let gone = received(&mut net, a);
    assert_eq!(gone.len(), 4);
    assert!(gone
        .iter()
        .all(|f| matches!(decode(f), RelayMessage::Left2 { .. })));
    assert_eq!(net.relay.stats().remote_members, 4);

    // When the last local member leaves, everything remote is forgotten.
    for i in [a, b] {
        net.send(i, ClientMessage::Leave { room: r });
    }
    net.run_until("left", |n| n.relay.stats().rooms == 0);
    assert_eq!(net.relay.stats().remote_members, 0);
    feed(
        &mut net,
        MeshInput::Joined {
            room: r,
            peer: remote(7, 1),
        },
    );
    assert_eq!(net.relay.stats().remote_members, 0);
    assert_eq!(net.relay.stats().rooms, 0);
}
