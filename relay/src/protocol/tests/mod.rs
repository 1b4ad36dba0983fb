//! Tests of the protocol codec. The frames themselves live in `fixtures/protocol/layer1.json`,
//! shared with the JavaScript runtime's tests; `docs/protocol.md`'s examples are checked
//! against that file.

mod doc;
mod props;
mod vectors;

use serde::Deserialize;

/// `fixtures/protocol/layer1.json`.
#[derive(Deserialize)]
struct VectorFile {
    limits: Limits,
    types: Vec<TypeRow>,
    error_codes: Vec<CodeRow>,
    close_codes: Vec<CodeRow>,
    valid: Vec<Valid>,
    invalid: Vec<Invalid>,
}

/// The protocol's limits as the file states them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    version: u8,
    max_frame_len: usize,
    max_blob_len: usize,
    max_blob2_len: usize,
    max_entry_len: usize,
    max_nodes: usize,
    max_room_size_limit: u16,
}

/// Which side sends a frame.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum Direction {
    ClientToRelay,
    RelayToClient,
}

/// One message type: its direction, type byte and name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeRow {
    direction: Direction,
    byte: u8,
    name: String,
}

/// One error or close code and its name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRow {
    code: u8,
    name: String,
}

/// A frame that decodes: its type, fields and bytes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Valid {
    name: String,
    direction: Direction,
    #[serde(rename = "type")]
    type_name: String,
    fields: serde_json::Value,
    hex: String,
}

/// A frame a decoder refuses, and the error it must refuse it with.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invalid {
    name: String,
    direction: Direction,
    hex: String,
    error: ErrorKind,
    field: Option<String>,
}

/// The [`super::DecodeError`] variants, as the file names them.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum ErrorKind {
    Empty,
    TooLarge,
    UnknownType,
    Truncated,
    TrailingBytes,
    Invalid,
}

impl VectorFile {
    fn load() -> Self {
        serde_json::from_str(&fixtures::read(VECTORS)).expect("layer1.json matches its format")
    }
}

/// The vector file, relative to `fixtures/`.
const VECTORS: &str = "protocol/layer1.json";

/// Bytes written in the vectors' notation (panics on a malformed vector).
fn bytes(notation: &str) -> Vec<u8> {
    fixtures::hex_groups(notation).unwrap_or_else(|| panic!("not hex groups: {notation}"))
}
