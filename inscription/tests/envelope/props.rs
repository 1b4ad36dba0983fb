//! Property tests: whatever our encoder writes parses back to the same inscription with
//! exactly the flags ord would set, and no byte string makes the parser panic.

use bitcoin::script::Script;
use bitcoin::Witness;
use inscription::{Envelope, Inscription, MAX_PUSH};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::support::{key, reveal_witness, transaction};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

/// One piece of script, as raw bytes: mostly what envelopes are made of.
fn envelope_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => Just(vec![0x00, 0x63, 0x03, b'o', b'r', b'd']),
        3 => Just(vec![0x00]),
        2 => Just(vec![0x63]),
        3 => Just(vec![0x68]),
        2 => Just(vec![0x03, b'o', b'r', b'd']),
        4 => (0u8..=20).prop_map(|tag| vec![0x01, tag]),
        2 => (0x4fu8..=0x60).prop_map(|op| vec![op]),
        1 => any::<u8>().prop_map(|op| vec![op]),
        4 => bytes(12).prop_map(|b| {
            let mut push = vec![b.len() as u8];
            push.extend(b);
            push
        }),
        1 => Just(vec![0x4c, 0x02, 0xaa, 0xbb]),
    ]
}

/// Any inscription: every field independently present or absent, values of random bytes
/// (unchunked values kept to one push), bodies and chunked fields up to a few KB.
pub fn any_inscription() -> impl Strategy<Value = Inscription> {
    (
        (
            option::of(bytes(80)),
            option::of(bytes(8)),
            option::of(bytes(40)),
            vec(bytes(40), 0..=3),
            option::of(bytes(40)),
            option::of(bytes(12)),
        ),
        (
            option::of(bytes(1200)),
            option::of(bytes(20)),
            option::of(bytes(1200)),
            option::of(bytes(8)),
            option::of(bytes(30)),
            option::of(prop_oneof![bytes(16), bytes(4000)]),
        ),
    )
        .prop_map(
            |(
                (content_type, content_encoding, metaprotocol, parents, delegate, pointer),
                (metadata, rune, properties, property_encoding, note, body),
            )| Inscription {
                content_type,
                content_encoding,
                metaprotocol,
                parents,
                delegate,
                pointer,
                metadata,
                rune,
                properties,
                property_encoding,
                note,
                body,
            },
        )
}

/// What ord reads back: an empty chunked value is written as no tag at all, so
/// `Some(empty)` metadata or properties come back as `None`.
fn as_parsed(mut i: Inscription) -> Inscription {
    if i.metadata.as_deref() == Some(&[]) {
        i.metadata = None;
    }
    if i.properties.as_deref() == Some(&[]) {
        i.properties = None;
    }
    i
}

/// ord counts every repeated tag as a duplicate field: several parents, and metadata or
/// properties spread over several 520-byte chunks.
fn has_duplicate(i: &Inscription) -> bool {
    let chunks = |v: &Option<Vec<u8>>| v.as_ref().map_or(0, |v| v.len().div_ceil(MAX_PUSH));
    i.parents.len() > 1 || chunks(&i.metadata) > 1 || chunks(&i.properties) > 1
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn envelope_round_trips(i in any_inscription()) {
        let script = i.envelope_script();
        let found = Envelope::from_tapscript(&script, 0).unwrap();
        prop_assert_eq!(found.len(), 1);
        let e = &found[0];
        prop_assert_eq!(&e.inscription, &as_parsed(i.clone()));
        prop_assert!(!e.pushnum && !e.stutter && !e.incomplete_field && !e.unrecognized_even_field);
        prop_assert_eq!(e.duplicate_field, has_duplicate(&i));
        prop_assert_eq!((e.input, e.offset), (0, 0));
        fixtures::ord_reference::assert_ord_writes_the_same(&i);
    }

    #[test]
    fn batch_reveal_round_trips(batch in vec(any_inscription(), 1..=3)) {
        let leaf = Inscription::reveal_script(&key(), &batch);
        let tx = transaction(vec![reveal_witness(leaf.as_bytes())]);
        fixtures::ord_reference::assert_ord_reads_the_same(&tx);
        let found = Envelope::from_transaction(&tx);
        prop_assert_eq!(found.len(), batch.len());
        for (n, (e, i)) in found.iter().zip(&batch).enumerate() {
            prop_assert_eq!(&e.inscription, &as_parsed(i.clone()));
            prop_assert_eq!((e.input, e.offset as usize), (0, n));
            prop_assert!(!e.pushnum && !e.stutter);
        }
    }

    #[test]
    fn arbitrary_tapscript_never_panics(
        prefix in prop_oneof![Just(vec![]), Just(vec![0x00, 0x63, 0x03, b'o', b'r', b'd'])],
        tail in bytes(600),
    ) {
        let mut script = prefix;
        script.extend_from_slice(&tail);
        let _ = Envelope::from_tapscript(Script::from_bytes(&script), 0);
    }

    /// Differential against ord's parser on scripts built from the pieces envelopes are made
    /// of, in any order: pushes, tags, `OP_0`, `OP_IF`, `OP_ENDIF`, push numbers, stray opcodes.
    #[test]
    fn ord_parses_envelope_like_scripts_as_we_do(
        pieces in vec(envelope_piece(), 0..40),
        annex in any::<bool>(),
    ) {
        let script: Vec<u8> = pieces.concat();
        let mut witness = reveal_witness(&script).to_vec();
        if annex {
            witness.push(vec![0x50, 1, 2]);
        }
        let tx = transaction(vec![Witness::from_slice(&witness)]);
        fixtures::ord_reference::assert_ord_reads_the_same(&tx);
    }

    #[test]
    fn arbitrary_witnesses_never_panic(witnesses in vec(vec(bytes(300), 0..5), 0..4)) {
        let tx = transaction(witnesses.iter().map(|w| Witness::from_slice(w)).collect());
        fixtures::ord_reference::assert_ord_reads_the_same(&tx);
        for e in Envelope::from_transaction(&tx) {
            let _ = e.curse();
            let _ = e.inscription.pointer();
            let _ = e.inscription.parent_ids();
        }
    }
}
