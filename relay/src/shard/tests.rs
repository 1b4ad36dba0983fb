//! Shards in memory: real str0m clients against two relay cores, the [`Router`] choosing the
//! core of each datagram and the [`Hub`] carrying what one core must tell the other, with
//! fake time and lossless delivery (`core::tests::harness`'s network, with [`Cores`] as
//! its relay side).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::hub::Hub;
use super::{Router, Shards};
use crate::core::tests::harness::{test_config, Net, Side};
use crate::core::{Input, Limits, Output, Relay, Shard, Stats};
use crate::protocol::{
    ClientMessage, CloseCode, ErrorCode, PeerAddr, RelayMessage, RelayTag, RoomId, PROTOCOL_VERSION,
};

/// Two cores behind a router, joined by a hub.
struct Cores {
    relays: Vec<Relay>,
    router: Router,
    hub: Hub,
    tag: RelayTag,
    timeouts: Vec<Option<Instant>>,
    /// The prefixes each shard received datagrams from.
    seen: Vec<HashSet<IpAddr>>,
}

impl Side for Cores {
    /// Hands every shard's mesh output to the hub and the hub's answers to their shards,
    /// then every shard's datagrams to `deliver`.
    fn drain(
        &mut self,
        now: Instant,
        deliver: &mut dyn FnMut(SocketAddr, &[u8]),
    ) -> (bool, Option<Instant>) {
        let mut moved = false;
        let mut out = Vec::new();
        for k in 0..self.relays.len() {
            while let Some(output) = self.relays[k].poll_mesh() {
                moved = true;
                self.hub.handle(k, output, &mut out);
            }
            for (shard, input) in out.drain(..) {
                self.relays[shard].handle_mesh(now, input);
            }
        }
        for (k, relay) in self.relays.iter_mut().enumerate() {
            loop {
                match relay.poll_output() {
                    Output::Transmit(t) => {
                        moved = true;
                        deliver(t.destination, &t.contents);
                    }
                    Output::Timeout(t) => {
                        self.timeouts[k] = Some(t);
                        break;
                    }
                }
            }
        }
        (moved, self.timeouts.iter().flatten().copied().min())
    }

    fn receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8]) {
        let k = self.router.shard_of(source);
        self.seen[k].insert(crate::core::prefix(source.ip()));
        self.relays[k].handle_input(now, Input::Receive { source, contents });
    }

    fn wake(&mut self, now: Instant) {
        for (k, relay) in self.relays.iter_mut().enumerate() {
            if self.timeouts[k].is_some_and(|t| t <= now) {
                relay.handle_input(now, Input::Timeout);
            }
        }
    }
}

/// Two shards of one relay with `limits`, and no clients yet.
fn two_shards(limits: Limits) -> Net<Cores> {
    let (config, entry) = test_config(limits);
    let now = Instant::now();
    let shards = Shards::new(config, 2, now).expect("valid config");
    let tag = RelayTag::of(entry.node_key());
    let cores = Cores {
        relays: shards.relays,
        router: Router::new(2),
        hub: Hub::new(tag, 2),
        tag,
        timeouts: vec![None; 2],
        seen: vec![HashSet::new(); 2],
    };
    Net::on(cores, entry, now)
}

impl Net<Cores> {
    /// The `n`th /24 (10.0.x.0, x from 1) the router gives to `shard`.
    fn prefix_on(&self, shard: usize, n: usize) -> u8 {
        (1..=255u8)
            .filter(|&x| {
                self.relay
                    .router
                    .shard_of(SocketAddr::from(([10, 0, x, 1], 1)))
                    == shard
            })
            .nth(n)
            .expect("the router uses every shard")
    }

    /// Adds a client at host `host` of 10.0.<the first prefix of `shard`>.0.
    fn add_client_in(&mut self, shard: usize, host: u8) -> usize {
        let x = self.prefix_on(shard, 0);
        let n = self.clients.len();
        self.add_client_at(SocketAddr::from((
            Ipv4Addr::new(10, 0, x, host),
            5000 + n as u16,
        )))
    }

    /// Connects client `i` with a version 2 hello; returns its address as the client works
    /// it out (the tag of the entry it dialled, the id in the Welcome).
    fn hello2(&mut self, i: usize) -> PeerAddr {
        let session = self.hello_as(i, PROTOCOL_VERSION);
        let me = PeerAddr {
            relay: self.relay.tag,
            session,
        };
        self.clients[i].me = Some(me);
        me
    }

    /// Reads client `i`'s frames until the members it was told of in `room` (its `Room2`
    /// list, then `Joined2`/`Left2`; its own `Left2` empties the list) are `want`.
    fn members_become(&mut self, i: usize, room: RoomId, want: &[PeerAddr]) {
        let want: HashSet<PeerAddr> = want.iter().copied().collect();
        let me = self.clients[i].me;
        // No list before the client's first `Room2` in the room.
        while self.clients[i].views.get(&room) != Some(&want) {
            let frame = self.next_frame(i);
            let view = self.clients[i].views.entry(room).or_default();
            match RelayMessage::decode(&frame).expect("decodes") {
                RelayMessage::Room2 { room: r, peers } if r == room => view.extend(peers.iter()),
                RelayMessage::Joined2 { room: r, peer } if r == room => {
                    view.insert(peer);
                }
                RelayMessage::Left2 { room: r, peer } if r == room && Some(peer) == me => {
                    view.clear();
                }
                RelayMessage::Left2 { room: r, peer } if r == room => {
                    view.remove(&peer);
                }
                other => panic!("client {i}: unexpected {other:?} while waiting for {want:?}"),
            }
        }
    }

    fn expect_error(&mut self, i: usize, code: ErrorCode) {
        let frame = self.next_frame(i);
        match RelayMessage::decode(&frame).expect("decodes") {
            RelayMessage::Error { code: got, .. } => assert_eq!(got, code),
            other => panic!("expected error {code:?}, got {other:?}"),
        }
    }

    fn stats(&self) -> Stats {
        self.relay.relays.iter().map(Relay::stats).sum()
    }

    fn shard_of(&self, i: usize) -> usize {
        self.relay.router.shard_of(self.clients[i].addr)
    }
}

fn room(b: u8) -> RoomId {
    RoomId::from_bytes([b; 32])
}

#[test]
fn members_on_two_shards_meet_signal_and_leave() {
    let mut net = two_shards(Limits::default());
    let a = net.add_client_in(0, 2);
    let b = net.add_client_in(1, 2);
    let (pa, pb) = (net.hello2(a), net.hello2(b));
    assert_eq!((net.shard_of(a), net.shard_of(b)), (0, 1));
    assert_eq!(Shard::owner(pa.session, 2), 0, "a peer id names its shard");
    assert_eq!(Shard::owner(pb.session, 2), 1);
    assert_eq!(
        (
            net.relay.relays[0].stats().sessions,
            net.relay.relays[1].stats().sessions
        ),
        (1, 1),
        "each shard serves its own prefix"
    );

    let r = room(1);
    net.send(a, ClientMessage::Join { room: r });
    net.members_become(a, r, &[]);
    net.send(b, ClientMessage::Join { room: r });
    net.members_become(b, r, &[pa]);
    net.members_become(a, r, &[pb]);
    assert_eq!(net.stats().rooms, 2, "each shard counts the room it serves");

    // Each signals the other at the address the other worked out for itself.
    let offer = ClientMessage::Signal2 {
        room: r,
        to: pb,
        blob: b"offer",
    };
    net.send(a, offer);
    let frame = net.next_frame(b);
    assert_eq!(
        RelayMessage::decode(&frame).expect("decodes"),
        RelayMessage::Signal2 {
            room: r,
            from: pa,
            blob: b"offer"
        }
    );
    let answer = ClientMessage::Signal2 {
        room: r,
        to: pa,
        blob: b"answer",
    };
    net.send(b, answer);
    let frame = net.next_frame(a);
    assert_eq!(
        RelayMessage::decode(&frame).expect("decodes"),
        RelayMessage::Signal2 {
            room: r,
            from: pb,
            blob: b"answer"
        }
    );

    net.send(b, ClientMessage::Leave { room: r });
    net.members_become(b, r, &[]);
    net.members_become(a, r, &[]);
    // Signals to a member that left are refused, not lost.
    net.send(
        a,
        ClientMessage::Signal2 {
            room: r,
            to: pb,
            blob: b"late",
        },
    );
    net.expect_error(a, ErrorCode::UnknownPeer);
    assert_eq!(net.relay.hub.dropped(), 0);
}

#[test]
fn room_size_is_counted_across_shards() {
    let limits = Limits {
        max_room_size: 2,
        ..Limits::default()
    };
    let mut net = two_shards(limits);
    let a = net.add_client_in(0, 2);
    let b = net.add_client_in(1, 2);
    let c = net.add_client_in(0, 3);
    let d = net.add_client_in(1, 3);
    let (pa, pb) = (net.hello2(a), net.hello2(b));
    net.hello2(c);
    let pd = net.hello2(d);
    let r = room(2);
    net.send(a, ClientMessage::Join { room: r });
    net.members_become(a, r, &[]);
    // b (shard 1) and c (shard 0) ask at once: c's shard has not yet heard of b, but the
    // room is full all the same.
    net.send(b, ClientMessage::Join { room: r });
    net.send(c, ClientMessage::Join { room: r });
    net.members_become(b, r, &[pa]);
    net.expect_error(c, ErrorCode::RoomFull);
    net.send(d, ClientMessage::Join { room: r });
    net.expect_error(d, ErrorCode::RoomFull);
    net.members_become(a, r, &[pb]);
    // A place freed on one shard is free on the other.
    net.send(a, ClientMessage::Leave { room: r });
    net.members_become(a, r, &[]);
    net.members_become(b, r, &[]);
    net.send(d, ClientMessage::Join { room: r });
    net.members_become(d, r, &[pb]);
    net.members_become(b, r, &[pd]);
}

#[test]
fn max_sessions_holds_across_shards() {
    let limits = Limits {
        max_sessions: 2,
        overflow_sessions: 1,
        // c, told it is not served, is still held while d asks.
        close_linger: Duration::from_secs(60),
        ..Limits::default()
    };
    let mut net = two_shards(limits);
    let a = net.add_client_in(0, 2);
    let b = net.add_client_in(0, 3);
    net.hello2(a);
    net.hello2(b);
    // Shard 1 serves nobody yet, but the relay is full: its first client is only told so.
    let c = net.add_client_in(1, 2);
    net.run_until("c is told the relay is full", |n| {
        !n.clients[c].frames.is_empty() || n.clients[c].closed
    });
    let frame = net.next_frame(c);
    assert_eq!(
        RelayMessage::decode(&frame).expect("decodes"),
        RelayMessage::Closing {
            code: CloseCode::RelayFull
        }
    );
    // Past the overflow allowance, a newcomer is not even answered.
    let d = net.add_client_in(1, 3);
    net.run_until("d is refused", |n| n.stats().rejects.relay_full >= 1);
    assert!(!net.clients[d].open);
    let stats = net.stats();
    assert_eq!(stats.handshakes, 3, "a, b, and c to be told");
    assert_eq!(stats.rejects.relay_full_notified, 1);
    assert!(stats.rejects.relay_full >= 1, "d's checks are refused");
    assert_eq!(stats.sessions, 3);
}

#[test]
fn per_prefix_limits_stay_exact() {
    let limits = Limits {
        max_sessions_per_prefix: 2,
        ..Limits::default()
    };
    let mut net = two_shards(limits);
    // Three hosts of one prefix: all on one shard, which counts them all.
    let clients: Vec<usize> = (2..5).map(|host| net.add_client_in(1, host)).collect();
    net.hello2(clients[0]);
    net.hello2(clients[1]);
    net.run_until("the third is refused", |n| {
        n.stats().rejects.prefix_sessions >= 1
    });
    assert!(!net.clients[clients[2]].open);
    // Another prefix on the other shard is not touched by it.
    let other = net.add_client_in(0, 2);
    net.hello2(other);
    assert_eq!(net.stats().sessions, 3);
    assert!(
        net.relay.seen[0].is_disjoint(&net.relay.seen[1]),
        "{:?}",
        net.relay.seen
    );
}

#[test]
fn the_router_keeps_a_prefix_on_one_shard() {
    let router = Router::new(4);
    let at = |s: &str| router.shard_of(s.parse().expect("socket address"));
    for prefix in 0..=255u8 {
        let first = at(&format!("198.51.{prefix}.1:1"));
        for host in [2u8, 100, 255] {
            for port in [1u16, 5000, 65535] {
                assert_eq!(at(&format!("198.51.{prefix}.{host}:{port}")), first);
            }
        }
        assert_eq!(
            at(&format!("[::ffff:198.51.{prefix}.9]:7")),
            first,
            "mapped IPv4"
        );
    }
    let v6 = at("[2001:db8:1:2::1]:1");
    assert_eq!(at("[2001:db8:1:2:ffff:ffff:ffff:ffff]:9"), v6, "one /64");
    let used: HashSet<usize> = (0..=255u8)
        .map(|p| at(&format!("198.51.{p}.1:1")))
        .collect();
    assert_eq!(used.len(), 4, "prefixes spread over every shard");
}
