//! Properties of the codec over generated frames: decoding never panics, whatever decodes
//! re-encodes to the same bytes, and every message decodes back from its encoding.

use proptest::prelude::{any, prop, prop_assert_eq, prop_oneof, proptest, Just, Strategy};

use crate::protocol::{
    ClientMessage, CloseCode, ErrorCode, NodeEntries, PeerId, PeerList, RelayMessage, RoomId,
    Welcome, MAX_ENTRY_LEN, MAX_FRAME_LEN, MAX_NODES,
};

fn peer(value: u32) -> PeerId {
    PeerId::new(value).expect("strategies draw peer ids from 1..")
}

fn peer_id() -> impl Strategy<Value = u32> {
    1..=u32::MAX
}

fn blob() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..512)
}

/// An owned client message (the codec's types borrow).
#[derive(Debug, Clone)]
enum OwnedClient {
    Hello(u8),
    Join([u8; 32]),
    Leave([u8; 32]),
    Signal([u8; 32], u32, Vec<u8>),
    Ping(u64),
    GetNodes,
}

fn owned_client() -> impl Strategy<Value = OwnedClient> {
    prop_oneof![
        any::<u8>().prop_map(OwnedClient::Hello),
        any::<[u8; 32]>().prop_map(OwnedClient::Join),
        any::<[u8; 32]>().prop_map(OwnedClient::Leave),
        (any::<[u8; 32]>(), peer_id(), blob()).prop_map(|(r, p, b)| OwnedClient::Signal(r, p, b)),
        any::<u64>().prop_map(OwnedClient::Ping),
        Just(OwnedClient::GetNodes),
    ]
}

fn client(o: &OwnedClient) -> ClientMessage<'_> {
    match o {
        OwnedClient::Hello(v) => ClientMessage::Hello { version: *v },
        OwnedClient::Join(r) => ClientMessage::Join {
            room: RoomId::from_bytes(*r),
        },
        OwnedClient::Leave(r) => ClientMessage::Leave {
            room: RoomId::from_bytes(*r),
        },
        OwnedClient::Signal(r, p, b) => ClientMessage::Signal {
            room: RoomId::from_bytes(*r),
            to: peer(*p),
            blob: b,
        },
        OwnedClient::Ping(n) => ClientMessage::Ping { nonce: *n },
        OwnedClient::GetNodes => ClientMessage::GetNodes,
    }
}

/// An owned relay message; lists and entries are kept in their wire form.
#[derive(Debug, Clone)]
enum OwnedRelay {
    Welcome([u8; 4], u32, Vec<u8>),
    Room([u8; 32], Vec<u8>),
    Joined([u8; 32], u32),
    Left([u8; 32], u32),
    Signal([u8; 32], u32, Vec<u8>),
    Pong(u64),
    Nodes(Vec<u8>),
    Error(u8, u8),
    Closing(u8),
}

fn owned_relay() -> impl Strategy<Value = OwnedRelay> {
    let peers = prop::collection::vec(peer_id(), 0..64).prop_map(|ids| {
        let mut wire = Vec::new();
        PeerList::encode_into(ids.into_iter().map(peer), &mut wire);
        wire
    });
    let entries = prop::collection::vec(
        prop::collection::vec(any::<u8>(), 0..=MAX_ENTRY_LEN + 1),
        0..=MAX_NODES + 1,
    )
    .prop_map(|entries| {
        let mut wire = Vec::new();
        NodeEntries::encode_into(entries.iter().map(Vec::as_slice), &mut wire);
        wire
    });
    prop_oneof![
        (
            any::<[u8; 4]>(),
            peer_id(),
            prop::collection::vec(any::<u8>(), 0..=MAX_ENTRY_LEN)
        )
            .prop_map(|(s, p, e)| OwnedRelay::Welcome(s, p, e)),
        (any::<[u8; 32]>(), peers).prop_map(|(r, p)| OwnedRelay::Room(r, p)),
        (any::<[u8; 32]>(), peer_id()).prop_map(|(r, p)| OwnedRelay::Joined(r, p)),
        (any::<[u8; 32]>(), peer_id()).prop_map(|(r, p)| OwnedRelay::Left(r, p)),
        (any::<[u8; 32]>(), peer_id(), blob()).prop_map(|(r, p, b)| OwnedRelay::Signal(r, p, b)),
        any::<u64>().prop_map(OwnedRelay::Pong),
        entries.prop_map(OwnedRelay::Nodes),
        (any::<u8>(), any::<u8>()).prop_map(|(c, r)| OwnedRelay::Error(c, r)),
        any::<u8>().prop_map(OwnedRelay::Closing),
    ]
}

fn relay(o: &OwnedRelay) -> RelayMessage<'_> {
    match o {
        OwnedRelay::Welcome([v, m, s, t], p, e) => RelayMessage::Welcome(Welcome {
            version: *v,
            peer: peer(*p),
            max_frame: u16::from(*m) << 8,
            max_room_size: u16::from(*s),
            max_rooms: *t,
            rate_per_sec: u16::from(*s) + 1,
            idle_timeout_secs: u16::from(*t) + 1,
            entry: e,
        }),
        OwnedRelay::Room(r, wire) => RelayMessage::Room {
            room: RoomId::from_bytes(*r),
            peers: PeerList::from_wire(wire).expect("encode_into writes a valid list"),
        },
        OwnedRelay::Joined(r, p) => RelayMessage::Joined {
            room: RoomId::from_bytes(*r),
            peer: peer(*p),
        },
        OwnedRelay::Left(r, p) => RelayMessage::Left {
            room: RoomId::from_bytes(*r),
            peer: peer(*p),
        },
        OwnedRelay::Signal(r, p, b) => RelayMessage::Signal {
            room: RoomId::from_bytes(*r),
            from: peer(*p),
            blob: b,
        },
        OwnedRelay::Pong(n) => RelayMessage::Pong { nonce: *n },
        OwnedRelay::Nodes(wire) => RelayMessage::Nodes(
            NodeEntries::from_wire(wire).expect("encode_into writes valid entries"),
        ),
        OwnedRelay::Error(c, r) => RelayMessage::Error {
            code: ErrorCode::from_u8(*c),
            request: *r,
        },
        OwnedRelay::Closing(c) => RelayMessage::Closing {
            code: CloseCode::from_u8(*c),
        },
    }
}

/// Regression (issue 12): 16 entries of the largest size once made a `Nodes` frame of 16417
/// bytes, which every decoder refuses.
#[test]
fn r12_nodes_stay_within_a_frame() {
    let entry = [0xee; MAX_ENTRY_LEN];
    let mut wire = Vec::new();
    NodeEntries::encode_into([&entry[..]; MAX_NODES], &mut wire);
    let nodes = NodeEntries::from_wire(&wire).expect("encode_into writes valid entries");
    assert_eq!(nodes.iter().count(), 15);
    let frame = RelayMessage::Nodes(nodes).to_vec();
    assert!(frame.len() <= MAX_FRAME_LEN);
    assert_eq!(RelayMessage::decode(&frame), Ok(RelayMessage::Nodes(nodes)));
}

proptest! {
    #[test]
    fn client_round_trip(o in owned_client()) {
        let message = client(&o);
        let frame = message.to_vec();
        prop_assert_eq!(ClientMessage::decode(&frame), Ok(message));
    }

    #[test]
    fn relay_round_trip(o in owned_relay()) {
        let message = relay(&o);
        let frame = message.to_vec();
        prop_assert_eq!(RelayMessage::decode(&frame), Ok(message));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        // Whatever decodes must re-encode to the same bytes.
        if let Ok(m) = ClientMessage::decode(&bytes) {
            prop_assert_eq!(m.to_vec(), bytes.clone());
        }
        if let Ok(m) = RelayMessage::decode(&bytes) {
            prop_assert_eq!(m.to_vec(), bytes.clone());
        }
    }

    #[test]
    fn typed_prefix_never_panics(t in prop_oneof![0x01u8..=0x06, 0x81u8..=0x89], tail in prop::collection::vec(any::<u8>(), 0..128)) {
        let mut bytes = vec![t];
        bytes.extend_from_slice(&tail);
        if let Ok(m) = ClientMessage::decode(&bytes) {
            prop_assert_eq!(m.to_vec(), bytes.clone());
        }
        if let Ok(m) = RelayMessage::decode(&bytes) {
            prop_assert_eq!(m.to_vec(), bytes.clone());
        }
    }
}
