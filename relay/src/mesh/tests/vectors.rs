//! Every message of `fixtures/protocol/mesh.json` both ways: valid messages decode to their
//! fields and re-encode to the same bytes, every proper prefix of one is refused unless it is
//! itself a message, and every invalid message is refused with the error the file names.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::mesh::wire::{
    mesh_type, DecodeError, MeshMessage, RoomBody, MAX_MEMBERS, MAX_MESSAGE_LEN,
    MAX_SIGNAL_BLOB_LEN,
};
use crate::protocol::MAX_ENTRY_LEN;

/// The vector file, relative to `fixtures/`.
const VECTORS: &str = "protocol/mesh.json";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorFile {
    #[allow(dead_code)]
    description: String,
    limits: Limits,
    types: Vec<TypeRow>,
    valid: Vec<Valid>,
    invalid: Vec<Invalid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    max_message_len: usize,
    max_entry_len: usize,
    max_members: usize,
    max_signal_blob_len: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeRow {
    byte: u8,
    name: String,
    topic: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Valid {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
    fields: Value,
    hex: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invalid {
    name: String,
    hex: String,
    error: String,
    field: Option<String>,
}

impl VectorFile {
    fn load() -> Self {
        serde_json::from_str(&fixtures::read(VECTORS)).expect("mesh.json matches its format")
    }
}

/// Bytes written in the vectors' notation (panics on a malformed vector).
fn bytes(notation: &str) -> Vec<u8> {
    fixtures::hex_groups(notation).unwrap_or_else(|| panic!("not hex groups: {notation}"))
}

/// A decoded message: its type name and its fields in the file's form (byte fields as hex).
fn fields(message: &MeshMessage<'_>) -> (&'static str, Value) {
    match message {
        MeshMessage::Announce(a) => (
            "Announce",
            json!({
                "issued_at_ms": a.issued_at_ms,
                "mesh_port": a.mesh_port.map_or(0, |p| p.get()),
                "entry": hex::encode(a.entry),
            }),
        ),
        MeshMessage::Room(m) => {
            let room = hex::encode(m.room.as_bytes());
            let at = m.sent_at_ms;
            match m.body {
                RoomBody::Members(sessions) => {
                    let sessions: Vec<u32> = sessions.iter().map(|s| s.get()).collect();
                    (
                        "Members",
                        json!({ "room": room, "sent_at_ms": at, "sessions": sessions }),
                    )
                }
                RoomBody::Joined(s) => (
                    "Joined",
                    json!({ "room": room, "sent_at_ms": at, "session": s.get() }),
                ),
                RoomBody::Left(s) => (
                    "Left",
                    json!({ "room": room, "sent_at_ms": at, "session": s.get() }),
                ),
                RoomBody::Signal { from, to, blob } => {
                    let mut addr = Vec::new();
                    to.encode_into(&mut addr);
                    (
                        "Signal",
                        json!({
                            "room": room,
                            "sent_at_ms": at,
                            "from": from.get(),
                            "to": hex::encode(addr),
                            "blob": hex::encode(blob),
                        }),
                    )
                }
            }
        }
    }
}

/// The file's fields with byte fields (`room`, `entry`, `blob`) in plain lower-case hex.
fn normalize(fields: &Value) -> Value {
    let Value::Object(map) = fields else {
        panic!("fields must be an object: {fields}");
    };
    let normalized = map.iter().map(|(k, v)| {
        let v = match k.as_str() {
            "room" | "entry" | "blob" => json!(hex::encode(bytes(v.as_str().expect("hex")))),
            _ => v.clone(),
        };
        (k.clone(), v)
    });
    Value::Object(normalized.collect())
}

/// The error's name in the file and, for the field errors, its field; checks the type byte
/// or length it carries against the data.
fn kind_of(error: &DecodeError, data: &[u8]) -> (&'static str, Option<&'static str>) {
    let typed = |message_type: u8| assert_eq!(Some(message_type), data.first().copied());
    match *error {
        DecodeError::Empty => ("empty", None),
        DecodeError::TooLarge { len } => {
            assert_eq!(len, data.len());
            ("too_large", None)
        }
        DecodeError::UnknownType(t) => {
            typed(t);
            ("unknown_type", None)
        }
        DecodeError::Truncated { message_type } => {
            typed(message_type);
            ("truncated", None)
        }
        DecodeError::TrailingBytes { message_type } => {
            typed(message_type);
            ("trailing_bytes", None)
        }
        DecodeError::Oversized {
            message_type,
            field,
        } => {
            typed(message_type);
            ("oversized", Some(field))
        }
        DecodeError::Invalid {
            message_type,
            field,
        } => {
            typed(message_type);
            ("invalid", Some(field))
        }
    }
}

#[test]
fn limits_are_the_codecs() {
    let l = VectorFile::load().limits;
    assert_eq!(l.max_message_len, MAX_MESSAGE_LEN);
    assert_eq!(l.max_entry_len, MAX_ENTRY_LEN);
    assert_eq!(l.max_members, MAX_MEMBERS);
    assert_eq!(l.max_signal_blob_len, MAX_SIGNAL_BLOB_LEN);
}

#[test]
fn every_type_has_its_byte_topic_and_a_vector() {
    let file = VectorFile::load();
    for row in &file.types {
        let (byte, topic) = match row.name.as_str() {
            "Announce" => (mesh_type::ANNOUNCE, "relays"),
            "Members" => (mesh_type::MEMBERS, "room"),
            "Joined" => (mesh_type::JOINED, "room"),
            "Left" => (mesh_type::LEFT, "room"),
            "Signal" => (mesh_type::SIGNAL, "room"),
            other => panic!("no such mesh message type: {other}"),
        };
        assert_eq!(
            (row.byte, row.topic.as_str()),
            (byte, topic),
            "{}",
            row.name
        );
        let vectors: Vec<_> = file
            .valid
            .iter()
            .filter(|v| v.type_name == row.name)
            .collect();
        assert!(!vectors.is_empty(), "no vector for {}", row.name);
        for v in vectors {
            assert_eq!(bytes(&v.hex)[0], row.byte, "{}", v.name);
        }
    }
    assert_eq!(file.types.len(), 5);
}

#[test]
fn valid_messages_decode_to_their_fields_and_re_encode() {
    for v in &VectorFile::load().valid {
        let data = bytes(&v.hex);
        let message = MeshMessage::decode(&data).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let (type_name, got) = fields(&message);
        assert_eq!(type_name, v.type_name, "{}", v.name);
        assert_eq!(got, normalize(&v.fields), "{}", v.name);
        assert_eq!(message.message_type(), data[0], "{}", v.name);
        assert!(
            message.to_vec() == data,
            "{}: re-encodes differently",
            v.name
        );
    }
}

#[test]
fn every_proper_prefix_is_refused_unless_itself_a_message() {
    for v in &VectorFile::load().valid {
        let data = bytes(&v.hex);
        for len in 0..data.len() {
            let prefix = &data[..len];
            match MeshMessage::decode(prefix) {
                // A shorter entry, list or blob: a message of its own, of the same type.
                Ok(m) => {
                    assert_eq!(m.message_type(), data[0], "{} cut to {len}", v.name);
                    assert!(m.to_vec() == prefix, "{} cut to {len}", v.name);
                }
                Err(e) => {
                    let (kind, _) = kind_of(&e, prefix);
                    assert!(
                        matches!(kind, "empty" | "truncated" | "invalid"),
                        "{} cut to {len}: {e}",
                        v.name
                    );
                }
            }
        }
    }
}

#[test]
fn invalid_messages_are_refused_with_the_named_error() {
    for case in &VectorFile::load().invalid {
        let data = bytes(&case.hex);
        let error = MeshMessage::decode(&data).expect_err(&case.name);
        let (kind, field) = kind_of(&error, &data);
        assert_eq!(kind, case.error, "{}: {error}", case.name);
        assert_eq!(field, case.field.as_deref(), "{}: {error}", case.name);
    }
}

#[test]
fn every_kind_of_refusal_is_covered_and_names_are_unique() {
    let file = VectorFile::load();
    for kind in [
        "empty",
        "too_large",
        "unknown_type",
        "truncated",
        "trailing_bytes",
        "oversized",
        "invalid",
    ] {
        assert!(
            file.invalid.iter().any(|c| c.error == kind),
            "no {kind} case"
        );
    }
    let mut names: Vec<&str> = file.valid.iter().map(|v| v.name.as_str()).collect();
    names.extend(file.invalid.iter().map(|c| c.name.as_str()));
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "vector names repeat");
}

#[test]
fn the_file_is_in_canonical_form() {
    let text = fixtures::read(VECTORS);
    let value: Value = serde_json::from_str(&text).expect("JSON");
    assert!(
        fixtures::canonical_json(&value) == text,
        "rewrite mesh.json with sorted keys and 2-space indent"
    );
}

#[test]
fn the_examples_of_docs_federation_md_are_vectors_of_their_type() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/federation.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = VectorFile::load();
    // Examples sit in plain fences; a fence with a language (```sh) shows something else.
    let (mut fenced, mut example) = (false, false);
    let mut examples = 0;
    for (i, line) in doc.lines().enumerate() {
        if let Some(language) = line.strip_prefix("```") {
            fenced = !fenced;
            example = fenced && language.is_empty();
            continue;
        }
        if !example {
            continue;
        }
        let (shown, note) = line.split_once("  ").unwrap_or((line, ""));
        let data = bytes(shown);
        let vector = file.valid.iter().find(|v| bytes(&v.hex) == data);
        let vector = vector.unwrap_or_else(|| panic!("docs/federation.md:{}: not a vector", i + 1));
        let named = note.split([' ', ':']).next().unwrap_or_default();
        assert_eq!(named, vector.type_name, "docs/federation.md:{}", i + 1);
        examples += 1;
    }
    assert!(examples >= 3, "the doc shows {examples} examples");
}
