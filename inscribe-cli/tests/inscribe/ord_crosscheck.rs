//! Cross-check with the `ord` crate itself (0.29.1): ord writes the same envelope bytes for
//! the same fields, and ord's own parser reads our signed reveals as we do.

use bitcoin::script::ScriptBuf;
use bitcoin::Transaction;
use inscription::{Envelope, Inscription, InscriptionId};

/// The same fields as ord's type (ord has no note field: tag 15 is ours, ignored by ord).
fn to_ord(i: &Inscription) -> ord::Inscription {
    ord::Inscription {
        body: i.body.clone(),
        content_encoding: i.content_encoding.clone(),
        content_type: i.content_type.clone(),
        delegate: i.delegate.clone(),
        metadata: i.metadata.clone(),
        metaprotocol: i.metaprotocol.clone(),
        parents: i.parents.clone(),
        pointer: i.pointer.clone(),
        properties: i.properties.clone(),
        property_encoding: i.property_encoding.clone(),
        rune: i.rune.clone(),
        ..ord::Inscription::default()
    }
}

fn samples() -> Vec<Inscription> {
    let id: InscriptionId = "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799i0"
        .parse()
        .unwrap();
    let other = InscriptionId::new(id.txid, 300);
    vec![
        Inscription::new("text/plain;charset=utf-8", b"Hello, world!".to_vec()),
        Inscription::new("text/html;charset=utf-8", vec![b'x'; 1_500]),
        Inscription::new("text/javascript", vec![7; 521]).with_content_encoding("br"),
        Inscription::new("text/plain", vec![]).with_pointer(0),
        Inscription::new("text/plain", b"p".to_vec()).with_pointer(10_000),
        Inscription::new("text/plain", b"kids".to_vec())
            .with_parent(id)
            .with_parent(other),
        Inscription::default().with_delegate(other),
        Inscription::new("application/json", b"{}".to_vec())
            .with_metaprotocol("lumamesh")
            .with_metadata(vec![0xa1; 1_200]),
        Inscription {
            content_type: Some(b"text/plain".to_vec()),
            body: None,
            ..Inscription::default()
        },
    ]
}

#[test]
fn ord_writes_the_same_envelope_bytes() {
    for sample in samples() {
        let ours = sample.envelope_script();
        let theirs = to_ord(&sample)
            .append_reveal_script_to_builder(ScriptBuf::builder())
            .into_script();
        assert_eq!(ours.to_hex_string(), theirs.to_hex_string(), "{sample:?}");
    }
}

/// Every inscription of `tx` as ord's indexer parses it equals what we parse.
pub fn assert_ord_reads_the_same(tx: &Transaction) {
    let ours = Envelope::from_transaction(tx);
    let theirs = ord::ParsedEnvelope::from_transaction(tx);
    assert_eq!(ours.len(), theirs.len(), "envelope count");
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(to_ord(&o.inscription), t.payload, "fields");
        assert_eq!((o.input, o.offset), (t.input, t.offset));
        assert_eq!((o.pushnum, o.stutter), (t.pushnum, t.stutter));
    }
}
