//! Three (or more) [`Federation`]s in a [`FakeSwarm`]: the directory converges, rooms span
//! relays, and forged, stale, replayed, oversized, truncated and flooding gossip is refused,
//! counted and penalised while honest relays keep getting through.

use std::num::NonZeroU16;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bootstrap_codec::NodeKey;

use super::fake_swarm::{config, entry, secret, FakeSwarm, START_MS};
use crate::core::{MeshInput, MeshOutput};
use crate::mesh::node::{Action, Federation, Refusal, Topic, Verdict, TICK};
use crate::mesh::wire::{Announce, MeshMessage, RoomBody, RoomMessage, MAX_MESSAGE_LEN};
use crate::protocol::{PeerAddr, PeerId, PeerList, RelayTag, RoomId};

const ROOM: RoomId = RoomId::from_bytes([0xab; 32]);

fn session(id: u32) -> PeerId {
    PeerId::new(id).expect("non-zero")
}

fn unix_ms(wall: SystemTime) -> u64 {
    wall.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// An announcement of `entry` bytes.
fn announce(issued_at_ms: u64, port: u16, entry: &[u8]) -> Vec<u8> {
    MeshMessage::Announce(Announce {
        issued_at_ms,
        mesh_port: NonZeroU16::new(port),
        entry,
    })
    .to_vec()
}

/// A room message on [`ROOM`].
fn room_message(sent_at_ms: u64, body: RoomBody<'_>) -> Vec<u8> {
    MeshMessage::Room(RoomMessage {
        room: ROOM,
        sent_at_ms,
        body,
    })
    .to_vec()
}

fn room_topic() -> String {
    Topic::Room(ROOM).name()
}

/// A valid point whose first 8 bytes (its tag) are `other`'s: a relay that ground a tag.
fn tag_collider(other: &NodeKey) -> NodeKey {
    let mut bytes = *other.as_bytes();
    (0..=255u8)
        .find_map(|b| {
            bytes[31] = b;
            NodeKey::from_bytes(&bytes).ok().filter(|k| k != other)
        })
        .expect("about half of all y coordinates are on the curve")
}

/// A fully connected swarm of three relays.
fn triangle() -> FakeSwarm {
    let mut swarm = FakeSwarm::of(3);
    swarm.connect(0, 1);
    swarm.connect(1, 2);
    swarm.connect(0, 2);
    swarm
}

#[test]
fn new_subscribes_to_the_directory_and_announces() {
    let now = std::time::Instant::now();
    let wall = UNIX_EPOCH + Duration::from_millis(START_MS);
    let mut fed = Federation::new(config(0), now, wall);
    assert_eq!(fed.poll(), Some(Action::Subscribe(Topic::Relays)));
    let Some(Action::Publish { topic, data }) = fed.poll() else {
        panic!("no announcement");
    };
    assert_eq!(topic, Topic::Relays);
    let MeshMessage::Announce(a) = MeshMessage::decode(&data).unwrap() else {
        panic!("not an announcement");
    };
    assert_eq!(a.issued_at_ms, START_MS);
    assert_eq!(a.mesh_port.map(|p| p.get()), Some(4000));
    assert_eq!(a.entry, entry(&secret(0), "127.0.0.1").to_bytes());
    assert_eq!(fed.poll(), None);
    assert!(fed.next_timeout() <= now + TICK);
    let stats = fed.stats();
    assert_eq!(stats.gossip_messages_out, 1);
    assert_eq!(stats.gossip_bytes_out, data.len() as u64);
}

#[test]
fn the_directory_converges_over_two_hops_and_dials_the_relays_it_learns() {
    let mut swarm = FakeSwarm::of(3);
    swarm.connect(0, 1);
    swarm.connect(1, 2);
    // 2's announcement (answering 1's subscription) travels on to 0; 0's reaches 2 with its
    // next scheduled announcement (2 is not a neighbour of 0, so 0 never saw it subscribe).
    swarm.advance(Duration::from_secs(1));
    assert_eq!(swarm.nodes[0].fed.stats().known_relays, 2);
    assert_eq!(swarm.nodes[2].fed.stats().known_relays, 1);
    swarm.advance(Duration::from_secs(30));
    for i in 0..3 {
        assert_eq!(swarm.nodes[i].fed.stats().known_relays, 2, "relay {i}");
        let listed = swarm.last_directory(i).expect("a directory");
        assert_eq!(listed.len(), 2, "relay {i}");
        let own = entry(&secret(i as u8), "127.0.0.1").to_bytes();
        assert!(!listed.contains(&own), "relay {i} lists itself");
    }
    // 0 and 2 learnt each other through 1 and ask to be connected.
    let (key0, key2) = (swarm.nodes[0].key, swarm.nodes[2].key);
    let to_2 = (key2, "127.0.0.1:4002".parse().unwrap());
    let to_0 = (key0, "127.0.0.1:4000".parse().unwrap());
    assert_eq!(swarm.nodes[0].dials.first(), Some(&to_2));
    assert!(swarm.nodes[0].dials.iter().all(|d| d == &to_2));
    assert_eq!(swarm.nodes[2].dials.first(), Some(&to_0));
    assert!(swarm.nodes[1].dials.is_empty(), "1 is connected to both");
    swarm.connect(0, 2);
    let dials = (swarm.nodes[0].dials.len(), swarm.nodes[2].dials.len());
    swarm.advance(Duration::from_secs(61));
    let after = (swarm.nodes[0].dials.len(), swarm.nodes[2].dials.len());
    assert_eq!(after, dials, "no dial to a connected relay");
}

#[test]
fn a_relay_is_dialled_at_most_once_in_30_seconds() {
    let mut swarm = FakeSwarm::of(2);
    swarm.connect(0, 1);
    let far = secret(7);
    let far_entry = entry(&far, "127.0.0.7").to_bytes();
    let key1 = swarm.nodes[1].key;
    for _ in 0..14 {
        let data = announce(unix_ms(swarm.wall), 4007, &far_entry);
        let verdict = swarm.inject(0, &far.public(), &key1, &Topic::Relays.name(), &data);
        assert_eq!(verdict, Verdict::Accept);
        swarm.advance(Duration::from_secs(5));
    }
    let to = (far.public(), "127.0.0.7:4007".parse().unwrap());
    assert_eq!(swarm.nodes[0].dials, vec![to; 3], "at 0 s, 30 s and 60 s");
}

#[test]
fn the_directory_lists_the_freshest_first_and_changes_only_when_it_changes() {
    let mut swarm = triangle();
    swarm.take_inbox(0);
    // 2 re-announces (it sees a new subscriber after the debounce): it moves to the front.
    swarm.advance(Duration::from_secs(2));
    let key1 = swarm.nodes[1].key;
    swarm.nodes[2]
        .fed
        .subscribed(swarm.now, key1, &Topic::Relays.name());
    swarm.pump();
    let listed = swarm.last_directory(0).expect("a new order");
    assert_eq!(listed[0], entry(&secret(2), "127.0.0.1").to_bytes());
    swarm.take_inbox(0);
    // The same announcement again along another path: nothing to tell the core.
    let data = swarm.nodes[2].published.last().unwrap().1.clone();
    let key2 = swarm.nodes[2].key;
    let verdict = swarm.inject(0, &key2, &key1, &Topic::Relays.name(), &data);
    assert_eq!(verdict, Verdict::Ignore);
    assert!(swarm.take_inbox(0).is_empty());
}

#[test]
fn re_announces_on_schedule_and_debounces_new_subscribers() {
    let mut swarm = FakeSwarm::of(2);
    let announcements = |swarm: &FakeSwarm| {
        let published = &swarm.nodes[0].published;
        published
            .iter()
            .filter(|(t, _)| *t == Topic::Relays)
            .count()
    };
    assert_eq!(announcements(&swarm), 1);
    swarm.advance(Duration::from_secs(2));
    swarm.connect(0, 1);
    assert_eq!(announcements(&swarm), 2, "1 subscribed: announce at once");
    let key1 = swarm.nodes[1].key;
    swarm.nodes[0]
        .fed
        .subscribed(swarm.now, key1, &Topic::Relays.name());
    swarm.pump();
    assert_eq!(announcements(&swarm), 2, "debounced");
    assert!(swarm.nodes[0].fed.next_timeout() <= swarm.now + Duration::from_secs(1));
    swarm.advance(Duration::from_secs(1));
    assert_eq!(announcements(&swarm), 3, "the debounced announcement");
    swarm.advance(Duration::from_secs(30));
    assert_eq!(announcements(&swarm), 4, "every 30 s");
    // Every announcement is newer than the last, so 1 accepted each.
    let accepted = swarm.nodes[1]
        .verdicts
        .iter()
        .filter(|(_, v)| *v == Verdict::Accept)
        .count();
    assert_eq!(accepted, 3);
}

#[test]
fn a_relay_that_stops_announcing_expires_but_stays_a_room_peer() {
    let mut swarm = FakeSwarm::of(2);
    swarm.connect(0, 1);
    swarm.core(
        1,
        MeshOutput::Joined {
            room: ROOM,
            session: session(5),
        },
    );
    swarm.core(
        0,
        MeshOutput::Joined {
            room: ROOM,
            session: session(1),
        },
    );
    swarm.take_inbox(0);
    // 1 hangs: its clock stops, so it neither announces nor leaves.
    let frozen = swarm.nodes.pop().unwrap();
    swarm.advance(Duration::from_secs(121));
    let inbox = swarm.take_inbox(0);
    assert_eq!(inbox, vec![MeshInput::Directory(Vec::new())]);
    assert_eq!(swarm.nodes[0].fed.stats().known_relays, 0);
    assert_eq!(swarm.nodes[0].fed.stats().mesh_peers, 1);
    // Its room traffic still counts while it is connected.
    let at = unix_ms(swarm.wall);
    let data = room_message(at, RoomBody::Left(session(5)));
    let verdict = swarm.inject(0, &frozen.key, &frozen.key, &room_topic(), &data);
    assert_eq!(verdict, Verdict::Ignore);
    let left = PeerAddr {
        relay: RelayTag::of(&frozen.key),
        session: session(5),
    };
    assert_eq!(
        swarm.take_inbox(0),
        vec![MeshInput::Left {
            room: ROOM,
            peer: left
        }]
    );
}

#[test]
fn rooms_span_relays_with_snapshots_joins_signals_and_leaves() {
    let mut swarm = triangle();
    for i in 0..3 {
        swarm.take_inbox(i);
    }
    let tag = |swarm: &FakeSwarm, i: usize| RelayTag::of(&swarm.nodes[i].key);
    swarm.core(
        0,
        MeshOutput::Joined {
            room: ROOM,
            session: session(1),
        },
    );
    assert!(swarm.nodes[0].topics.contains(&room_topic()));
    let published = swarm.nodes[0].published.last().unwrap();
    assert_eq!(published.0, Topic::Room(ROOM), "the join");
    swarm.core(
        0,
        MeshOutput::Joined {
            room: ROOM,
            session: session(2),
        },
    );
    // 1 joins: it gets 0's snapshot (answering its subscription), 0 gets the join.
    swarm.core(
        1,
        MeshOutput::Joined {
            room: ROOM,
            session: session(5),
        },
    );
    let (t0, t1, t2) = (tag(&swarm, 0), tag(&swarm, 1), tag(&swarm, 2));
    assert_eq!(
        swarm.take_inbox(1),
        vec![MeshInput::Members {
            room: ROOM,
            relay: t0,
            sessions: vec![session(1), session(2)]
        }]
    );
    let joined = MeshInput::Joined {
        room: ROOM,
        peer: PeerAddr {
            relay: t1,
            session: session(5),
        },
    };
    assert_eq!(swarm.take_inbox(0), vec![joined]);
    assert!(
        swarm.take_inbox(2).is_empty(),
        "2 serves nobody in the room"
    );
    // 2 joins late: snapshots of both others.
    swarm.core(
        2,
        MeshOutput::Joined {
            room: ROOM,
            session: session(9),
        },
    );
    let mut snapshots = swarm.take_inbox(2);
    snapshots.sort_by_key(|m| format!("{m:?}"));
    let mut want = vec![
        MeshInput::Members {
            room: ROOM,
            relay: t0,
            sessions: vec![session(1), session(2)],
        },
        MeshInput::Members {
            room: ROOM,
            relay: t1,
            sessions: vec![session(5)],
        },
    ];
    want.sort_by_key(|m| format!("{m:?}"));
    assert_eq!(snapshots, want);
    swarm.take_inbox(0);
    swarm.take_inbox(1);
    // A signal goes to the relay it is addressed to; the third relay does not deliver it.
    let to = PeerAddr {
        relay: t1,
        session: session(5),
    };
    let blob = vec![0x5a; 100];
    swarm.core(
        0,
        MeshOutput::Signal {
            room: ROOM,
            from: session(1),
            to,
            blob: blob.clone(),
        },
    );
    let from = PeerAddr {
        relay: t0,
        session: session(1),
    };
    assert_eq!(
        swarm.take_inbox(1),
        vec![MeshInput::Signal {
            room: ROOM,
            from,
            to: session(5),
            blob
        }]
    );
    assert!(swarm.take_inbox(2).is_empty());
    assert_eq!(swarm.nodes[0].fed.stats().signals_out, 1);
    assert_eq!(swarm.nodes[1].fed.stats().signals_in, 1);
    assert_eq!(swarm.nodes[2].fed.stats().signals_in, 0);
    // 2's last member leaves: a Left, then it unsubscribes (RoomGone at the others).
    swarm.core(
        2,
        MeshOutput::Left {
            room: ROOM,
            session: session(9),
        },
    );
    let gone = PeerAddr {
        relay: t2,
        session: session(9),
    };
    for i in [0, 1] {
        assert_eq!(
            swarm.take_inbox(i),
            vec![
                MeshInput::Left {
                    room: ROOM,
                    peer: gone
                },
                MeshInput::RoomGone {
                    room: ROOM,
                    relay: t2
                }
            ],
            "relay {i}"
        );
    }
    assert!(!swarm.nodes[2].topics.contains(&room_topic()));
    // A room 2 no longer serves: traffic for it is not delivered there.
    swarm.core(
        0,
        MeshOutput::Left {
            room: ROOM,
            session: session(2),
        },
    );
    assert!(swarm.take_inbox(2).is_empty());
}

#[test]
fn a_relay_disconnect_removes_its_members_at_once() {
    let mut swarm = triangle();
    swarm.core(
        2,
        MeshOutput::Joined {
            room: ROOM,
            session: session(9),
        },
    );
    swarm.take_inbox(0);
    swarm.take_inbox(1);
    swarm.disconnect(0, 2);
    swarm.disconnect(1, 2);
    let t2 = RelayTag::of(&swarm.nodes[2].key);
    for i in [0, 1] {
        assert_eq!(
            swarm.take_inbox(i),
            vec![MeshInput::RelayGone { relay: t2 }],
            "relay {i}"
        );
        assert_eq!(swarm.nodes[i].fed.stats().mesh_peers, 1);
    }
}

#[test]
fn forged_foreign_stale_and_future_announcements_are_refused_and_penalised() {
    let mut swarm = FakeSwarm::of(2);
    swarm.connect(0, 1);
    let evil = secret(9);
    let evil_key = evil.public();
    swarm.nodes[0].fed.connected(swarm.now, evil_key);
    let topic = Topic::Relays.name();
    let now_ms = unix_ms(swarm.wall);
    let own = entry(&evil, "127.0.0.1").to_bytes();
    let mut forged = own.clone();
    *forged.last_mut().unwrap() ^= 1;
    let of_relay_1 = entry(&secret(1), "127.0.0.1").to_bytes();
    let cases: Vec<(&str, Vec<u8>, Refusal)> = vec![
        (
            "forged signature",
            announce(now_ms, 1, &forged),
            Refusal::Forged,
        ),
        (
            "not an entry",
            announce(now_ms, 1, b"hello"),
            Refusal::Forged,
        ),
        (
            "another relay's entry",
            announce(now_ms, 1, &of_relay_1),
            Refusal::WrongAuthor,
        ),
        ("stale", announce(now_ms - 120_001, 1, &own), Refusal::Stale),
        (
            "future-dated",
            announce(now_ms + 30_001, 1, &own),
            Refusal::Stale,
        ),
        (
            "truncated",
            announce(now_ms, 1, &own)[..5].to_vec(),
            Refusal::Malformed,
        ),
        ("empty", Vec::new(), Refusal::Malformed),
        (
            "entry over 1024 bytes",
            announce(now_ms, 1, &[7; 1025]),
            Refusal::Oversized,
        ),
        (
            "over the message limit",
            vec![1; MAX_MESSAGE_LEN + 1],
            Refusal::Oversized,
        ),
        (
            "a room message",
            room_message(now_ms, RoomBody::Joined(session(1))),
            Refusal::Malformed,
        ),
    ];
    for (n, (name, data, refusal)) in cases.iter().enumerate() {
        let verdict = swarm.inject(0, &evil_key, &evil_key, &topic, data);
        assert_eq!(verdict, Verdict::Reject(*refusal), "{name}");
        assert_eq!(
            swarm.nodes[0].fed.penalty(&evil_key),
            10.0 * (n + 1) as f64,
            "{name}"
        );
    }
    let refused = swarm.nodes[0].fed.stats().refused;
    assert_eq!(refused.forged, 2);
    assert_eq!(refused.wrong_author, 1);
    assert_eq!(refused.stale, 2);
    assert_eq!(refused.malformed, 3);
    assert_eq!(refused.oversized, 2);
    assert_eq!(swarm.nodes[0].fed.stats().known_relays, 1, "only relay 1");
    let scores: Vec<f64> = swarm.nodes[0].scores.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        scores,
        (1..=10).map(|n| -10.0 * n as f64).collect::<Vec<_>>()
    );
    // Its own, fresh entry is accepted once; the same or an older one again is a replay.
    let fresh = announce(now_ms, 1, &own);
    assert_eq!(
        swarm.inject(0, &evil_key, &evil_key, &topic, &fresh),
        Verdict::Accept
    );
    assert_eq!(
        swarm.inject(0, &evil_key, &evil_key, &topic, &fresh),
        Verdict::Ignore
    );
    let older = announce(now_ms - 1, 1, &own);
    assert_eq!(
        swarm.inject(0, &evil_key, &evil_key, &topic, &older),
        Verdict::Ignore
    );
    // The relay that stops misbehaving recovers within minutes.
    swarm.advance(Duration::from_secs(600));
    assert_eq!(swarm.nodes[0].fed.penalty(&evil_key), 0.0);
    assert_eq!(swarm.nodes[0].scores.last(), Some(&(evil_key, 0.0)));
    // The honest relay was never scored.
    let key1 = swarm.nodes[1].key;
    assert!(swarm.nodes[0].scores.iter().all(|(k, _)| *k != key1));
}

#[test]
fn our_own_announcement_coming_back_is_ignored() {
    let mut swarm = FakeSwarm::of(2);
    swarm.connect(0, 1);
    let (key0, key1) = (swarm.nodes[0].key, swarm.nodes[1].key);
    let data = swarm.nodes[0].published[0].1.clone();
    let verdict = swarm.inject(0, &key0, &key1, &Topic::Relays.name(), &data);
    assert_eq!(verdict, Verdict::Ignore);
    assert_eq!(swarm.nodes[0].fed.stats().known_relays, 1);
}

#[test]
fn stale_future_replayed_and_malformed_room_messages_are_refused() {
    let mut swarm = FakeSwarm::of(2);
    swarm.connect(0, 1);
    swarm.core(
        0,
        MeshOutput::Joined {
            room: ROOM,
            session: session(1),
        },
    );
    swarm.take_inbox(0);
    let key1 = swarm.nodes[1].key;
    let topic = room_topic();
    let now_ms = unix_ms(swarm.wall);
    let joined = |at| room_message(at, RoomBody::Joined(session(5)));
    assert_eq!(
        swarm.inject(0, &key1, &key1, &topic, &joined(now_ms)),
        Verdict::Ignore
    );
    assert_eq!(swarm.take_inbox(0).len(), 1, "delivered");
    let other_room = MeshMessage::Room(RoomMessage {
        room: RoomId::from_bytes([1; 32]),
        sent_at_ms: now_ms,
        body: RoomBody::Joined(session(6)),
    })
    .to_vec();
    let mut zero_session = joined(now_ms);
    zero_session[41..45].copy_from_slice(&[0; 4]);
    let cases: Vec<(&str, Vec<u8>, Refusal)> = vec![
        ("older than 30 s", joined(now_ms - 30_001), Refusal::Stale),
        ("future-dated", joined(now_ms + 30_001), Refusal::Stale),
        (
            "another room than the topic's",
            other_room,
            Refusal::Malformed,
        ),
        (
            "an announcement",
            announce(now_ms, 0, &[1]),
            Refusal::Malformed,
        ),
        (
            "truncated",
            joined(now_ms)[..44].to_vec(),
            Refusal::Malformed,
        ),
        ("zero session", zero_session, Refusal::Malformed),
        (
            "over the message limit",
            vec![0x13; MAX_MESSAGE_LEN + 1],
            Refusal::Oversized,
        ),
    ];
    for (name, data, refusal) in &cases {
        let verdict = swarm.inject(0, &key1, &key1, &topic, data);
        assert_eq!(verdict, Verdict::Reject(*refusal), "{name}");
    }
    assert!(
        swarm.take_inbox(0).is_empty(),
        "nothing refused reaches the core"
    );
    // Out of order: an older membership message is dropped without penalty; a signal older
    // than the last membership message still goes through.
    assert_eq!(
        swarm.inject(0, &key1, &key1, &topic, &joined(now_ms - 1)),
        Verdict::Ignore
    );
    assert!(swarm.take_inbox(0).is_empty(), "an older Joined is dropped");
    let signal = room_message(
        now_ms - 2,
        RoomBody::Signal {
            from: session(5),
            to: PeerAddr {
                relay: RelayTag::of(&swarm.nodes[0].key),
                session: session(1),
            },
            blob: b"late but fine",
        },
    );
    assert_eq!(
        swarm.inject(0, &key1, &key1, &topic, &signal),
        Verdict::Ignore
    );
    assert_eq!(swarm.take_inbox(0).len(), 1, "the signal is delivered");
    let stats = swarm.nodes[0].fed.stats();
    assert_eq!(stats.out_of_order, 1);
    assert_eq!(stats.refused.stale, 2);
    assert_eq!(stats.refused.malformed, 4);
    assert_eq!(stats.refused.oversized, 1);
    assert_eq!(swarm.nodes[0].fed.penalty(&key1), 70.0);
    // Not ours at all.
    let verdict = swarm.inject(0, &key1, &key1, "lumamesh/2/other", &joined(now_ms));
    assert_eq!(verdict, Verdict::Reject(Refusal::UnknownTopic));
    assert_eq!(swarm.nodes[0].fed.stats().refused.unknown_topic, 1);
    // A same-millisecond message is not a replay (gossipsub deduplicates true copies).
    let left = room_message(now_ms, RoomBody::Left(session(5)));
    assert_eq!(
        swarm.inject(0, &key1, &key1, &topic, &left),
        Verdict::Ignore
    );
    assert_eq!(swarm.take_inbox(0).len(), 1);
}

#[test]
fn room_traffic_travels_one_hop_and_speaks_only_for_its_author() {
    let mut swarm = triangle();
    swarm.core(
        0,
        MeshOutput::Joined {
            room: ROOM,
            session: session(1),
        },
    );
    swarm.take_inbox(0);
    let (key1, key2) = (swarm.nodes[1].key, swarm.nodes[2].key);
    let topic = room_topic();
    let now_ms = unix_ms(swarm.wall);
    // 1 relays 2's message: not delivered, not penalised.
    let data = room_message(now_ms, RoomBody::Joined(session(9)));
    assert_eq!(
        swarm.inject(0, &key2, &key1, &topic, &data),
        Verdict::Ignore
    );
    assert!(swarm.take_inbox(0).is_empty());
    assert_eq!(swarm.nodes[0].fed.penalty(&key1), 0.0);
    // A relay that took 1's tag cannot speak for 1's sessions or drop them.
    let collider = tag_collider(&key1);
    assert_eq!(RelayTag::of(&collider), RelayTag::of(&key1));
    swarm.nodes[0].fed.connected(swarm.now, collider);
    let verdict = swarm.inject(0, &collider, &collider, &topic, &data);
    assert_eq!(verdict, Verdict::Reject(Refusal::WrongAuthor));
    swarm.nodes[0].fed.disconnected(swarm.now, collider);
    swarm.pump();
    assert!(swarm.take_inbox(0).is_empty(), "no RelayGone for 1's tag");
    assert_eq!(swarm.nodes[0].fed.stats().refused.wrong_author, 1);
    // A signal for a session of another relay is not delivered here.
    let to = PeerAddr {
        relay: RelayTag::of(&key2),
        session: session(1),
    };
    let signal = room_message(
        now_ms,
        RoomBody::Signal {
            from: session(3),
            to,
            blob: b"x",
        },
    );
    assert_eq!(
        swarm.inject(0, &key1, &key1, &topic, &signal),
        Verdict::Ignore
    );
    assert!(swarm.take_inbox(0).is_empty());
}

#[test]
fn flooding_relays_are_rate_limited_while_the_honest_one_gets_through() {
    let mut swarm = FakeSwarm::of(3);
    swarm.connect(0, 1);
    swarm.connect(0, 2);
    swarm.core(
        0,
        MeshOutput::Joined {
            room: ROOM,
            session: session(1),
        },
    );
    swarm.take_inbox(0);
    let honest = secret(5).public();
    swarm.nodes[0].fed.connected(swarm.now, honest);
    let (flood1, flood2) = (swarm.nodes[1].key, swarm.nodes[2].key);
    let topic = room_topic();
    let mut delivered = [0usize; 3];
    let mut limited = [0usize; 3];
    for round in 0..10u32 {
        let at = unix_ms(swarm.wall);
        for (k, key) in [flood1, flood2, honest].iter().enumerate() {
            // The floods send 100 messages a round, the honest relay 5.
            let count = if k == 2 { 5 } else { 100 };
            for n in 0..count {
                let s = session(round * 1_000 + n + 1);
                let data = room_message(at, RoomBody::Joined(s));
                match swarm.inject(0, key, key, &topic, &data) {
                    Verdict::Ignore => {}
                    other => panic!("{other:?}"),
                }
                let got = swarm.take_inbox(0);
                if got.is_empty() {
                    limited[k] += 1;
                } else {
                    delivered[k] += 1;
                }
            }
        }
        swarm.advance(Duration::from_secs(1));
    }
    // Burst 20, then 10 a second: 20 + 9 × 10 for each flood.
    assert_eq!(delivered[0], 110);
    assert_eq!(delivered[1], 110);
    assert_eq!(
        (delivered[2], limited[2]),
        (50, 0),
        "the honest relay is untouched"
    );
    let stats = swarm.nodes[0].fed.stats();
    assert_eq!(stats.refused.rate_limited, (limited[0] + limited[1]) as u64);
    assert!(swarm.nodes[0].fed.penalty(&flood1) > 100.0);
    assert!(swarm.nodes[0].fed.penalty(&flood2) > 100.0);
    assert_eq!(swarm.nodes[0].fed.penalty(&honest), 0.0);
    let scored: Vec<&NodeKey> = swarm.nodes[0].scores.iter().map(|(k, _)| k).collect();
    assert!(scored.contains(&&flood1) && scored.contains(&&flood2));
    assert!(!scored.contains(&&honest));
}

#[test]
fn host_name_entries_and_dial_directory_off_are_not_dialled() {
    let mut host = config(2);
    host.entry = entry(&secret(2), "relay.example.net");
    let mut quiet = config(3);
    quiet.dial_directory = false;
    let mut swarm = FakeSwarm::new(vec![config(0), config(1), host, quiet]);
    for i in [0, 2, 3] {
        swarm.connect(1, i);
    }
    swarm.advance(Duration::from_secs(31));
    for i in 0..4 {
        assert_eq!(swarm.nodes[i].fed.stats().known_relays, 3, "relay {i}");
    }
    let dialled = |swarm: &FakeSwarm, i: usize| {
        let mut keys: Vec<NodeKey> = swarm.nodes[i].dials.iter().map(|(k, _)| *k).collect();
        keys.sort_by_key(|k| *k.as_bytes());
        keys.dedup();
        keys
    };
    let key = |i: usize| swarm.nodes[i].key;
    assert_eq!(dialled(&swarm, 0), vec![key(3)], "not the host name");
    assert!(dialled(&swarm, 3).is_empty(), "dial_directory is off");
    let mut want = vec![key(0), key(3)];
    want.sort_by_key(|k| *k.as_bytes());
    assert_eq!(dialled(&swarm, 2), want);
}

#[test]
fn gossip_bytes_and_messages_are_counted_both_ways() {
    let mut swarm = FakeSwarm::of(2);
    // The announcement at start reached nobody.
    let before = swarm.nodes[0].published.len();
    swarm.connect(0, 1);
    swarm.core(
        0,
        MeshOutput::Joined {
            room: ROOM,
            session: session(1),
        },
    );
    swarm.core(
        1,
        MeshOutput::Joined {
            room: ROOM,
            session: session(2),
        },
    );
    let bytes = |list: &[(Topic, Vec<u8>)]| list.iter().map(|(_, d)| d.len() as u64).sum::<u64>();
    let published = &swarm.nodes[0].published;
    let stats0 = swarm.nodes[0].fed.stats();
    let stats1 = swarm.nodes[1].fed.stats();
    assert_eq!(stats0.gossip_bytes_out, bytes(published));
    assert_eq!(stats0.gossip_messages_out, published.len() as u64);
    // 1 heard everything 0 said after they connected but 0's first join (1 was not in the
    // room yet).
    assert_eq!(
        stats1.gossip_messages_in,
        (published.len() - before - 1) as u64
    );
    let missed = bytes(&published[..before]) + published[before + 1].1.len() as u64;
    assert_eq!(stats1.gossip_bytes_in, bytes(published) - missed);
    assert_eq!((stats0.mesh_peers, stats0.known_relays), (1, 1));
}

#[test]
fn members_snapshot_lists_every_local_session() {
    let mut swarm = FakeSwarm::of(2);
    swarm.connect(0, 1);
    for id in 1..=3 {
        swarm.core(
            0,
            MeshOutput::Joined {
                room: ROOM,
                session: session(id),
            },
        );
    }
    swarm.core(
        0,
        MeshOutput::Joined {
            room: ROOM,
            session: session(2),
        },
    );
    let key1 = swarm.nodes[1].key;
    swarm.nodes[0]
        .fed
        .subscribed(swarm.now, key1, &room_topic());
    let Some(Action::Publish { topic, data }) = swarm.nodes[0].fed.poll() else {
        panic!("no snapshot");
    };
    assert_eq!(topic, Topic::Room(ROOM));
    let MeshMessage::Room(m) = MeshMessage::decode(&data).unwrap() else {
        panic!("not a room message");
    };
    let mut list = Vec::new();
    PeerList::encode_into([1, 2, 3].map(session), &mut list);
    assert_eq!(
        m.body,
        RoomBody::Members(PeerList::from_wire(&list).unwrap())
    );
}
