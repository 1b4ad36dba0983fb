//! Round-trip, vector and robustness tests for the protocol codec. The hex vectors here are
//! the examples printed in `docs/protocol.md`.

use proptest::prelude::{any, prop, prop_assert_eq, prop_oneof, proptest, Just, Strategy};

use super::{
    ClientMessage, CloseCode, DecodeError, ErrorCode, NodeEntries, PeerId, PeerList, RelayMessage,
    RoomId, Welcome, MAX_BLOB_LEN, MAX_FRAME_LEN,
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test vector is hex"))
        .collect()
}

fn room(byte: u8) -> RoomId {
    RoomId::from_bytes([byte; 32])
}

fn peer(value: u32) -> PeerId {
    PeerId::new(value).expect("test peer ids are non-zero")
}

const ROOM_AA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn check_client(message: ClientMessage<'_>, expected_hex: &str) {
    let bytes = message.to_vec();
    assert_eq!(
        hex(&bytes),
        expected_hex.split_whitespace().collect::<String>()
    );
    assert_eq!(ClientMessage::decode(&bytes), Ok(message));
}

fn check_relay(message: RelayMessage<'_>, expected_hex: &str) {
    let bytes = message.to_vec();
    assert_eq!(
        hex(&bytes),
        expected_hex.split_whitespace().collect::<String>()
    );
    assert_eq!(RelayMessage::decode(&bytes), Ok(message));
}

#[test]
fn client_vectors() {
    check_client(ClientMessage::Hello { version: 1 }, "01 01");
    check_client(
        ClientMessage::Join { room: room(0xaa) },
        &format!("02 {ROOM_AA}"),
    );
    check_client(
        ClientMessage::Leave { room: room(0xaa) },
        &format!("03 {ROOM_AA}"),
    );
    let signal = ClientMessage::Signal {
        room: room(0xaa),
        to: peer(2),
        blob: b"hi",
    };
    check_client(signal, &format!("04 {ROOM_AA} 00000002 6869"));
    check_client(ClientMessage::Ping { nonce: 7 }, "05 0000000000000007");
    check_client(ClientMessage::GetNodes, "06");
}

#[test]
fn relay_vectors() {
    let welcome = Welcome {
        version: 1,
        peer: peer(1),
        max_frame: 16384,
        max_room_size: 250,
        max_rooms: 8,
        rate_per_sec: 50,
        idle_timeout_secs: 30,
        entry: &[0xee, 0xee],
    };
    check_relay(
        RelayMessage::Welcome(welcome),
        "81 01 00000001 4000 00fa 08 0032 001e eeee",
    );
    let peers = PeerList::from_wire(&[0, 0, 0, 1, 0, 0, 0, 3]).expect("valid list");
    assert_eq!(peers.iter().collect::<Vec<_>>(), vec![peer(1), peer(3)]);
    check_relay(
        RelayMessage::Room {
            room: room(0xaa),
            peers,
        },
        &format!("82 {ROOM_AA} 00000001 00000003"),
    );
    let joined = RelayMessage::Joined {
        room: room(0xaa),
        peer: peer(2),
    };
    check_relay(joined, &format!("83 {ROOM_AA} 00000002"));
    let left = RelayMessage::Left {
        room: room(0xaa),
        peer: peer(2),
    };
    check_relay(left, &format!("84 {ROOM_AA} 00000002"));
    let signal = RelayMessage::Signal {
        room: room(0xaa),
        from: peer(1),
        blob: b"hi",
    };
    check_relay(signal, &format!("85 {ROOM_AA} 00000001 6869"));
    check_relay(RelayMessage::Pong { nonce: 7 }, "86 0000000000000007");
    let wire = unhex("0002 eeee 0001 dd");
    let nodes = NodeEntries::from_wire(&wire).expect("valid entries");
    assert_eq!(
        nodes.iter().collect::<Vec<_>>(),
        vec![&[0xee, 0xee][..], &[0xdd][..]]
    );
    check_relay(RelayMessage::Nodes(nodes), "87 0002eeee 0001dd");
    let error = RelayMessage::Error {
        code: ErrorCode::RoomFull,
        request: 0x02,
    };
    check_relay(error, "88 07 02");
    let closing = RelayMessage::Closing {
        code: CloseCode::ShuttingDown,
    };
    check_relay(closing, "89 01");
}

#[test]
fn typed_errors() {
    assert_eq!(ClientMessage::decode(&[]), Err(DecodeError::Empty));
    assert_eq!(
        ClientMessage::decode(&[0x7f]),
        Err(DecodeError::UnknownType(0x7f))
    );
    assert_eq!(
        ClientMessage::decode(&[0x02, 1, 2]),
        Err(DecodeError::Truncated { message_type: 2 })
    );
    assert_eq!(
        ClientMessage::decode(&[0x01, 1, 2]),
        Err(DecodeError::TrailingBytes { message_type: 1 })
    );
    let mut zero_peer = vec![0x04];
    zero_peer.extend_from_slice(&[0; 36]);
    assert!(matches!(
        ClientMessage::decode(&zero_peer),
        Err(DecodeError::Invalid {
            field: "peer id",
            ..
        })
    ));
    let big = vec![0x04; MAX_FRAME_LEN + 1];
    assert_eq!(
        ClientMessage::decode(&big),
        Err(DecodeError::TooLarge {
            len: MAX_FRAME_LEN + 1
        })
    );
    // Relay types are not client types and the other way round.
    assert_eq!(
        ClientMessage::decode(&[0x86]),
        Err(DecodeError::UnknownType(0x86))
    );
    assert_eq!(
        RelayMessage::decode(&[0x05]),
        Err(DecodeError::UnknownType(0x05))
    );
    assert!(PeerList::from_wire(&[0, 0, 0]).is_none());
    assert!(NodeEntries::from_wire(&[0, 5, 1]).is_none());
    assert_eq!(ErrorCode::from_u8(200), ErrorCode::Unknown(200));
}

#[test]
fn largest_signal_fits() {
    let blob = vec![0x55; MAX_BLOB_LEN];
    let frame = ClientMessage::Signal {
        room: room(1),
        to: peer(9),
        blob: &blob,
    }
    .to_vec();
    assert_eq!(frame.len(), MAX_FRAME_LEN);
    assert!(ClientMessage::decode(&frame).is_ok());
}

/// An owned client message for proptest (the codec's types borrow).
#[derive(Debug, Clone)]
enum Owned {
    Hello(u8),
    Join([u8; 32]),
    Leave([u8; 32]),
    Signal([u8; 32], u32, Vec<u8>),
    Ping(u64),
    GetNodes,
}

fn owned() -> impl Strategy<Value = Owned> {
    prop_oneof![
        any::<u8>().prop_map(Owned::Hello),
        any::<[u8; 32]>().prop_map(Owned::Join),
        any::<[u8; 32]>().prop_map(Owned::Leave),
        (
            any::<[u8; 32]>(),
            1..=u32::MAX,
            prop::collection::vec(any::<u8>(), 0..512)
        )
            .prop_map(|(r, p, b)| Owned::Signal(r, p, b)),
        any::<u64>().prop_map(Owned::Ping),
        Just(Owned::GetNodes),
    ]
}

fn borrow(o: &Owned) -> ClientMessage<'_> {
    match o {
        Owned::Hello(v) => ClientMessage::Hello { version: *v },
        Owned::Join(r) => ClientMessage::Join {
            room: RoomId::from_bytes(*r),
        },
        Owned::Leave(r) => ClientMessage::Leave {
            room: RoomId::from_bytes(*r),
        },
        Owned::Signal(r, p, b) => ClientMessage::Signal {
            room: RoomId::from_bytes(*r),
            to: peer(*p),
            blob: b,
        },
        Owned::Ping(n) => ClientMessage::Ping { nonce: *n },
        Owned::GetNodes => ClientMessage::GetNodes,
    }
}

proptest! {
    #[test]
    fn client_round_trip(o in owned()) {
        let message = borrow(&o);
        let bytes = message.to_vec();
        prop_assert_eq!(ClientMessage::decode(&bytes), Ok(message));
    }

    #[test]
    fn relay_signal_round_trip(r in any::<[u8; 32]>(), p in 1..=u32::MAX, blob in prop::collection::vec(any::<u8>(), 0..512)) {
        let message = RelayMessage::Signal { room: RoomId::from_bytes(r), from: peer(p), blob: &blob };
        let bytes = message.to_vec();
        prop_assert_eq!(RelayMessage::decode(&bytes), Ok(message));
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
