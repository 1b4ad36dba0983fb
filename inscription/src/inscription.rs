//! An inscription's fields and the envelope ord writes for them.

use bitcoin::opcodes::all::{OP_CHECKSIG, OP_ENDIF, OP_IF};
use bitcoin::opcodes::OP_FALSE;
use bitcoin::script::ScriptBuf;
use bitcoin::XOnlyPublicKey;

use crate::compress;
use crate::tag::push;
use crate::{BrotliMode, InscriptionId, Tag, MAX_PUSH, PROTOCOL_ID};

/// The fields of one inscription, as the raw bytes of each tag's value.
///
/// Values are kept raw so that parsing and re-encoding any envelope gives back the same
/// bytes; the typed accessors ([`Inscription::content_type`], [`Inscription::pointer`], …)
/// read them as ord does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inscription {
    /// Tag 1: MIME type.
    pub content_type: Option<Vec<u8>>,
    /// Tag 9: content encoding of the body (`br`).
    pub content_encoding: Option<Vec<u8>>,
    /// Tag 7: metaprotocol name.
    pub metaprotocol: Option<Vec<u8>>,
    /// Tag 3, once per parent: parent id values (see [`InscriptionId::to_value`]).
    pub parents: Vec<Vec<u8>>,
    /// Tag 11: delegate id value.
    pub delegate: Option<Vec<u8>>,
    /// Tag 2: pointer value (u64 little-endian, trailing zeros dropped).
    pub pointer: Option<Vec<u8>>,
    /// Tag 5: CBOR metadata, all chunks joined.
    pub metadata: Option<Vec<u8>>,
    /// Tag 13: rune commitment.
    pub rune: Option<Vec<u8>>,
    /// Tag 17: properties, all chunks joined.
    pub properties: Option<Vec<u8>>,
    /// Tag 19: property encoding.
    pub property_encoding: Option<Vec<u8>>,
    /// Tag 15: a note, which ord ignores.
    pub note: Option<Vec<u8>>,
    /// The body, all pushes joined; `None` when the envelope has no body separator.
    pub body: Option<Vec<u8>>,
}

impl Inscription {
    /// An inscription with a content type and a body.
    pub fn new(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            content_type: Some(content_type.as_bytes().to_vec()),
            body: Some(body.into()),
            ..Self::default()
        }
    }

    /// An inscription of `content_type` whose body is `raw` brotli-encoded with ord's
    /// settings for that type (see [`crate::compress_brotli_for`]), content encoding `br`:
    /// the bytes ord inscribes when compression pays. It is `br` even when the encoded body
    /// is not smaller, where ord would keep `raw` as it is; use it where a `br` body is
    /// wanted (a content server, tests), and `compress_brotli_for` to decide as ord does.
    ///
    /// ```
    /// use inscription::Inscription;
    ///
    /// let js = "export const x = 1;\n".repeat(50);
    /// let i = Inscription::brotli("text/javascript", js.as_bytes());
    /// assert_eq!(i.content_encoding(), Some("br"));
    /// assert_eq!(inscription::decompress_brotli(i.body()).unwrap(), js.as_bytes());
    /// ```
    pub fn brotli(content_type: &str, raw: &[u8]) -> Self {
        let body = compress::encode(BrotliMode::for_content_type(content_type), raw);
        Self::new(content_type, body).with_content_encoding("br")
    }

    /// Sets the pointer: the offset, in sats of the reveal's outputs, of the sat this
    /// inscription lands on.
    pub fn with_pointer(mut self, pointer: u64) -> Self {
        let bytes = pointer.to_le_bytes();
        let len = 8 - bytes.iter().rev().take_while(|b| **b == 0).count();
        self.pointer = Some(bytes[..len].to_vec());
        self
    }

    /// Adds a parent.
    pub fn with_parent(mut self, parent: InscriptionId) -> Self {
        self.parents.push(parent.to_value());
        self
    }

    /// Sets the delegate.
    pub fn with_delegate(mut self, delegate: InscriptionId) -> Self {
        self.delegate = Some(delegate.to_value());
        self
    }

    /// Sets CBOR metadata.
    pub fn with_metadata(mut self, cbor: Vec<u8>) -> Self {
        self.metadata = Some(cbor);
        self
    }

    /// Sets the metaprotocol.
    pub fn with_metaprotocol(mut self, name: &str) -> Self {
        self.metaprotocol = Some(name.as_bytes().to_vec());
        self
    }

    /// Sets the content encoding.
    pub fn with_content_encoding(mut self, encoding: &str) -> Self {
        self.content_encoding = Some(encoding.as_bytes().to_vec());
        self
    }

    /// Sets a note (tag 15, ignored by ord).
    pub fn with_note(mut self, note: &str) -> Self {
        self.note = Some(note.as_bytes().to_vec());
        self
    }

    /// The content type, if it is UTF-8.
    pub fn content_type(&self) -> Option<&str> {
        std::str::from_utf8(self.content_type.as_deref()?).ok()
    }

    /// The content encoding, if it is UTF-8.
    pub fn content_encoding(&self) -> Option<&str> {
        std::str::from_utf8(self.content_encoding.as_deref()?).ok()
    }

    /// The metaprotocol, if it is UTF-8.
    pub fn metaprotocol(&self) -> Option<&str> {
        std::str::from_utf8(self.metaprotocol.as_deref()?).ok()
    }

    /// The pointer as ord reads it: bytes past the eighth must be zero, missing high bytes
    /// are zero.
    pub fn pointer(&self) -> Option<u64> {
        let value = self.pointer.as_deref()?;
        if value.iter().skip(8).any(|b| *b != 0) {
            return None;
        }
        let mut le = [0u8; 8];
        let n = value.len().min(8);
        le[..n].copy_from_slice(&value[..n]);
        Some(u64::from_le_bytes(le))
    }

    /// The parents whose values are well formed ids.
    pub fn parent_ids(&self) -> Vec<InscriptionId> {
        self.parents
            .iter()
            .filter_map(|v| InscriptionId::from_value(v).ok())
            .collect()
    }

    /// The delegate, if its value is a well formed id.
    pub fn delegate_id(&self) -> Option<InscriptionId> {
        InscriptionId::from_value(self.delegate.as_deref()?).ok()
    }

    /// The body, or an empty slice.
    pub fn body(&self) -> &[u8] {
        self.body.as_deref().unwrap_or_default()
    }

    /// Appends this envelope to `script`: `OP_FALSE OP_IF "ord"`, the fields in ord's
    /// order (1, 9, 7, 3…, 11, 2, 5, 13, 17, 19, then our note 15), `OP_0` and the body in
    /// pushes of at most 520 bytes, `OP_ENDIF`.
    pub fn append_envelope(&self, script: &mut ScriptBuf) {
        script.push_opcode(OP_FALSE);
        script.push_opcode(OP_IF);
        script.push_slice(PROTOCOL_ID);
        let fields = [
            (Tag::ContentType, &self.content_type),
            (Tag::ContentEncoding, &self.content_encoding),
            (Tag::Metaprotocol, &self.metaprotocol),
        ];
        for (tag, value) in fields {
            if let Some(value) = value {
                tag.append(script, value);
            }
        }
        for parent in &self.parents {
            Tag::Parent.append(script, parent);
        }
        let fields = [
            (Tag::Delegate, &self.delegate),
            (Tag::Pointer, &self.pointer),
            (Tag::Metadata, &self.metadata),
            (Tag::Rune, &self.rune),
            (Tag::Properties, &self.properties),
            (Tag::PropertyEncoding, &self.property_encoding),
            (Tag::Note, &self.note),
        ];
        for (tag, value) in fields {
            if let Some(value) = value {
                tag.append(script, value);
            }
        }
        if let Some(body) = &self.body {
            script.push_slice(push(&[]));
            for chunk in body.chunks(MAX_PUSH) {
                script.push_slice(push(chunk));
            }
        }
        script.push_opcode(OP_ENDIF);
    }

    /// This envelope alone, as a script.
    pub fn envelope_script(&self) -> ScriptBuf {
        let mut script = ScriptBuf::new();
        self.append_envelope(&mut script);
        script
    }

    /// The reveal leaf script for a batch: `<key> OP_CHECKSIG` followed by every envelope,
    /// which get ids `<txid>i0`, `<txid>i1`, … in this order.
    pub fn reveal_script(key: &XOnlyPublicKey, inscriptions: &[Inscription]) -> ScriptBuf {
        let mut script = ScriptBuf::new();
        script.push_slice(key.serialize());
        script.push_opcode(OP_CHECKSIG);
        for inscription in inscriptions {
            inscription.append_envelope(&mut script);
        }
        script
    }
}

#[cfg(test)]
mod tests {
    use super::Inscription;
    use crate::InscriptionId;

    #[test]
    fn pointer_drops_trailing_zeros() {
        assert_eq!(Inscription::default().with_pointer(0).pointer, Some(vec![]));
        assert_eq!(
            Inscription::default().with_pointer(10_000).pointer,
            Some(vec![0x10, 0x27])
        );
        let p = Inscription::default().with_pointer(u64::MAX);
        assert_eq!(p.pointer(), Some(u64::MAX));
    }

    #[test]
    fn pointer_reads_like_ord() {
        let mut i = Inscription {
            pointer: Some(vec![1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ..Inscription::default()
        };
        assert_eq!(i.pointer(), Some(1));
        i.pointer = Some(vec![1, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(i.pointer(), None);
    }

    #[test]
    fn fields_come_in_ords_order() {
        let parent: InscriptionId =
            "1111111111111111111111111111111111111111111111111111111111111111i0"
                .parse()
                .unwrap();
        let i = Inscription::new("a", b"b".to_vec())
            .with_note("n")
            .with_metadata(vec![0xa0])
            .with_pointer(1)
            .with_delegate(parent)
            .with_parent(parent)
            .with_metaprotocol("m")
            .with_content_encoding("br");
        let script = i.envelope_script();
        let tags: Vec<u8> = script
            .instructions()
            .skip(3)
            .step_by(2)
            .map(|ins| ins.unwrap().push_bytes().unwrap().as_bytes().to_vec())
            .take_while(|t| !t.is_empty())
            .map(|t| t[0])
            .collect();
        assert_eq!(tags, vec![1, 9, 7, 3, 11, 2, 5, 15]);
    }

    #[test]
    fn body_and_metadata_are_chunked_other_fields_are_not() {
        let i = Inscription::new("text/plain", vec![7; 1041]).with_metadata(vec![1; 521]);
        let pushes: Vec<usize> = i
            .envelope_script()
            .instructions()
            .filter_map(|ins| ins.unwrap().push_bytes().map(|p| p.len()))
            .collect();
        // OP_FALSE, "ord", 1 "text/plain", 5 520, 5 1, OP_0, 520 520 1.
        assert_eq!(pushes, vec![0, 3, 1, 10, 1, 520, 1, 1, 0, 520, 520, 1]);
    }
}
