//! `docs/protocol.md` against `fixtures/protocol/layer1.json`: each frame example in the doc
//! is a valid vector of the type and direction of the section it is printed in, every type
//! has its section and an example, and the code tables name the file's codes.

use std::path::Path;

use super::{bytes, CodeRow, Direction, VectorFile};

/// `docs/protocol.md`.
fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One frame example: where the doc prints it and the bytes it shows.
struct Example {
    line: usize,
    direction: Direction,
    byte: u8,
    name: String,
    bytes: Vec<u8>,
}

/// A `### `0x81 Welcome …`` heading: the type byte and name.
fn type_heading(line: &str) -> Option<(u8, String)> {
    let rest = line.strip_prefix("### `0x")?;
    let (byte, rest) = rest.split_at_checked(2)?;
    let name = rest.strip_prefix(' ')?.split([' ', '`']).next()?;
    Some((u8::from_str_radix(byte, 16).ok()?, name.to_string()))
}

/// The frame examples (the first line of each indented block, up to two spaces that start
/// its annotation) and the code tables (`| 7 | `RoomFull` |`) under each type heading.
fn read_doc(text: &str) -> (Vec<Example>, Vec<(u8, u8, String)>) {
    let mut examples = Vec::new();
    let mut codes = Vec::new();
    let mut direction = None;
    let mut heading: Option<(u8, String)> = None;
    let mut previous_blank = true;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if let Some(title) = line.strip_prefix("## ") {
            direction = match title {
                "Client → relay" => Some(Direction::ClientToRelay),
                "Relay → client" => Some(Direction::RelayToClient),
                _ => None,
            };
            heading = None;
        } else if line.starts_with("### ") {
            heading = type_heading(line);
            assert!(
                heading.is_some() || direction.is_none(),
                "docs/protocol.md:{line_no}: a heading in a frame section names no type"
            );
        } else if let (Some(d), Some((byte, name))) = (direction, &heading) {
            if let Some(block) = line.strip_prefix("    ").filter(|_| previous_blank) {
                let shown = block.trim_start().split("  ").next().unwrap_or_default();
                let bytes = fixtures::hex_groups(shown).unwrap_or_else(|| {
                    panic!("docs/protocol.md:{line_no}: example is not hex: {shown}")
                });
                examples.push(Example {
                    line: line_no,
                    direction: d,
                    byte: *byte,
                    name: name.clone(),
                    bytes,
                });
            } else if let Some(row) = line.strip_prefix('|') {
                let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                if let (Some(Ok(code)), Some(name)) = (
                    cells.first().map(|c| c.parse::<u8>()),
                    cells
                        .get(1)
                        .and_then(|c| c.strip_prefix('`')?.strip_suffix('`')),
                ) {
                    codes.push((*byte, code, name.to_string()));
                }
            }
        }
        previous_blank = line.trim().is_empty();
    }
    (examples, codes)
}

#[test]
fn doc_examples_are_vectors() {
    let file = VectorFile::load();
    let (examples, _) = read_doc(&doc());
    for ex in &examples {
        let at = format!("docs/protocol.md:{}", ex.line);
        assert_eq!(ex.bytes.first(), Some(&ex.byte), "{at}: type byte");
        let found = file.valid.iter().find(|v| {
            v.direction == ex.direction && v.type_name == ex.name && bytes(&v.hex) == ex.bytes
        });
        assert!(
            found.is_some(),
            "{at}: this {} example is not a valid vector of fixtures/{}",
            ex.name,
            super::VECTORS
        );
    }
    for row in &file.types {
        let shown = examples
            .iter()
            .any(|ex| ex.direction == row.direction && ex.byte == row.byte && ex.name == row.name);
        assert!(
            shown,
            "docs/protocol.md has no `0x{:02x} {}` section with an example",
            row.byte, row.name
        );
    }
    assert_eq!(examples.len(), file.types.len(), "one example per type");
}

#[test]
fn doc_code_tables_are_the_files() {
    let file = VectorFile::load();
    let (_, codes) = read_doc(&doc());
    let table = |byte: u8| -> Vec<(u8, String)> {
        codes
            .iter()
            .filter(|(b, _, _)| *b == byte)
            .map(|(_, code, name)| (*code, name.clone()))
            .collect()
    };
    let rows = |rows: &[CodeRow]| -> Vec<(u8, String)> {
        rows.iter().map(|r| (r.code, r.name.clone())).collect()
    };
    assert_eq!(table(0x88), rows(&file.error_codes), "the Error code table");
    assert_eq!(
        table(0x89),
        rows(&file.close_codes),
        "the Closing code table"
    );
}
