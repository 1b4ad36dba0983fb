//! Membership churn (issue 14): many members of one room, each within its own join budget,
//! cannot make the relay tell the room an unbounded stream of joins and leaves; a newcomer
//! still gets in and sees the room.

use std::time::Duration;

use super::harness::Net;
use super::{decode, room};
use crate::core::Limits;
use crate::protocol::{msg_type, ClientMessage, ErrorCode, RelayMessage, PROTOCOL_VERSION};

const V2: u8 = PROTOCOL_VERSION;

/// Frames client `i` holds of message type `kind`.
fn count(net: &Net, i: usize, kind: u8) -> usize {
    let frames = net.clients[i].frames.iter();
    frames.filter(|f| f.first() == Some(&kind)).count()
}

/// Whether client `i`'s last answer to a `Join` let it in (`Room2`) rather than refused it.
fn in_room(net: &Net, i: usize) -> bool {
    let answers = net.clients[i]
        .frames
        .iter()
        .rev()
        .find_map(|f| match decode(f) {
            RelayMessage::Room2 { .. } => Some(true),
            RelayMessage::Error {
                request: msg_type::JOIN,
                ..
            } => Some(false),
            _ => None,
        });
    answers.unwrap_or(false)
}

#[test]
fn fifty_members_churning_one_room_are_bounded_and_a_newcomer_still_sees_it() {
    let (rate, burst) = (2.0, 5.0);
    let limits = Limits {
        room_churn_per_sec: rate,
        room_churn_burst: burst,
        ..Limits::default()
    };
    let mut net = Net::new(limits);
    let r = room(9);
    let observer = net.add_client();
    let observer_peer = net.hello_as(observer, V2);
    net.send(observer, ClientMessage::Join { room: r });
    net.run_until("room", |n| count(n, observer, msg_type::ROOM2) == 1);
    let churners: Vec<usize> = (0..50).map(|_| net.add_client()).collect();
    for &c in &churners {
        net.hello_as(c, V2);
        net.send(c, ClientMessage::Join { room: r });
    }
    // First joins are never refused, however fast they come.
    net.run_until("all in", |n| count(n, observer, msg_type::JOINED2) == 50);
    assert!(churners.iter().all(|&c| in_room(&net, c)));
    net.clients[observer].frames.clear();

    // Each churner leaves and joins again every 2 s: exactly its own join budget's pace,
    // so only the room's budget can hold it (before it, the room heard 1,000 changes).
    let secs = 20.0;
    for _ in 0..10 {
        for &c in &churners {
            if in_room(&net, c) {
                net.send(c, ClientMessage::Leave { room: r });
            }
            net.send(c, ClientMessage::Join { room: r });
        }
        net.run_exactly(Duration::from_secs(2));
    }
    let told = count(&net, observer, msg_type::JOINED2) + count(&net, observer, msg_type::LEFT2);
    // Rejoins and leaves that found a token: at most burst + rate × time; leaves that found
    // none follow a join that was told, or one of the 50 first joins.
    let bound = 2 * (burst + rate * secs) as usize + 50;
    assert!(
        told <= bound,
        "the room was told {told} changes, more than {bound}"
    );
    let stats = net.relay.stats();
    assert!(stats.room_churn_limited > 0, "{stats:?}");
    assert_eq!(
        stats.joins_limited, 0,
        "each churner kept to its own budget"
    );

    // A newcomer gets in at once and sees the room as it is.
    let newcomer = net.add_client();
    let newcomer_peer = net.hello_as(newcomer, V2);
    net.send(newcomer, ClientMessage::Join { room: r });
    let frame = net.next_frame(newcomer);
    let RelayMessage::Room2 { peers, .. } = decode(&frame) else {
        panic!("newcomer refused: {:?}", decode(&frame));
    };
    let present = 1 + churners.iter().filter(|&&c| in_room(&net, c)).count();
    let listed: Vec<_> = peers.iter().collect();
    assert_eq!(listed.len(), present);
    assert!(listed.iter().any(|p| p.session == observer_peer));
    net.run_until("observer told", |n| {
        n.clients[observer].frames.iter().any(|f| {
            matches!(decode(f), RelayMessage::Joined2 { peer, .. } if peer.session == newcomer_peer)
        })
    });
    // The refusals were `RateLimited` answers to `Join`, never anything else.
    for &c in &churners {
        assert!(net.clients[c].frames.iter().all(|f| match decode(f) {
            RelayMessage::Error { code, request } =>
                code == ErrorCode::RateLimited && request == msg_type::JOIN,
            _ => true,
        }));
    }
}
