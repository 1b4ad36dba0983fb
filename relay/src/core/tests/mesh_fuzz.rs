//! Random federation chatter, from relays real and imagined (this relay's own tag included):
//! the core never panics, no room passes its size, and what a version 2 member was told
//! always adds up to what the relay holds.

use std::collections::BTreeSet;

use super::harness::Net;
use super::{decode, garbage, room};
use crate::core::{Limits, MeshInput};
use crate::protocol::{
    ClientMessage, PeerAddr, PeerId, RelayMessage, RelayTag, RoomId, PROTOCOL_V1, PROTOCOL_VERSION,
};

const MAX: u16 = 6;

/// A deterministic stream of small random numbers.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u8) -> u8 {
        garbage(&mut self.0, 1)[0] % n
    }
}

/// What one member was told about a room: its `Room2`, then `Joined2`s and `Left2`s.
fn apply(view: &mut BTreeSet<PeerAddr>, frame: &[u8], room_id: RoomId, me: PeerAddr) {
    match decode(frame) {
        RelayMessage::Room2 { room, peers } if room == room_id => {
            *view = peers.iter().collect();
        }
        RelayMessage::Joined2 { room, peer } if room == room_id => {
            assert_ne!(peer, me, "told of itself");
            assert!(view.insert(peer), "told twice that {peer} joined");
        }
        RelayMessage::Left2 { room, peer } if room == room_id => {
            assert!(view.remove(&peer), "told {peer} left, never told it joined");
        }
        RelayMessage::Signal2 { room, from, .. } if room == room_id => {
            assert!(
                view.contains(&from),
                "a signal from {from}, not a member it knows"
            );
        }
        _ => {}
    }
}

#[test]
fn random_mesh_input_keeps_rooms_bounded_and_views_true() {
    for seed in [
        0x0123_4567_89ab_cdef,
        0x9e37_79b9_7f4a_7c15,
        42,
        0xdead_beef,
    ] {
        chatter_with(seed);
    }
}

fn chatter_with(seed: u64) {
    let limits = Limits {
        max_room_size: MAX,
        ..Limits::default()
    };
    let mut net = Net::with(limits, true);
    let (a, b, c) = (net.add_client(), net.add_client(), net.add_client());
    let pa = net.hello_as(a, PROTOCOL_VERSION);
    let pb = net.hello_as(b, PROTOCOL_VERSION);
    let pc = net.hello_as(c, PROTOCOL_V1);
    let own_tag = net.relay.tag();
    let me = PeerAddr {
        relay: own_tag,
        session: pa,
    };
    let rooms = [room(1), room(2), room(3)];
    for (i, r) in [(a, rooms[0]), (b, rooms[0]), (c, rooms[0]), (a, rooms[1])] {
        net.send(i, ClientMessage::Join { room: r });
        net.run_until("joined", |n| !n.clients[i].frames.is_empty());
    }
    while net.pump() {}
    net.clients[c].frames.clear();
    let mut views = [BTreeSet::new(), BTreeSet::new()];
    let tags = [
        own_tag,
        RelayTag::from_bytes([1; 8]),
        RelayTag::from_bytes([2; 8]),
        RelayTag::from_bytes([3; 8]),
    ];
    let targets = [pa, pb, pc, PeerId::new(999).expect("non-zero")];
    let mut dice = Dice(seed);
    for _ in 0..3_000 {
        let room = rooms[usize::from(dice.below(3))];
        let relay = tags[usize::from(dice.below(4))];
        let peer = PeerAddr {
            relay,
            session: PeerId::new(u32::from(dice.below(8)) + 1).expect("non-zero"),
        };
        let input = match dice.below(6) {
            0 | 1 => MeshInput::Joined { room, peer },
            2 => MeshInput::Left { room, peer },
            3 => {
                let n = dice.below(MAX as u8 + 3);
                let sessions = (0..n)
                    .filter_map(|_| PeerId::new(u32::from(dice.below(8)) + 1))
                    .collect();
                MeshInput::Members {
                    room,
                    relay,
                    sessions,
                }
            }
            4 => match dice.below(8) {
                0 => MeshInput::RelayGone { relay },
                1 => MeshInput::RoomGone { room, relay },
                _ => MeshInput::Left { room, peer },
            },
            _ => MeshInput::Signal {
                room,
                from: peer,
                to: targets[usize::from(dice.below(4))],
                blob: vec![0; usize::from(dice.below(40))],
            },
        };
        let now = net.now;
        net.relay.handle_mesh(now, input);
        while net.pump() {}
        for frame in net.clients[a].frames.drain(..) {
            for (view, r) in views.iter_mut().zip(rooms) {
                apply(view, &frame, r, me);
            }
        }
        for members in net.relay.rooms.values() {
            assert!(members.len() <= usize::from(MAX));
        }
        // Nothing another relay says ever reaches a version 1 member.
        assert!(net.clients[c].frames.is_empty());
    }
    assert_eq!(net.relay.stats().rejects.send_dropped, 0);
    for (view, r) in views.iter().zip(rooms) {
        let held = &net.relay.rooms[&r];
        let mut truth: BTreeSet<PeerAddr> = held.remote().collect();
        for &key in &held.local {
            let session = net.relay.sessions[key]
                .as_ref()
                .expect("a live member")
                .peer;
            truth.insert(PeerAddr {
                relay: own_tag,
                session,
            });
        }
        truth.remove(&me);
        assert_eq!(view, &truth, "a's view of {r:?}");
    }
    assert!(!net.relay.rooms.contains_key(&rooms[2]));
    let stats = net.relay.stats();
    assert!(stats.signals_from_relays > 0 && stats.mesh_signals_dropped > 0);
    assert!(stats.remote_members_refused > 0 && stats.mesh_ignored > 0);
}
