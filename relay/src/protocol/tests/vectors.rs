//! Every frame of `fixtures/protocol/layer1.json` both ways: valid frames decode to their
//! fields and re-encode to the same bytes, every proper prefix of one is refused unless it is
//! itself a frame, and every invalid frame is refused with the error the file names.

use serde_json::{json, Value};

use super::{bytes, Direction, ErrorKind, VectorFile};
use crate::protocol::{
    msg_type, ClientMessage, CloseCode, DecodeError, ErrorCode, PeerAddr, RelayMessage,
    MAX_BLOB2_LEN, MAX_BLOB_LEN, MAX_ENTRY_LEN, MAX_FRAME_LEN, MAX_NODES, MAX_ROOM_SIZE_LIMIT,
    PROTOCOL_VERSION,
};

/// A decoded frame: its type name and its fields in the file's form.
type Fields = (&'static str, Value);

/// A byte field as the file's fields compare: a list of numbers.
fn byte_list(bytes: &[u8]) -> Value {
    json!(bytes)
}

/// A peer address as the file writes it: 24 lower-case hex digits (tag, then session id).
fn addr(a: &PeerAddr) -> Value {
    let mut wire = Vec::with_capacity(PeerAddr::LEN);
    a.encode_into(&mut wire);
    json!(hex::encode(wire))
}

fn client_fields(m: &ClientMessage<'_>) -> Fields {
    match m {
        ClientMessage::Hello { version } => ("Hello", json!({ "version": version })),
        ClientMessage::Join { room } => ("Join", json!({ "room": byte_list(room.as_bytes()) })),
        ClientMessage::Leave { room } => ("Leave", json!({ "room": byte_list(room.as_bytes()) })),
        ClientMessage::Signal { room, to, blob } => (
            "Signal",
            json!({ "room": byte_list(room.as_bytes()), "to": to.get(), "blob": byte_list(blob) }),
        ),
        ClientMessage::Ping { nonce } => ("Ping", json!({ "nonce": nonce })),
        ClientMessage::GetNodes => ("GetNodes", json!({})),
        ClientMessage::Signal2 { room, to, blob } => (
            "Signal2",
            json!({ "room": byte_list(room.as_bytes()), "to": addr(to), "blob": byte_list(blob) }),
        ),
    }
}

fn relay_fields(m: &RelayMessage<'_>) -> Fields {
    match m {
        RelayMessage::Welcome(w) => (
            "Welcome",
            json!({
                "version": w.version,
                "peer": w.peer.get(),
                "max_frame": w.max_frame,
                "max_room_size": w.max_room_size,
                "max_rooms": w.max_rooms,
                "rate_per_sec": w.rate_per_sec,
                "idle_timeout_secs": w.idle_timeout_secs,
                "entry": byte_list(w.entry),
            }),
        ),
        RelayMessage::Room { room, peers } => {
            let peers: Vec<u32> = peers.iter().map(|p| p.get()).collect();
            (
                "Room",
                json!({ "room": byte_list(room.as_bytes()), "peers": peers }),
            )
        }
        RelayMessage::Joined { room, peer } => (
            "Joined",
            json!({ "room": byte_list(room.as_bytes()), "peer": peer.get() }),
        ),
        RelayMessage::Left { room, peer } => (
            "Left",
            json!({ "room": byte_list(room.as_bytes()), "peer": peer.get() }),
        ),
        RelayMessage::Signal { room, from, blob } => (
            "Signal",
            json!({ "room": byte_list(room.as_bytes()), "from": from.get(), "blob": byte_list(blob) }),
        ),
        RelayMessage::Pong { nonce } => ("Pong", json!({ "nonce": nonce })),
        RelayMessage::Nodes(entries) => {
            let entries: Vec<Value> = entries.iter().map(byte_list).collect();
            ("Nodes", json!({ "entries": entries }))
        }
        RelayMessage::Error { code, request } => {
            assert_eq!(ErrorCode::from_u8(code.to_u8()), *code);
            ("Error", json!({ "code": code.to_u8(), "request": request }))
        }
        RelayMessage::Closing { code } => {
            assert_eq!(CloseCode::from_u8(code.to_u8()), *code);
            ("Closing", json!({ "code": code.to_u8() }))
        }
        RelayMessage::Room2 { room, peers } => {
            let peers: Vec<Value> = peers.iter().map(|p| addr(&p)).collect();
            (
                "Room2",
                json!({ "room": byte_list(room.as_bytes()), "peers": peers }),
            )
        }
        RelayMessage::Joined2 { room, peer } => (
            "Joined2",
            json!({ "room": byte_list(room.as_bytes()), "peer": addr(peer) }),
        ),
        RelayMessage::Left2 { room, peer } => (
            "Left2",
            json!({ "room": byte_list(room.as_bytes()), "peer": addr(peer) }),
        ),
        RelayMessage::Signal2 { room, from, blob } => (
            "Signal2",
            json!({ "room": byte_list(room.as_bytes()), "from": addr(from), "blob": byte_list(blob) }),
        ),
    }
}

/// The file's fields with every byte field (`room`, `blob`, `entry`, `entries`) decoded to a
/// list of numbers, the form [`client_fields`] and [`relay_fields`] give.
fn normalize(fields: &Value) -> Value {
    let Value::Object(map) = fields else {
        panic!("fields must be an object: {fields}");
    };
    let decode = |v: &Value| byte_list(&bytes(v.as_str().expect("byte fields are strings")));
    let normalized = map.iter().map(|(k, v)| {
        let v = match k.as_str() {
            "room" | "blob" | "entry" => decode(v),
            "entries" => Value::Array(v.as_array().expect("entries").iter().map(decode).collect()),
            _ => v.clone(),
        };
        (k.clone(), v)
    });
    Value::Object(normalized.collect())
}

/// Decodes a frame as `direction` is read: its fields and its re-encoding.
fn decode(direction: Direction, frame: &[u8]) -> Result<(Fields, Vec<u8>), DecodeError> {
    match direction {
        Direction::ClientToRelay => {
            ClientMessage::decode(frame).map(|m| (client_fields(&m), m.to_vec()))
        }
        Direction::RelayToClient => {
            RelayMessage::decode(frame).map(|m| (relay_fields(&m), m.to_vec()))
        }
    }
}

/// Decodes a frame as `direction` is read: its type byte and its re-encoding (cheaper than
/// [`decode`] for the thousands of prefixes of a large frame).
fn re_encode(direction: Direction, frame: &[u8]) -> Result<(u8, Vec<u8>), DecodeError> {
    match direction {
        Direction::ClientToRelay => {
            ClientMessage::decode(frame).map(|m| (m.message_type(), m.to_vec()))
        }
        Direction::RelayToClient => {
            RelayMessage::decode(frame).map(|m| (m.message_type(), m.to_vec()))
        }
    }
}

/// The error's kind and, for [`DecodeError::Invalid`], its field; checks the type byte or
/// length it carries against the frame.
fn kind_of(error: &DecodeError, frame: &[u8]) -> (ErrorKind, Option<&'static str>) {
    let first = frame.first().copied();
    let typed = |message_type: u8| assert_eq!(Some(message_type), first, "{error:?}");
    match *error {
        DecodeError::Empty => (ErrorKind::Empty, None),
        DecodeError::TooLarge { len } => {
            assert_eq!(len, frame.len());
            (ErrorKind::TooLarge, None)
        }
        DecodeError::UnknownType(t) => {
            typed(t);
            (ErrorKind::UnknownType, None)
        }
        DecodeError::Truncated { message_type } => {
            typed(message_type);
            (ErrorKind::Truncated, None)
        }
        DecodeError::TrailingBytes { message_type } => {
            typed(message_type);
            (ErrorKind::TrailingBytes, None)
        }
        DecodeError::Invalid {
            message_type,
            field,
        } => {
            typed(message_type);
            (ErrorKind::Invalid, Some(field))
        }
    }
}

#[test]
fn limits_are_the_codecs() {
    let l = VectorFile::load().limits;
    assert_eq!(l.version, PROTOCOL_VERSION);
    assert_eq!(l.max_frame_len, MAX_FRAME_LEN);
    assert_eq!(l.max_blob_len, MAX_BLOB_LEN);
    assert_eq!(l.max_blob2_len, MAX_BLOB2_LEN);
    assert_eq!(l.max_entry_len, MAX_ENTRY_LEN);
    assert_eq!(l.max_nodes, MAX_NODES);
    assert_eq!(l.max_room_size_limit, MAX_ROOM_SIZE_LIMIT);
}

#[test]
fn every_type_has_its_byte_and_a_vector() {
    let file = VectorFile::load();
    for row in &file.types {
        let byte = match (row.direction, row.name.as_str()) {
            (Direction::ClientToRelay, "Hello") => msg_type::HELLO,
            (Direction::ClientToRelay, "Join") => msg_type::JOIN,
            (Direction::ClientToRelay, "Leave") => msg_type::LEAVE,
            (Direction::ClientToRelay, "Signal") => msg_type::SIGNAL,
            (Direction::ClientToRelay, "Ping") => msg_type::PING,
            (Direction::ClientToRelay, "GetNodes") => msg_type::GET_NODES,
            (Direction::ClientToRelay, "Signal2") => msg_type::SIGNAL2,
            (Direction::RelayToClient, "Welcome") => msg_type::WELCOME,
            (Direction::RelayToClient, "Room") => msg_type::ROOM,
            (Direction::RelayToClient, "Joined") => msg_type::JOINED,
            (Direction::RelayToClient, "Left") => msg_type::LEFT,
            (Direction::RelayToClient, "Signal") => msg_type::SIGNAL_IN,
            (Direction::RelayToClient, "Pong") => msg_type::PONG,
            (Direction::RelayToClient, "Nodes") => msg_type::NODES,
            (Direction::RelayToClient, "Error") => msg_type::ERROR,
            (Direction::RelayToClient, "Closing") => msg_type::CLOSING,
            (Direction::RelayToClient, "Room2") => msg_type::ROOM2,
            (Direction::RelayToClient, "Joined2") => msg_type::JOINED2,
            (Direction::RelayToClient, "Left2") => msg_type::LEFT2,
            (Direction::RelayToClient, "Signal2") => msg_type::SIGNAL2_IN,
            other => panic!("no such message type: {other:?}"),
        };
        assert_eq!(row.byte, byte, "{}", row.name);
        let vectors: Vec<_> = file
            .valid
            .iter()
            .filter(|v| v.direction == row.direction && v.type_name == row.name)
            .collect();
        assert!(!vectors.is_empty(), "no vector for {}", row.name);
        for v in vectors {
            assert_eq!(bytes(&v.hex)[0], row.byte, "{}", v.name);
        }
    }
    // Version 1: 6 client types and 9 relay types; version 2 adds 1 and 4.
    assert_eq!(file.types.len(), 20);
    for v in &file.valid {
        let listed = file
            .types
            .iter()
            .any(|t| t.direction == v.direction && t.name == v.type_name);
        assert!(
            listed,
            "{}: type {} is not in the type table",
            v.name, v.type_name
        );
    }
}

#[test]
fn code_names_are_the_codecs() {
    let file = VectorFile::load();
    assert_eq!(file.error_codes.len(), 12);
    for row in &file.error_codes {
        let code = ErrorCode::from_u8(row.code);
        assert_eq!(format!("{code:?}"), row.name);
        assert_eq!(code.to_u8(), row.code);
    }
    assert_eq!(file.close_codes.len(), 5);
    for row in &file.close_codes {
        let code = CloseCode::from_u8(row.code);
        assert_eq!(format!("{code:?}"), row.name);
        assert_eq!(code.to_u8(), row.code);
    }
}

#[test]
fn valid_frames_decode_to_their_fields_and_re_encode() {
    let file = VectorFile::load();
    for v in &file.valid {
        let frame = bytes(&v.hex);
        let ((type_name, fields), encoded) =
            decode(v.direction, &frame).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(type_name, v.type_name, "{}", v.name);
        assert_eq!(fields, normalize(&v.fields), "{}", v.name);
        assert!(encoded == frame, "{}: re-encodes differently", v.name);
        // The other side's decoder reads none of these types.
        let other = match v.direction {
            Direction::ClientToRelay => Direction::RelayToClient,
            Direction::RelayToClient => Direction::ClientToRelay,
        };
        let refused = re_encode(other, &frame).err();
        assert_eq!(
            refused,
            Some(DecodeError::UnknownType(frame[0])),
            "{}",
            v.name
        );
    }
}

#[test]
fn every_proper_prefix_is_refused_unless_itself_a_frame() {
    let file = VectorFile::load();
    for v in &file.valid {
        let frame = bytes(&v.hex);
        for len in 0..frame.len() {
            let prefix = &frame[..len];
            match re_encode(v.direction, prefix) {
                // A shorter blob, entry or list: a frame of its own, of the same type.
                Ok((message_type, encoded)) => {
                    assert_eq!(message_type, frame[0], "{} cut to {len}", v.name);
                    assert!(
                        encoded == prefix,
                        "{} cut to {len} re-encodes differently",
                        v.name
                    );
                }
                Err(e) => {
                    let (kind, _) = kind_of(&e, prefix);
                    assert!(
                        matches!(
                            kind,
                            ErrorKind::Empty | ErrorKind::Truncated | ErrorKind::Invalid
                        ),
                        "{} cut to {len}: {e}",
                        v.name
                    );
                }
            }
        }
    }
}

#[test]
fn invalid_frames_are_refused_with_the_named_error() {
    for case in &VectorFile::load().invalid {
        let frame = bytes(&case.hex);
        let Err(error) = re_encode(case.direction, &frame) else {
            panic!("{}: decoded", case.name);
        };
        let (kind, field) = kind_of(&error, &frame);
        assert_eq!(kind, case.error, "{}: {error}", case.name);
        assert_eq!(field, case.field.as_deref(), "{}: {error}", case.name);
    }
}

#[test]
fn every_kind_of_refusal_is_covered_both_ways() {
    let file = VectorFile::load();
    let kinds = [
        ErrorKind::Empty,
        ErrorKind::TooLarge,
        ErrorKind::UnknownType,
        ErrorKind::Truncated,
        ErrorKind::TrailingBytes,
        ErrorKind::Invalid,
    ];
    for direction in [Direction::ClientToRelay, Direction::RelayToClient] {
        for kind in kinds {
            let covered = file
                .invalid
                .iter()
                .any(|c| c.direction == direction && c.error == kind);
            assert!(covered, "no {kind:?} case for {direction:?}");
        }
    }
    let mut names: Vec<_> = file.valid.iter().map(|v| (v.direction, &v.name)).collect();
    names.extend(file.invalid.iter().map(|c| (c.direction, &c.name)));
    let count = names.len();
    names.sort_by_key(|(d, n)| (*d == Direction::ClientToRelay, n.to_string()));
    names.dedup();
    assert_eq!(names.len(), count, "vector names repeat");
}

#[test]
fn the_file_is_in_canonical_form() {
    let text = fixtures::read(super::VECTORS);
    let value: Value = serde_json::from_str(&text).expect("JSON");
    assert!(
        fixtures::canonical_json(&value) == text,
        "rewrite layer1.json with sorted keys and 2-space indent"
    );
}
