//! Properties of the codec over generated frames: decoding never panics, whatever decodes
//! re-encodes to the same bytes, and every message decodes back from its encoding.

use proptest::prelude::{any, prop, prop_assert_eq, prop_oneof, proptest, Just, Strategy};

use crate::protocol::{
    AddrList, ClientMessage, CloseCode, DecodeError, ErrorCode, NodeEntries, PeerAddr, PeerId,
    PeerList, RelayMessage, RelayTag, RoomId, Welcome, MAX_BLOB2_LEN, MAX_ENTRY_LEN, MAX_FRAME_LEN,
    MAX_NODES, MAX_ROOM_SIZE_LIMIT,
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

/// A peer address as (tag, session id); tags are drawn from a few relays so that lists mix
/// addresses of one relay and of several, as a federated room does.
fn peer_addr() -> impl Strategy<Value = ([u8; 8], u32)> {
    let tag = prop_oneof![
        Just([0u8; 8]),
        Just([0xff; 8]),
        Just(*b"relay-a\0"),
        any::<[u8; 8]>(),
    ];
    (tag, peer_id())
}

fn addr((tag, session): ([u8; 8], u32)) -> PeerAddr {
    PeerAddr {
        relay: RelayTag::from_bytes(tag),
        session: peer(session),
    }
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
    Signal2([u8; 32], ([u8; 8], u32), Vec<u8>),
}

fn owned_client() -> impl Strategy<Value = OwnedClient> {
    prop_oneof![
        any::<u8>().prop_map(OwnedClient::Hello),
        any::<[u8; 32]>().prop_map(OwnedClient::Join),
        any::<[u8; 32]>().prop_map(OwnedClient::Leave),
        (any::<[u8; 32]>(), peer_id(), blob()).prop_map(|(r, p, b)| OwnedClient::Signal(r, p, b)),
        any::<u64>().prop_map(OwnedClient::Ping),
        Just(OwnedClient::GetNodes),
        (any::<[u8; 32]>(), peer_addr(), blob())
            .prop_map(|(r, a, b)| OwnedClient::Signal2(r, a, b)),
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
        OwnedClient::Signal2(r, a, b) => ClientMessage::Signal2 {
            room: RoomId::from_bytes(*r),
            to: addr(*a),
            blob: b,
        },
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
    Room2([u8; 32], Vec<u8>),
    Joined2([u8; 32], ([u8; 8], u32)),
    Left2([u8; 32], ([u8; 8], u32)),
    Signal2([u8; 32], ([u8; 8], u32), Vec<u8>),
}

fn owned_relay() -> impl Strategy<Value = OwnedRelay> {
    let peers = prop::collection::vec(peer_id(), 0..64).prop_map(|ids| {
        let mut wire = Vec::new();
        PeerList::encode_into(ids.into_iter().map(peer), &mut wire);
        wire
    });
    let addrs = prop::collection::vec(peer_addr(), 0..64).prop_map(|addrs| {
        let mut wire = Vec::new();
        AddrList::encode_into(addrs.into_iter().map(addr), &mut wire);
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
        (any::<[u8; 32]>(), addrs).prop_map(|(r, a)| OwnedRelay::Room2(r, a)),
        (any::<[u8; 32]>(), peer_addr()).prop_map(|(r, a)| OwnedRelay::Joined2(r, a)),
        (any::<[u8; 32]>(), peer_addr()).prop_map(|(r, a)| OwnedRelay::Left2(r, a)),
        (any::<[u8; 32]>(), peer_addr(), blob()).prop_map(|(r, a, b)| OwnedRelay::Signal2(r, a, b)),
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
        OwnedRelay::Room2(r, wire) => RelayMessage::Room2 {
            room: RoomId::from_bytes(*r),
            peers: AddrList::from_wire(wire).expect("encode_into writes a valid list"),
        },
        OwnedRelay::Joined2(r, a) => RelayMessage::Joined2 {
            room: RoomId::from_bytes(*r),
            peer: addr(*a),
        },
        OwnedRelay::Left2(r, a) => RelayMessage::Left2 {
            room: RoomId::from_bytes(*r),
            peer: addr(*a),
        },
        OwnedRelay::Signal2(r, a, b) => RelayMessage::Signal2 {
            room: RoomId::from_bytes(*r),
            from: addr(*a),
            blob: b,
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

/// Issue 13: a room of `MAX_ROOM_SIZE_LIMIT` members is listed in one `Room2` frame, and a
/// list one address longer is a frame every decoder refuses.
#[test]
fn r13_a_full_room2_fits_one_frame() {
    let members = (1..=u32::from(MAX_ROOM_SIZE_LIMIT)).map(|i| addr(([0x3d; 8], i)));
    let mut wire = Vec::new();
    AddrList::encode_into(members, &mut wire);
    let peers = AddrList::from_wire(&wire).expect("encode_into writes a valid list");
    assert_eq!(peers.len(), usize::from(MAX_ROOM_SIZE_LIMIT));
    let room = RoomId::from_bytes([0xaa; 32]);
    let frame = RelayMessage::Room2 { room, peers }.to_vec();
    assert!(frame.len() <= MAX_FRAME_LEN);
    // Not even one more address would fit.
    assert!(frame.len() + PeerAddr::LEN > MAX_FRAME_LEN);
    assert_eq!(
        RelayMessage::decode(&frame),
        Ok(RelayMessage::Room2 { room, peers })
    );
    let mut over = frame.clone();
    addr(([0x3d; 8], u32::MAX)).encode_into(&mut over);
    assert_eq!(
        RelayMessage::decode(&over),
        Err(DecodeError::TooLarge { len: over.len() })
    );
}

/// The largest `Signal2` blob makes a frame of exactly `MAX_FRAME_LEN` bytes, both ways.
#[test]
fn largest_signal2_blob_fills_a_frame() {
    let blob = [0x55; MAX_BLOB2_LEN];
    let (room, a) = (RoomId::from_bytes([1; 32]), addr(([0xd7; 8], 9)));
    let to_relay = ClientMessage::Signal2 {
        room,
        to: a,
        blob: &blob,
    }
    .to_vec();
    let to_client = RelayMessage::Signal2 {
        room,
        from: a,
        blob: &blob,
    }
    .to_vec();
    assert_eq!(to_relay.len(), MAX_FRAME_LEN);
    assert_eq!(to_client.len(), MAX_FRAME_LEN);
    assert!(ClientMessage::decode(&to_relay).is_ok());
    assert!(RelayMessage::decode(&to_client).is_ok());
}

proptest! {
    #[test]
    fn peer_addr_round_trip(a in peer_addr()) {
        let a = addr(a);
        let mut wire = Vec::new();
        a.encode_into(&mut wire);
        prop_assert_eq!(wire.len(), PeerAddr::LEN);
        prop_assert_eq!(PeerAddr::from_wire(&wire), Some(a));
        // One byte short or long is not an address.
        prop_assert_eq!(PeerAddr::from_wire(&wire[1..]), None);
        wire.push(0);
        prop_assert_eq!(PeerAddr::from_wire(&wire), None);
    }

    #[test]
    fn room2_lists_its_addresses_in_order(
        r in any::<[u8; 32]>(),
        addrs in prop::collection::vec(peer_addr(), 0..200),
    ) {
        let addrs: Vec<PeerAddr> = addrs.into_iter().map(addr).collect();
        let mut wire = Vec::new();
        AddrList::encode_into(addrs.iter().copied(), &mut wire);
        let peers = AddrList::from_wire(&wire).expect("encode_into writes a valid list");
        let frame = RelayMessage::Room2 { room: RoomId::from_bytes(r), peers }.to_vec();
        let Ok(RelayMessage::Room2 { peers, .. }) = RelayMessage::decode(&frame) else {
            panic!("a Room2 frame decodes as Room2");
        };
        prop_assert_eq!(peers.iter().collect::<Vec<_>>(), addrs);
    }

    #[test]
    fn addr_list_accepts_exactly_whole_addresses_with_sessions(
        bytes in prop::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..100),
    ) {
        let whole = bytes.len().is_multiple_of(PeerAddr::LEN)
            && bytes.chunks_exact(PeerAddr::LEN).all(|c| c[8..] != [0u8; 4]);
        let list = AddrList::from_wire(&bytes);
        prop_assert_eq!(list.is_some(), whole);
        if let Some(list) = list {
            prop_assert_eq!(list.len(), bytes.len() / PeerAddr::LEN);
            prop_assert_eq!(list.iter().count(), list.len());
        }
    }

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
    fn typed_prefix_never_panics(t in prop_oneof![0x01u8..=0x07, 0x81u8..=0x8d], tail in prop::collection::vec(any::<u8>(), 0..128)) {
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
