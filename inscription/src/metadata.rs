//! Inscription metadata (tag 5): one CBOR item. ord's `--metadata` takes a document and stores
//! it as CBOR; a JSON document converts here the same way.

/// Why metadata was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// The bytes are not one CBOR item.
    #[error("not CBOR: {0}")]
    NotCbor(String),
    /// The bytes are not JSON; `line` and `column` are 1-based.
    #[error("{line}:{column}: not JSON: {message}")]
    NotJson {
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// What serde_json said.
        message: String,
    },
}

/// `bytes` as metadata if they are one CBOR item (returned unchanged).
pub fn metadata_from_cbor(bytes: &[u8]) -> Result<Vec<u8>, MetadataError> {
    let _: ciborium::Value =
        ciborium::from_reader(bytes).map_err(|e| MetadataError::NotCbor(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// A JSON document as metadata: its value written as one CBOR item.
///
/// ```
/// let cbor = inscription::metadata_from_json(br#"{"title": "lobby"}"#).unwrap();
/// assert_eq!(cbor, [0xa1, 0x65, b't', b'i', b't', b'l', b'e', 0x65, b'l', b'o', b'b', b'b', b'y']);
/// ```
pub fn metadata_from_json(bytes: &[u8]) -> Result<Vec<u8>, MetadataError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| MetadataError::NotJson {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
    let mut cbor = Vec::new();
    // Writing a JSON value into a Vec cannot fail: every JSON value has a CBOR form.
    ciborium::into_writer(&value, &mut cbor).expect("JSON values convert to CBOR");
    Ok(cbor)
}

#[cfg(test)]
mod tests {
    use super::{metadata_from_cbor, metadata_from_json, MetadataError};

    #[test]
    fn refusals_say_where() {
        assert!(matches!(
            metadata_from_cbor(&[]),
            Err(MetadataError::NotCbor(_))
        ));
        assert!(matches!(
            metadata_from_cbor(&[0x65, b'a']),
            Err(MetadataError::NotCbor(_))
        ));
        match metadata_from_json(b"{\n  \"a\": }") {
            Err(MetadataError::NotJson { line: 2, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(metadata_from_cbor(&[0xf6]).unwrap(), [0xf6]);
        assert_eq!(metadata_from_json(b"[1, -2, 1.5, null]").unwrap()[0], 0x84);
    }
}
