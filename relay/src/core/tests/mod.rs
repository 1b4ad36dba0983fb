//! Core tests: real str0m clients against the core over an in-memory network with fake time.

mod admission;
mod churn;
mod federation;
mod forwarding;
pub(crate) mod harness;
mod limits;
mod mesh_fuzz;
mod mesh_input;
mod router;
mod versions;

use std::net::SocketAddr;
use std::time::Duration;

use str0m::ice::{StunMessage, TransId};

use crate::core::{Input, Limits, Output};
use crate::protocol::{
    ClientMessage, CloseCode, ErrorCode, RelayMessage, RoomId, PROTOCOL_VERSION,
};
use harness::Net;

fn room(b: u8) -> RoomId {
    RoomId::from_bytes([b; 32])
}

fn decode(frame: &[u8]) -> RelayMessage<'_> {
    RelayMessage::decode(frame).expect("relay frames decode")
}

fn expect_error(net: &mut Net, i: usize, code: ErrorCode) {
    let frame = net.next_frame(i);
    match decode(&frame) {
        RelayMessage::Error { code: got, .. } => assert_eq!(got, code),
        other => panic!("expected error {code:?}, got {other:?}"),
    }
}

fn expect_frame(net: &mut Net, i: usize, expected: &RelayMessage<'_>) {
    let frame = net.next_frame(i);
    assert_eq!(&decode(&frame), expected);
}

fn expect_closing(net: &mut Net, i: usize, code: CloseCode) {
    loop {
        let frame = net.next_frame(i);
        match decode(&frame) {
            RelayMessage::Closing { code: got } => {
                assert_eq!(got, code);
                return;
            }
            RelayMessage::Error { .. } => continue,
            other => panic!("expected closing {code:?}, got {other:?}"),
        }
    }
}

#[test]
fn two_peers_join_signal_leave() {
    let mut net = Net::new(Limits::default());
    let a = net.add_client();
    let b = net.add_client();
    let pa = net.hello(a);
    let pb = net.hello(b);
    assert_ne!(pa, pb);
    assert_eq!(net.relay.stats().handshakes, 2);

    net.send(a, ClientMessage::Join { room: room(1) });
    let f = net.next_frame(a);
    assert!(matches!(decode(&f), RelayMessage::Room { peers, .. } if peers.is_empty()));

    net.send(b, ClientMessage::Join { room: room(1) });
    let f = net.next_frame(b);
    match decode(&f) {
        RelayMessage::Room { room: r, peers } => {
            assert_eq!(r, room(1));
            assert_eq!(peers.iter().collect::<Vec<_>>(), vec![pa]);
        }
        other => panic!("expected room, got {other:?}"),
    }
    let f = net.next_frame(a);
    assert_eq!(
        decode(&f),
        RelayMessage::Joined {
            room: room(1),
            peer: pb
        }
    );

    net.send(
        b,
        ClientMessage::Signal {
            room: room(1),
            to: pa,
            blob: b"offer",
        },
    );
    let f = net.next_frame(a);
    assert_eq!(
        decode(&f),
        RelayMessage::Signal {
            room: room(1),
            from: pb,
            blob: b"offer"
        }
    );
    net.send(
        a,
        ClientMessage::Signal {
            room: room(1),
            to: pb,
            blob: b"answer",
        },
    );
    let f = net.next_frame(b);
    assert_eq!(
        decode(&f),
        RelayMessage::Signal {
            room: room(1),
            from: pa,
            blob: b"answer"
        }
    );

    // Signals never cross rooms.
    net.send(
        a,
        ClientMessage::Signal {
            room: room(2),
            to: pb,
            blob: b"x",
        },
    );
    expect_error(&mut net, a, ErrorCode::NotInRoom);

    net.send(a, ClientMessage::Ping { nonce: 42 });
    let f = net.next_frame(a);
    assert_eq!(decode(&f), RelayMessage::Pong { nonce: 42 });

    net.send(a, ClientMessage::GetNodes);
    let f = net.next_frame(a);
    match decode(&f) {
        RelayMessage::Nodes(nodes) => {
            let entries: Vec<_> = nodes.iter().collect();
            assert_eq!(entries, vec![net.entry.to_bytes().as_slice()]);
        }
        other => panic!("expected nodes, got {other:?}"),
    }

    net.send(b, ClientMessage::Leave { room: room(1) });
    let f = net.next_frame(b);
    assert_eq!(
        decode(&f),
        RelayMessage::Left {
            room: room(1),
            peer: pb
        }
    );
    let f = net.next_frame(a);
    assert_eq!(
        decode(&f),
        RelayMessage::Left {
            room: room(1),
            peer: pb
        }
    );

    let stats = net.relay.stats();
    assert_eq!(stats.sessions, 2);
    assert_eq!(stats.rooms, 1);
    assert_eq!(stats.signals_forwarded, 2);
}

#[test]
fn requests_before_hello_and_bad_versions() {
    let mut net = Net::new(Limits::default());
    let a = net.add_client();
    net.connect(a);
    net.send(a, ClientMessage::Join { room: room(1) });
    expect_error(&mut net, a, ErrorCode::HelloRequired);
    net.send(a, ClientMessage::Hello { version: 99 });
    expect_error(&mut net, a, ErrorCode::UnsupportedVersion);
    expect_closing(&mut net, a, CloseCode::UnsupportedVersion);
    net.run_until("session removed", |n| n.relay.stats().sessions == 0);
}

fn stun_request(username: &str, pwd: &str) -> Vec<u8> {
    binding_request(username, pwd, false)
}

/// An authenticated binding request from a controlling agent; `nominate` adds USE-CANDIDATE
/// (with a high priority, as a browser's nomination of its best pair).
fn binding_request(username: &str, pwd: &str, nominate: bool) -> Vec<u8> {
    let provider = str0m::crypto::from_feature_flags();
    let hmac = provider.sha1_hmac_provider;
    let prio = if nominate { u32::MAX >> 1 } else { 1 };
    let message = StunMessage::binding_request(username, TransId::new(), true, 1, prio, nominate);
    let mut buf = vec![0; 1500];
    let len = message
        .to_bytes(Some(pwd.as_bytes()), &mut buf, |k, p| hmac.sha1_hmac(k, p))
        .expect("stun encodes");
    buf.truncate(len);
    buf
}

#[test]
fn unknown_addresses_get_no_reply() {
    let mut net = Net::new(Limits::default());
    let pwd = net.entry.pwd().as_str().to_owned();
    let source: SocketAddr = "10.9.9.9:4000".parse().expect("addr");
    let packets = [
        vec![],
        vec![0x16; 100],
        vec![0u8; 20],
        vec![0xff; 1400],
        stun_request("nope:abcd", &pwd),
        stun_request("luma:abcd", "wrongwrongwrongwrongwrong"),
        stun_request("luma", &pwd),
    ];
    for p in &packets {
        let input = Input::Receive {
            source,
            contents: p,
        };
        net.relay.handle_input(net.now, input);
        assert!(
            matches!(net.relay.poll_output(), Output::Timeout(_)),
            "replied to {p:?}"
        );
    }
    let stats = net.relay.stats();
    assert_eq!(stats.sessions, 0);
    assert_eq!(stats.rejects.unauthenticated, packets.len() as u64);

    // The right credentials do create a session (and get an answer); the same browser ufrag
    // from another of the browser's addresses reaches the same session.
    let good = stun_request("luma:abcd", &pwd);
    net.relay.handle_input(
        net.now,
        Input::Receive {
            source,
            contents: &good,
        },
    );
    assert!(matches!(net.relay.poll_output(), Output::Transmit(_)));
    assert_eq!(net.relay.stats().sessions, 1);
    let other: SocketAddr = "10.9.9.10:4001".parse().expect("addr");
    let again = stun_request("luma:abcd", &pwd);
    net.relay.handle_input(
        net.now,
        Input::Receive {
            source: other,
            contents: &again,
        },
    );
    let mut replied_to_other = false;
    while let Output::Transmit(t) = net.relay.poll_output() {
        replied_to_other |= t.destination == other;
    }
    assert!(replied_to_other);
    assert_eq!(net.relay.stats().sessions, 1);
    assert_eq!(net.relay.stats().sessions_created, 1);
}

#[test]
fn vanished_client_times_out_and_peers_get_left() {
    let mut net = Net::new(Limits::default());
    let a = net.add_client();
    let b = net.add_client();
    net.hello(a);
    let pb = net.hello(b);
    net.send(a, ClientMessage::Join { room: room(4) });
    net.send(b, ClientMessage::Join { room: room(4) });
    net.run_until("joined", |n| n.clients[a].frames.len() >= 2);
    net.clients[a].frames.clear();
    net.clients[b].silent = true;
    // a keeps pinging so only b goes idle.
    let has_left = |n: &Net| {
        n.clients[a]
            .frames
            .iter()
            .any(|f| matches!(decode(f), RelayMessage::Left { .. }))
    };
    for _ in 0..300 {
        if has_left(&net) {
            break;
        }
        net.send(a, ClientMessage::Ping { nonce: 0 });
        net.run_for(Duration::from_secs(1));
    }
    let left = net.clients[a].frames.iter().find_map(|f| match decode(f) {
        RelayMessage::Left { room, peer } => Some((room, peer)),
        _ => None,
    });
    assert_eq!(left, Some((room(4), pb)));
    assert_eq!(net.relay.stats().sessions, 1);
    assert_eq!(net.relay.stats().rooms, 1);
    assert_eq!(net.relay.stats().sessions_timed_out, 1);
}

#[test]
fn shutdown_tells_every_client() {
    let mut net = Net::new(Limits::default());
    let a = net.add_client();
    let b = net.add_client();
    net.hello(a);
    net.hello(b);
    let now = net.now;
    net.relay.shutdown(now);
    expect_closing(&mut net, a, CloseCode::ShuttingDown);
    expect_closing(&mut net, b, CloseCode::ShuttingDown);
    net.run_until("relay empty", |n| n.relay.is_empty());
    assert_eq!(net.relay.stats().sessions_open, 0);
}

#[test]
fn hello_twice_is_an_error() {
    let mut net = Net::new(Limits::default());
    let a = net.add_client();
    net.hello(a);
    net.send(
        a,
        ClientMessage::Hello {
            version: PROTOCOL_VERSION,
        },
    );
    expect_error(&mut net, a, ErrorCode::DuplicateHello);
}

#[test]
fn quiet_session_is_closed_as_idle() {
    let limits = Limits {
        idle_timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    let mut net = Net::new(limits);
    let a = net.add_client();
    let b = net.add_client();
    net.hello(a);
    let pb = net.hello(b);
    net.send(a, ClientMessage::Join { room: room(5) });
    net.send(b, ClientMessage::Join { room: room(5) });
    net.run_until("joined", |n| n.clients[a].frames.len() >= 2);
    net.clients[a].frames.clear();
    // a pings every second, b says nothing (its ICE consent stays fresh).
    let mut b_closed = false;
    for _ in 0..60 {
        net.send(a, ClientMessage::Ping { nonce: 0 });
        net.run_for(Duration::from_secs(1));
        b_closed = net.clients[b].frames.iter().any(|f| {
            decode(f)
                == RelayMessage::Closing {
                    code: CloseCode::IdleTimeout,
                }
        });
        if b_closed {
            break;
        }
    }
    assert!(b_closed, "b was never told it idled out");
    let left = RelayMessage::Left {
        room: room(5),
        peer: pb,
    };
    assert!(net.clients[a].frames.iter().any(|f| decode(f) == left));
    net.run_until("b removed", |n| n.relay.stats().sessions == 1);
    assert_eq!(net.relay.stats().sessions_timed_out, 1);
}

/// A tiny deterministic generator for garbage (xorshift64*).
fn garbage(seed: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed >> 12;
            *seed ^= *seed << 25;
            *seed ^= *seed >> 27;
            (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

#[test]
fn garbage_datagrams_never_hurt() {
    let mut net = Net::new(Limits::default());
    let a = net.add_client();
    net.hello(a);
    let client_addr = net.clients[a].addr;
    let stranger: SocketAddr = "10.7.7.7:7777".parse().expect("addr");
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    for i in 0..2000 {
        let len = (i * 7) % 1500;
        let mut datagram = garbage(&mut seed, len);
        // Steer some into each demultiplexing range (STUN 0-3, DTLS 20-63, other).
        if let Some(first) = datagram.first_mut() {
            *first = [0, 1, 22, 23, 64, 200][i % 6];
        }
        let now = net.now;
        let input = Input::Receive {
            source: stranger,
            contents: &datagram,
        };
        net.relay.handle_input(now, input);
        assert!(matches!(net.relay.poll_output(), Output::Timeout(_)));
        let input = Input::Receive {
            source: client_addr,
            contents: &datagram,
        };
        net.relay.handle_input(now, input);
    }
    assert_eq!(net.relay.stats().sessions, 1);
    net.send(a, ClientMessage::Ping { nonce: 9 });
    let f = net.next_frame(a);
    assert_eq!(decode(&f), RelayMessage::Pong { nonce: 9 });
}

#[test]
fn unusable_certificate_fails_at_start() {
    let identity = keystore::RelayIdentity::generate().expect("identity");
    let entry = identity.entry(
        "127.0.0.1".parse().expect("address"),
        3478.try_into().expect("port"),
        bootstrap_codec::IceUfrag::default_relay(),
    );
    let addr = "127.0.0.1:3478".parse().expect("addr");
    let mut config = crate::core::RelayConfig::new(&identity, &entry, addr);
    config.key_pkcs8_der = vec![1, 2, 3];
    let result = crate::core::Relay::new(config, std::time::Instant::now());
    assert!(matches!(result, Err(crate::core::ConfigError::Certificate)));
}

#[test]
fn client_close_is_noticed_at_once() {
    let mut net = Net::new(Limits::default());
    let a = net.add_client();
    let b = net.add_client();
    net.hello(a);
    let pb = net.hello(b);
    net.send(a, ClientMessage::Join { room: room(6) });
    net.send(b, ClientMessage::Join { room: room(6) });
    net.run_until("joined", |n| n.clients[a].frames.len() >= 2);
    net.clients[a].frames.clear();
    let before = net.now;
    net.clients[b].conn.close();
    let f = net.next_frame(a);
    assert_eq!(
        decode(&f),
        RelayMessage::Left {
            room: room(6),
            peer: pb
        }
    );
    // Well before any consent or idle timeout.
    assert!(net.now.duration_since(before) < Duration::from_secs(5));
    assert_eq!(net.relay.stats().sessions, 1);
    assert_eq!(net.relay.stats().sessions_timed_out, 0);
}
