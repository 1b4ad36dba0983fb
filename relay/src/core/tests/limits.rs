//! Limits: room size, rooms per session, MAX_SESSIONS, malformed frames, rate limits.

use std::time::Duration;

use super::harness::Net;
use super::{decode, expect_closing, expect_error, room};
use crate::core::Limits;
use crate::protocol::{ClientMessage, CloseCode, ErrorCode, RelayMessage};

#[test]
fn room_full_and_too_many_rooms() {
    let limits = Limits {
        max_room_size: 2,
        max_rooms_per_session: 1,
        ..Limits::default()
    };
    let mut net = Net::new(limits);
    let ids: Vec<usize> = (0..3).map(|_| net.add_client()).collect();
    for &i in &ids {
        net.hello(i);
        net.send(i, ClientMessage::Join { room: room(7) });
    }
    net.run_until("three answers", |n| {
        ids.iter().all(|&i| !n.clients[i].frames.is_empty())
    });
    let last = net.clients[ids[2]].frames.back().cloned().expect("a frame");
    assert_eq!(
        decode(&last),
        RelayMessage::Error {
            code: ErrorCode::RoomFull,
            request: 0x02
        }
    );
    net.clients[ids[0]].frames.clear();
    net.send(ids[0], ClientMessage::Join { room: room(8) });
    expect_error(&mut net, ids[0], ErrorCode::TooManyRooms);
    net.send(ids[0], ClientMessage::Join { room: room(7) });
    expect_error(&mut net, ids[0], ErrorCode::AlreadyJoined);
}

#[test]
fn max_sessions_tells_the_client() {
    let limits = Limits {
        max_sessions: 1,
        overflow_sessions: 1,
        ..Limits::default()
    };
    let mut net = Net::new(limits);
    let a = net.add_client();
    let b = net.add_client();
    let c = net.add_client();
    net.hello(a);
    net.connect(b);
    expect_closing(&mut net, b, CloseCode::RelayFull);
    assert_eq!(net.relay.stats().rejects.relay_full_notified, 1);
    // While b lingers, c finds even the overflow used: no reply at all.
    net.run_for(Duration::from_millis(100));
    assert!(!net.clients[c].open);
    assert!(net.relay.stats().rejects.relay_full >= 1);
    // After b is gone, a's session still works.
    net.run_until("b removed", |n| {
        n.relay.stats().sessions == 1 || n.clients[c].open
    });
    net.send(a, ClientMessage::Ping { nonce: 1 });
    let f = net.next_frame(a);
    assert_eq!(decode(&f), RelayMessage::Pong { nonce: 1 });
}

#[test]
fn malformed_frames_close_only_that_session() {
    let mut net = Net::new(Limits::default());
    let a = net.add_client();
    let b = net.add_client();
    net.hello(a);
    let pb = net.hello(b);
    net.send(a, ClientMessage::Join { room: room(3) });
    net.send(b, ClientMessage::Join { room: room(3) });
    net.run_until("joined", |n| {
        n.clients[a].frames.len() >= 2 && !n.clients[b].frames.is_empty()
    });
    net.clients[a].frames.clear();
    net.clients[b].frames.clear();
    net.send_raw(b, &[0x7e, 1, 2, 3]);
    expect_error(&mut net, b, ErrorCode::UnknownType);
    net.send_raw(b, &[0x02, 1]);
    expect_error(&mut net, b, ErrorCode::Malformed);
    net.send_raw(b, &vec![0x04; 20_000]);
    expect_error(&mut net, b, ErrorCode::TooLarge);
    for _ in 0..10 {
        net.send_raw(b, &[0x00]);
    }
    expect_closing(&mut net, b, CloseCode::TooManyErrors);
    // a sees b leave immediately and keeps working.
    let f = net.next_frame(a);
    assert_eq!(
        decode(&f),
        RelayMessage::Left {
            room: room(3),
            peer: pb
        }
    );
    net.send(a, ClientMessage::Ping { nonce: 5 });
    let f = net.next_frame(a);
    assert_eq!(decode(&f), RelayMessage::Pong { nonce: 5 });
    assert_eq!(net.relay.stats().sessions_kicked, 1);
}

#[test]
fn message_rate_limit() {
    let limits = Limits {
        messages_per_sec: 1,
        message_burst: 3,
        ..Limits::default()
    };
    let mut net = Net::new(limits);
    let a = net.add_client();
    net.hello(a);
    for n in 0..4 {
        net.send(a, ClientMessage::Ping { nonce: n });
    }
    net.run_until("four answers", |n| n.clients[a].frames.len() >= 4);
    // Hello took a token from the burst of 3: the first ping passes, the last does not.
    let first = net.clients[a].frames.pop_front().expect("a frame");
    assert_eq!(decode(&first), RelayMessage::Pong { nonce: 0 });
    let last = net.clients[a].frames.pop_back().expect("a frame");
    assert_eq!(
        decode(&last),
        RelayMessage::Error {
            code: ErrorCode::RateLimited,
            request: 0x05
        }
    );
    assert!(net.relay.stats().rejects.message_rate_limited >= 1);
}

#[test]
fn new_sessions_are_rate_limited_per_ip() {
    let limits = Limits {
        new_sessions_per_ip_per_sec: 0.001,
        new_session_burst_per_ip: 1.0,
        ..Limits::default()
    };
    let mut net = Net::new(limits);
    let a = net.add_client_on(9);
    let b = net.add_client_on(9);
    net.connect(a);
    net.run_for(Duration::from_secs(2));
    assert!(!net.clients[b].open);
    assert_eq!(net.relay.stats().sessions, 1);
    assert!(net.relay.stats().rejects.ip_rate_limited >= 1);
}

#[test]
fn handshakes_are_capped() {
    let limits = Limits {
        max_handshaking: 1,
        ..Limits::default()
    };
    let mut net = Net::new(limits);
    let a = net.add_client();
    let b = net.add_client();
    // Both start at once; only one may handshake, the other is refused until it finishes.
    net.run_until("one open", |n| n.clients[a].open || n.clients[b].open);
    assert!(net.relay.stats().rejects.too_many_handshakes >= 1);
    // The refused client retries its checks and gets in once the first is open.
    net.run_until("both open", |n| n.clients[a].open && n.clients[b].open);
    assert_eq!(net.relay.stats().sessions_handshaking, 0);
    assert_eq!(net.relay.stats().sessions_open, 2);
}
