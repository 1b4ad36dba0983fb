//! Rooms that span relays: cores wired through the in-memory router of `router.rs`.

use std::collections::BTreeSet;
use std::time::Duration;

use super::router::Fed;
use super::{decode, room};
use crate::core::Limits;
use crate::protocol::{
    msg_type, ClientMessage, ErrorCode, PeerAddr, RelayMessage, RoomId, PROTOCOL_V1,
    PROTOCOL_VERSION,
};

const V2: u8 = PROTOCOL_VERSION;

/// Long enough that no session idles out while the test waits on another relay.
fn limits() -> Limits {
    Limits {
        idle_timeout: Duration::from_secs(3_600),
        ..Limits::default()
    }
}

/// Takes every frame client `c` of relay `r` has received so far (after settling).
fn frames(fed: &mut Fed, r: usize, c: usize) -> Vec<Vec<u8>> {
    fed.settle();
    fed.nets[r].clients[c].frames.drain(..).collect()
}

/// The addresses `Joined2` frames announced in `room`, in order.
fn joined2(frames: &[Vec<u8>], room: RoomId) -> Vec<PeerAddr> {
    named(frames, room, msg_type::JOINED2)
}

/// The addresses `Left2` frames announced in `room`, in order.
fn left2(frames: &[Vec<u8>], room: RoomId) -> Vec<PeerAddr> {
    named(frames, room, msg_type::LEFT2)
}

fn named(frames: &[Vec<u8>], room_id: RoomId, kind: u8) -> Vec<PeerAddr> {
    let of_kind = frames.iter().filter(|f| f.first() == Some(&kind));
    of_kind
        .filter_map(|f| match decode(f) {
            RelayMessage::Joined2 { room, peer } | RelayMessage::Left2 { room, peer }
                if room == room_id =>
            {
                Some(peer)
            }
            _ => None,
        })
        .collect()
}

fn join(fed: &mut Fed, r: usize, c: usize, room: RoomId) -> Vec<u8> {
    fed.nets[r].send(c, ClientMessage::Join { room });
    fed.next_frame(r, c)
}

/// Client `client` of relay `relay` signals `to` in `room`.
fn send2(fed: &mut Fed, (relay, client): (usize, usize), room: RoomId, to: PeerAddr, blob: &[u8]) {
    let signal = ClientMessage::Signal2 { room, to, blob };
    fed.nets[relay].send(client, signal);
}

fn room2_peers(frame: &[u8]) -> BTreeSet<PeerAddr> {
    match decode(frame) {
        RelayMessage::Room2 { peers, .. } => peers.iter().collect(),
        other => panic!("expected Room2, got {other:?}"),
    }
}

#[test]
fn members_on_three_relays_meet_and_signal() {
    let mut fed = Fed::new(3, limits());
    let (a, aa) = fed.member(0, V2);
    let (b, ab) = fed.member(1, V2);
    let (c, ac) = fed.member(1, PROTOCOL_V1);
    let (d, ad) = fed.member(2, V2);
    let (e, ae) = fed.member(1, V2);
    let (pb, pe) = (ab.session, ae.session);
    let r = room(1);

    assert!(room2_peers(&join(&mut fed, 0, a, r)).is_empty());
    // b joins before its relay has heard of a; the snapshot follows as Joined2.
    assert!(room2_peers(&join(&mut fed, 1, b, r)).is_empty());
    let f = join(&mut fed, 1, c, r);
    match decode(&f) {
        RelayMessage::Room { peers, .. } => assert_eq!(peers.iter().collect::<Vec<_>>(), [pb]),
        other => panic!("a v1 joiner sees only local members, got {other:?}"),
    }
    join(&mut fed, 2, d, r);
    // A later joiner on relay 1 gets everyone in its Room2.
    let f = join(&mut fed, 1, e, r);
    assert_eq!(room2_peers(&f), BTreeSet::from([aa, ab, ac, ad]));

    assert_eq!(joined2(&frames(&mut fed, 0, a), r), [ab, ac, ad, ae]);
    assert_eq!(joined2(&frames(&mut fed, 1, b), r), [aa, ac, ad, ae]);
    let c_frames = frames(&mut fed, 1, c);
    let c_saw: Vec<_> = c_frames.iter().map(|f| decode(f)).collect();
    assert_eq!(
        c_saw,
        [RelayMessage::Joined { room: r, peer: pe }],
        "v1 never sees remote"
    );
    let d_joined: BTreeSet<_> = joined2(&frames(&mut fed, 2, d), r).into_iter().collect();
    assert_eq!(d_joined, BTreeSet::from([aa, ab, ac, ae]));
    assert_eq!(fed.nets[1].relay.stats().remote_members, 2);
    assert_eq!(fed.nets[0].relay.stats().remote_members, 4);

    // Signals cross relays, both ways: (sender, its address, recipient, its address).
    let crossings = [
        ((0, a), aa, (1, b), ab),
        ((1, b), ab, (0, a), aa),
        ((2, d), ad, (1, e), ae),
    ];
    for (sender, from, (tr, tc), to) in crossings {
        send2(&mut fed, sender, r, to, b"sealed");
        let f = fed.next_frame(tr, tc);
        let blob = b"sealed";
        assert_eq!(
            decode(&f),
            RelayMessage::Signal2 {
                room: r,
                from,
                blob
            }
        );
    }
    // A remote signal for a v1 session is dropped on arrival (and counted there).
    send2(&mut fed, (0, a), r, ac, b"to c");
    fed.settle();
    assert!(fed.nets[1].clients[c].frames.is_empty());
    let s0 = fed.nets[0].relay.stats();
    let s1 = fed.nets[1].relay.stats();
    assert_eq!((s0.signals_to_relays, s0.signals_from_relays), (2, 1));
    assert_eq!((s1.signals_to_relays, s1.signals_from_relays), (1, 2));
    assert_eq!(s1.mesh_signals_dropped, 1);
    assert_eq!(s1.signals_forwarded, 0);

    // Leaving is heard everywhere, in each member's version.
    fed.nets[1].send(b, ClientMessage::Leave { room: r });
    let f = fed.next_frame(1, b);
    assert_eq!(decode(&f), RelayMessage::Left2 { room: r, peer: ab });
    assert_eq!(left2(&frames(&mut fed, 0, a), r), [ab]);
    assert_eq!(left2(&frames(&mut fed, 2, d), r), [ab]);
    let c_saw: Vec<_> = frames(&mut fed, 1, c);
    assert_eq!(decode(&c_saw[0]), RelayMessage::Left { room: r, peer: pb });
    // A session that closes is heard as leaving too.
    fed.nets[2].clients[d].conn.close();
    fed.run_until("d's Left2 on relay 0", |f| {
        !f.nets[0].clients[a].frames.is_empty()
    });
    assert_eq!(left2(&frames(&mut fed, 0, a), r), [ad]);
    assert_eq!(left2(&frames(&mut fed, 1, e), r), [ab, ad]);
    assert_eq!(fed.nets[0].relay.stats().remote_members, 2);
}

#[test]
fn a_dead_relay_takes_its_members_with_it() {
    let mut fed = Fed::new(3, limits());
    let (a, aa) = fed.member(0, V2);
    let (b, ab) = fed.member(1, V2);
    let (c, ac) = fed.member(1, V2);
    let (d, ad) = fed.member(2, V2);
    let r = room(2);
    for (relay, client) in [(0, a), (1, b), (1, c), (2, d)] {
        join(&mut fed, relay, client, r);
    }
    // A second room, on relays 0 and 1 only.
    join(&mut fed, 0, a, room(3));
    join(&mut fed, 1, b, room(3));
    frames(&mut fed, 0, a);
    frames(&mut fed, 2, d);
    assert_eq!(fed.nets[0].relay.stats().remote_members, 4);

    fed.kill(1);
    let a_frames = frames(&mut fed, 0, a);
    let gone: BTreeSet<_> = left2(&a_frames, r).into_iter().collect();
    assert_eq!(gone, BTreeSet::from([ab, ac]));
    assert_eq!(left2(&a_frames, room(3)), [ab]);
    let gone: BTreeSet<_> = left2(&frames(&mut fed, 2, d), r).into_iter().collect();
    assert_eq!(gone, BTreeSet::from([ab, ac]));
    assert_eq!(fed.nets[0].relay.stats().remote_members, 1);
    assert_eq!(fed.nets[2].relay.stats().remote_members, 1);

    // Its members can no longer be addressed; the living ones still can.
    send2(&mut fed, (0, a), r, ab, b"x");
    let f = fed.next_frame(0, a);
    assert!(matches!(
        decode(&f),
        RelayMessage::Error {
            code: ErrorCode::UnknownPeer,
            ..
        }
    ));
    send2(&mut fed, (0, a), r, ad, b"still here");
    let f = fed.next_frame(2, d);
    let from = aa;
    assert_eq!(
        decode(&f),
        RelayMessage::Signal2 {
            room: r,
            from,
            blob: b"still here"
        }
    );
}

#[test]
fn room_size_holds_across_the_federation() {
    let limits = Limits {
        max_room_size: 3,
        ..limits()
    };
    let mut fed = Fed::new(2, limits);
    let clients: Vec<(usize, usize)> = [0, 1, 1, 0, 1]
        .into_iter()
        .map(|r| (r, fed.nets[r].add_client()))
        .collect();
    for &(r, c) in &clients {
        fed.hello(r, c, V2);
    }
    let room_id = room(4);
    for &(r, c) in &clients[..3] {
        let f = join(&mut fed, r, c, room_id);
        assert!(matches!(decode(&f), RelayMessage::Room2 { .. }));
    }
    for &(r, c) in &clients[3..] {
        let f = join(&mut fed, r, c, room_id);
        let full = RelayMessage::Error {
            code: ErrorCode::RoomFull,
            request: msg_type::JOIN,
        };
        assert_eq!(
            decode(&f),
            full,
            "relay {r} counts the other relay's members"
        );
    }
    // A place frees up on one relay: the other relay's joiner gets in.
    let (r, c) = clients[0];
    fed.nets[r].send(c, ClientMessage::Leave { room: room_id });
    fed.settle();
    let (r, c) = clients[4];
    fed.nets[r].clients[c].frames.clear();
    let f = join(&mut fed, r, c, room_id);
    assert_eq!(room2_peers(&f).len(), 2);
}
