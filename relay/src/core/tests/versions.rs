//! Version 1 and version 2 sessions on one relay: each sees the room in its own version.

use keystore::RelayIdentity;

use super::harness::Net;
use super::{decode, expect_error, expect_frame, room};
use crate::core::{Limits, MeshInput};
use crate::protocol::{
    ClientMessage, ErrorCode, PeerAddr, PeerId, RelayMessage, RelayTag, MAX_BLOB_LEN,
    MAX_ENTRY_LEN, MAX_NODES, MAX_ROOM_SIZE_LIMIT, PROTOCOL_V1, PROTOCOL_VERSION,
};

const V2: u8 = PROTOCOL_VERSION;

fn own(net: &Net, peer: PeerId) -> PeerAddr {
    PeerAddr {
        relay: net.relay.tag(),
        session: peer,
    }
}

#[test]
fn v1_and_v2_members_see_each_other_in_their_own_version() {
    let mut net = Net::new(Limits::default());
    let (a, b, c) = (net.add_client(), net.add_client(), net.add_client());
    let pa = net.hello_as(a, PROTOCOL_V1);
    let pb = net.hello_as(b, V2);
    let pc = net.hello_as(c, V2);
    let r = room(1);

    net.send(a, ClientMessage::Join { room: r });
    let f = net.next_frame(a);
    assert!(matches!(decode(&f), RelayMessage::Room { peers, .. } if peers.is_empty()));
    net.send(b, ClientMessage::Join { room: r });
    let f = net.next_frame(b);
    match decode(&f) {
        RelayMessage::Room2 { room: got, peers } => {
            assert_eq!(got, r);
            assert_eq!(peers.iter().collect::<Vec<_>>(), vec![own(&net, pa)]);
        }
        other => panic!("expected Room2, got {other:?}"),
    }
    let f = net.next_frame(a);
    assert_eq!(decode(&f), RelayMessage::Joined { room: r, peer: pb });
    net.send(c, ClientMessage::Join { room: r });
    let f = net.next_frame(c);
    match decode(&f) {
        RelayMessage::Room2 { peers, .. } => {
            let got: Vec<_> = peers.iter().collect();
            assert_eq!(got, vec![own(&net, pa), own(&net, pb)]);
        }
        other => panic!("expected Room2, got {other:?}"),
    }
    let f = net.next_frame(a);
    assert_eq!(decode(&f), RelayMessage::Joined { room: r, peer: pc });
    let f = net.next_frame(b);
    let joined = RelayMessage::Joined2 {
        room: r,
        peer: own(&net, pc),
    };
    assert_eq!(decode(&f), joined);

    // Each signal reaches its target in the target's version: v2 → v1 by address (heard by
    // id), v1 → v2 by id (heard by address), a v2 session's own 0x04 to a same-relay id.
    let heard = [
        (
            b,
            ClientMessage::Signal2 {
                room: r,
                to: own(&net, pa),
                blob: b"offer",
            },
            a,
            RelayMessage::Signal {
                room: r,
                from: pb,
                blob: b"offer",
            },
        ),
        (
            a,
            ClientMessage::Signal {
                room: r,
                to: pb,
                blob: b"answer",
            },
            b,
            RelayMessage::Signal2 {
                room: r,
                from: own(&net, pa),
                blob: b"answer",
            },
        ),
        (
            b,
            ClientMessage::Signal {
                room: r,
                to: pc,
                blob: b"hi",
            },
            c,
            RelayMessage::Signal2 {
                room: r,
                from: own(&net, pb),
                blob: b"hi",
            },
        ),
    ];
    for (sender, message, target, expected) in heard {
        net.send(sender, message);
        expect_frame(&mut net, target, &expected);
    }
    assert_eq!(net.relay.stats().signals_forwarded, 3);

    // A v1 session may not use 0x07; nobody may address a stranger or another relay; a v1
    // blob one frame long does not fit a Signal2 frame (refused, not truncated).
    let stranger = own(&net, PeerId::new(999_999).expect("non-zero"));
    let elsewhere = PeerAddr {
        relay: RelayTag::from_bytes([0xee; 8]),
        session: pc,
    };
    let long = vec![7u8; MAX_BLOB_LEN];
    let refused = [
        (
            a,
            ClientMessage::Signal2 {
                room: r,
                to: own(&net, pb),
                blob: b"x",
            },
            ErrorCode::UnknownType,
        ),
        (
            b,
            ClientMessage::Signal2 {
                room: r,
                to: stranger,
                blob: b"x",
            },
            ErrorCode::UnknownPeer,
        ),
        (
            b,
            ClientMessage::Signal2 {
                room: r,
                to: elsewhere,
                blob: b"x",
            },
            ErrorCode::UnknownPeer,
        ),
        (
            b,
            ClientMessage::Signal2 {
                room: room(9),
                to: own(&net, pc),
                blob: b"x",
            },
            ErrorCode::NotInRoom,
        ),
        (
            a,
            ClientMessage::Signal {
                room: r,
                to: pb,
                blob: &long,
            },
            ErrorCode::TooLarge,
        ),
    ];
    for (sender, message, code) in refused {
        net.send(sender, message);
        expect_error(&mut net, sender, code);
    }
    assert!(net.clients[b].frames.is_empty());

    // Leaving: the leaver's answer and the others' notices, each in its version.
    net.send(c, ClientMessage::Leave { room: r });
    let c_left = RelayMessage::Left2 {
        room: r,
        peer: own(&net, pc),
    };
    expect_frame(&mut net, c, &c_left);
    expect_frame(&mut net, a, &RelayMessage::Left { room: r, peer: pc });
    expect_frame(&mut net, b, &c_left);
    net.clients[a].conn.close();
    let a_left = RelayMessage::Left2 {
        room: r,
        peer: own(&net, pa),
    };
    expect_frame(&mut net, b, &a_left);

    // Alone, a relay tells the federation nothing.
    assert!(net.relay.poll_mesh().is_none());
    assert_eq!(net.relay.stats().remote_members, 0);
}

#[test]
fn a_v1_leaver_hears_left_by_id() {
    let mut net = Net::new(Limits::default());
    let (a, b) = (net.add_client(), net.add_client());
    let pa = net.hello_as(a, PROTOCOL_V1);
    net.hello_as(b, V2);
    for i in [a, b] {
        net.send(i, ClientMessage::Join { room: room(2) });
        net.next_frame(i);
    }
    net.next_frame(a);
    net.send(a, ClientMessage::Leave { room: room(2) });
    let f = net.next_frame(a);
    assert_eq!(
        decode(&f),
        RelayMessage::Left {
            room: room(2),
            peer: pa
        }
    );
    let f = net.next_frame(b);
    assert_eq!(
        decode(&f),
        RelayMessage::Left2 {
            room: room(2),
            peer: own(&net, pa)
        }
    );
}

fn other_entry() -> Vec<u8> {
    let identity = RelayIdentity::generate().expect("identity");
    identity
        .entry(
            "192.0.2.7".parse().expect("address"),
            3478.try_into().expect("port"),
            bootstrap_codec::IceUfrag::default_relay(),
        )
        .to_bytes()
}

fn nodes_of(net: &mut Net, i: usize) -> Vec<Vec<u8>> {
    net.send(i, ClientMessage::GetNodes);
    let f = net.next_frame(i);
    match decode(&f) {
        RelayMessage::Nodes(nodes) => nodes.iter().map(<[u8]>::to_vec).collect(),
        other => panic!("expected nodes, got {other:?}"),
    }
}

#[test]
fn nodes_lists_own_entry_then_the_directory_bounded() {
    let mut net = Net::with(Limits::default(), true);
    let a = net.add_client();
    net.hello_as(a, V2);
    let own_entry = net.entry.to_bytes();
    let others: Vec<Vec<u8>> = (0..20).map(|_| other_entry()).collect();
    let mut directory = vec![
        own_entry.clone(),
        Vec::new(),
        vec![0xff; 200],
        vec![1; MAX_ENTRY_LEN + 1],
    ];
    directory.extend(others.iter().cloned());
    let now = net.now;
    net.relay.handle_mesh(now, MeshInput::Directory(directory));
    let nodes = nodes_of(&mut net, a);
    assert_eq!(nodes.len(), MAX_NODES);
    assert_eq!(nodes[0], own_entry);
    assert_eq!(nodes[1..], others[..MAX_NODES - 1]);

    // A fresher, shorter directory replaces the old one.
    let now = net.now;
    net.relay
        .handle_mesh(now, MeshInput::Directory(vec![others[19].clone()]));
    assert_eq!(
        nodes_of(&mut net, a),
        vec![own_entry.clone(), others[19].clone()]
    );

    // A relay that is not federated keeps answering with itself only.
    let mut alone = Net::new(Limits::default());
    let b = alone.add_client();
    alone.hello(b);
    let now = alone.now;
    alone.relay.handle_mesh(now, MeshInput::Directory(others));
    assert_eq!(nodes_of(&mut alone, b), vec![alone.entry.to_bytes()]);
    assert_eq!(alone.relay.stats().mesh_ignored, 1);
}

#[test]
fn max_room_size_range_is_2_to_1362() {
    let with = |max_room_size| Limits {
        max_room_size,
        ..Limits::default()
    };
    assert_eq!(MAX_ROOM_SIZE_LIMIT, 1362);
    assert!(with(2).validate().is_ok());
    assert!(with(MAX_ROOM_SIZE_LIMIT).validate().is_ok());
    for bad in [0, 1, MAX_ROOM_SIZE_LIMIT + 1, 4087] {
        let e = with(bad).validate().expect_err("out of range");
        assert_eq!(
            e.to_string(),
            format!("MAX_ROOM_SIZE must be 2..=1362, got {bad}")
        );
    }
}

#[test]
fn a_full_room2_fits_one_frame() {
    let limits = Limits {
        max_room_size: MAX_ROOM_SIZE_LIMIT,
        ..Limits::default()
    };
    let mut net = Net::with(limits, true);
    let (a, b) = (net.add_client(), net.add_client());
    net.hello_as(a, V2);
    net.hello_as(b, V2);
    net.send(a, ClientMessage::Join { room: room(3) });
    net.next_frame(a);
    // Fill the room from another relay up to one place short of the limit.
    let relay = RelayTag::from_bytes([9; 8]);
    let sessions = (1..=u32::from(MAX_ROOM_SIZE_LIMIT) - 2)
        .filter_map(PeerId::new)
        .collect();
    let now = net.now;
    net.relay.handle_mesh(
        now,
        MeshInput::Members {
            room: room(3),
            relay,
            sessions,
        },
    );
    assert_eq!(
        net.relay.stats().remote_members,
        u64::from(MAX_ROOM_SIZE_LIMIT) - 2
    );
    net.send(b, ClientMessage::Join { room: room(3) });
    let f = net.next_frame(b);
    match decode(&f) {
        RelayMessage::Room2 { peers, .. } => {
            assert_eq!(peers.len(), usize::from(MAX_ROOM_SIZE_LIMIT) - 1);
            assert!(f.len() <= crate::protocol::MAX_FRAME_LEN);
        }
        other => panic!("expected Room2, got {other:?}"),
    }
}
