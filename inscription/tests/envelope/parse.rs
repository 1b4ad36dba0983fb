//! ord's parser edge cases and curses, on real transactions. Expected results follow ord's
//! `src/inscriptions/envelope.rs` tests and the curse order of
//! `src/index/updater/inscription_updater.rs`.

use bitcoin::opcodes::all::{
    OP_AND, OP_CHECKSIG, OP_ENDIF, OP_IF, OP_PUSHDATA1, OP_PUSHNUM_1, OP_PUSHNUM_16,
    OP_PUSHNUM_NEG1,
};
use bitcoin::opcodes::OP_FALSE;
use bitcoin::script::ScriptBuf;
use bitcoin::Witness;
use inscription::{Curse, Envelope, Inscription, InscriptionId, Tag};

use super::support::{
    envelope, key_path_witness, leaf_witness, reveal_witness, script, transaction, Item,
};

const ORD: &[u8] = b"ord";
const TEXT: &[u8] = b"text/plain;charset=utf-8";

/// Our parse of a transaction with these input witnesses — checked against ord's own parser
/// (the `ord` crate) on every call.
fn parse(witnesses: Vec<Witness>) -> Vec<Envelope> {
    let tx = transaction(witnesses);
    fixtures::ord_reference::assert_ord_reads_the_same(&tx);
    Envelope::from_transaction(&tx)
}

fn one(script: &ScriptBuf) -> Envelope {
    let mut found = parse(vec![leaf_witness(script)]);
    assert_eq!(found.len(), 1, "{script:?}");
    found.remove(0)
}

fn text(body: &[u8]) -> Inscription {
    Inscription::new("text/plain;charset=utf-8", body.to_vec())
}

#[test]
fn plain_envelope_has_no_flags() {
    let e = one(&envelope(&[ORD, &[1], TEXT, &[], b"ord"]));
    assert_eq!(e.inscription, text(b"ord"));
    assert_eq!(e.curse(), None);
    assert!(!e.unbound());
}

#[test]
fn pushnum_as_a_value() {
    // OP_1 stands for the tag byte 1 (content type); OP_16 and OP_1NEGATE in the body.
    let s = script(&[
        Item::Op(OP_FALSE),
        Item::Op(OP_IF),
        Item::Push(ORD),
        Item::Op(OP_PUSHNUM_1),
        Item::Push(TEXT),
        Item::Push(&[]),
        Item::Op(OP_PUSHNUM_16),
        Item::Op(OP_PUSHNUM_NEG1),
        Item::Op(OP_ENDIF),
    ]);
    let e = one(&s);
    assert!(e.pushnum);
    assert_eq!(e.inscription, text(&[16, 0x81]));
    assert_eq!(e.curse(), Some(Curse::Pushnum));

    // Every OP_n, as ord's pushnum_opcodes_are_parsed_correctly.
    for n in 1..=16u8 {
        let op = bitcoin::Opcode::from(OP_PUSHNUM_1.to_u8() + n - 1);
        let s = script(&[
            Item::Op(OP_FALSE),
            Item::Op(OP_IF),
            Item::Push(ORD),
            Item::Push(&[]),
            Item::Op(op),
            Item::Op(OP_ENDIF),
        ]);
        let e = one(&s);
        assert!(e.pushnum);
        assert_eq!(e.inscription.body, Some(vec![n]));
    }
}

#[test]
fn stutter() {
    let stuttered = |items: &[Item<'_>]| {
        let e = one(&script(items));
        assert_eq!(e.inscription, Inscription::default());
        e.stutter
    };
    use Item::{Op, Push};
    // ord's `stuttering` cases.
    assert!(stuttered(&[
        Op(OP_FALSE),
        Op(OP_FALSE),
        Op(OP_IF),
        Push(ORD),
        Op(OP_ENDIF)
    ]));
    assert!(stuttered(&[
        Op(OP_FALSE),
        Op(OP_IF),
        Op(OP_FALSE),
        Op(OP_IF),
        Push(ORD),
        Op(OP_ENDIF)
    ]));
    assert!(stuttered(&[
        Op(OP_FALSE),
        Op(OP_IF),
        Op(OP_FALSE),
        Op(OP_IF),
        Op(OP_FALSE),
        Op(OP_IF),
        Push(ORD),
        Op(OP_ENDIF)
    ]));
    assert!(!stuttered(&[
        Op(OP_FALSE),
        Op(OP_FALSE),
        Op(OP_AND),
        Op(OP_FALSE),
        Op(OP_IF),
        Push(ORD),
        Op(OP_ENDIF)
    ]));
    let e = one(&script(&[
        Op(OP_FALSE),
        Op(OP_FALSE),
        Op(OP_IF),
        Push(ORD),
        Op(OP_ENDIF),
    ]));
    assert_eq!(e.curse(), Some(Curse::Stutter));
}

#[test]
fn duplicate_field_keeps_the_first_value() {
    let e = one(&envelope(&[ORD, &[1], TEXT, &[1], b"image/png", &[], b"x"]));
    assert!(e.duplicate_field);
    assert_eq!(
        e.inscription.content_type(),
        Some("text/plain;charset=utf-8")
    );
    assert_eq!(e.curse(), Some(Curse::DuplicateField));

    // ord's duplicate_pointer_field_makes_inscription_unbound: the second pointer is left
    // over among the unknown fields, and 2 is even.
    let e = one(&envelope(&[ORD, &[2], &[1], &[2], &[0]]));
    assert_eq!(e.inscription.pointer, Some(vec![1]));
    assert!(e.duplicate_field && e.unrecognized_even_field);
    assert_eq!(e.curse(), Some(Curse::UnrecognizedEvenField));
    assert!(e.unbound());

    // A repeated unknown odd tag (Nop) is still a duplicate, as in ord's duplicate_field.
    let e = one(&envelope(&[
        ORD,
        &[Tag::Nop.byte()],
        &[],
        &[Tag::Nop.byte()],
        &[],
    ]));
    assert!(e.duplicate_field && !e.unrecognized_even_field);
}

#[test]
fn chunked_fields_and_parents_count_as_duplicates() {
    // ord's metadata_is_parsed_correctly_from_chunks.
    let e = one(&envelope(&[ORD, &[5], &[0], &[5], &[1]]));
    assert_eq!(e.inscription.metadata, Some(vec![0, 1]));
    assert!(e.duplicate_field);
    // ord's metadata_is_parsed_correctly: an explicit empty chunk is Some(empty).
    let e = one(&envelope(&[ORD, &[5], &[]]));
    assert_eq!(e.inscription.metadata, Some(vec![]));
    let e = one(&envelope(&[ORD, &[17], &[0], &[17], &[1]]));
    assert_eq!(e.inscription.properties, Some(vec![0, 1]));
    assert!(e.duplicate_field);
    let a = [7u8; 32];
    let b = [8u8; 33];
    let e = one(&envelope(&[ORD, &[3], &a, &[3], &b]));
    assert_eq!(e.inscription.parents, vec![a.to_vec(), b.to_vec()]);
    assert_eq!(e.inscription.parent_ids().len(), 2);
    assert!(e.duplicate_field);
}

#[test]
fn incomplete_field() {
    let e = one(&envelope(&[ORD, &[99]]));
    assert!(e.incomplete_field);
    assert_eq!(e.curse(), Some(Curse::IncompleteField));
    let e = one(&envelope(&[ORD, &[1], TEXT, &[5]]));
    assert!(e.incomplete_field);
    assert_eq!(
        e.inscription.content_type(),
        Some("text/plain;charset=utf-8")
    );
    assert_eq!(e.inscription.body, None);
}

#[test]
fn unknown_even_tag_unbinds_and_odd_tag_is_ignored() {
    let e = one(&envelope(&[ORD, &[22], &[0]]));
    assert!(e.unrecognized_even_field);
    assert!(e.unbound());
    assert_eq!(e.curse(), Some(Curse::UnrecognizedEvenField));
    let e = one(&envelope(&[ORD, &[Tag::Unbound.byte()], &[1]]));
    assert!(e.unbound());
    // A two-byte tag is judged by its first byte, as ord does.
    let e = one(&envelope(&[ORD, &[2, 0], &[1]]));
    assert!(e.unrecognized_even_field);
    assert_eq!(e.inscription.pointer, None);

    let e = one(&envelope(&[
        ORD,
        &[1],
        TEXT,
        &[255],
        b"bar",
        &[21],
        b"baz",
        &[],
        b"ord",
    ]));
    assert_eq!(e.inscription, text(b"ord"));
    assert_eq!(e.curse(), None);
    // The note (15) is odd too: ord ignores it; we keep its value.
    let e = one(&envelope(&[ORD, &[15], b"n", &[], b"x"]));
    assert_eq!(e.curse(), None);
    assert_eq!(e.inscription.note, Some(b"n".to_vec()));
}

#[test]
fn not_in_first_input() {
    let leaf = Inscription::reveal_script(&super::support::key(), &[text(b"second")]);
    let found = parse(vec![key_path_witness(), reveal_witness(leaf.as_bytes())]);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].input, found[0].offset), (1, 0));
    assert_eq!(found[0].inscription, text(b"second"));
    assert_eq!(found[0].curse(), Some(Curse::NotInFirstInput));
}

#[test]
fn not_at_offset_zero() {
    let mut s = ScriptBuf::new();
    s.push_opcode(OP_CHECKSIG);
    text(b"foo").append_envelope(&mut s);
    s.push_opcode(OP_CHECKSIG);
    text(b"bar").append_envelope(&mut s);
    let found = parse(vec![leaf_witness(&s)]);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].curse(), None);
    assert_eq!(found[1].offset, 1);
    assert_eq!(found[1].inscription, text(b"bar"));
    assert_eq!(found[1].curse(), Some(Curse::NotAtOffsetZero));
}

#[test]
fn annex_moves_the_leaf_script_to_third_from_last() {
    let leaf = Inscription::reveal_script(&super::support::key(), &[text(b"annexed")]);
    let mut witness = reveal_witness(leaf.as_bytes());
    witness.push([0x50, 0x01, 0x02]);
    let found = parse(vec![witness]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].inscription, text(b"annexed"));

    // With the annex, the second-to-last element (the control block) is not read.
    let env = envelope(&[ORD, &[], b"x"]);
    let found = parse(vec![Witness::from_slice(&[
        vec![0; 64],
        vec![0xc0; 33],
        env.to_bytes(),
        vec![0x50],
    ])]);
    assert!(found.is_empty());

    // ord's ignore_key_path_spends_with_annex and ignore_key_path_spends.
    assert!(parse(vec![Witness::from_slice(&[env.to_bytes(), vec![0x50]])]).is_empty());
    assert!(parse(vec![Witness::from_slice(&[env.to_bytes()])]).is_empty());
    assert!(parse(vec![Witness::new()]).is_empty());
}

#[test]
fn undecodable_tapscript_drops_all_of_its_inputs_envelopes() {
    // A good envelope, then a push that runs past the end (ord's ignore_unparsable_scripts).
    let mut bytes = envelope(&[ORD, &[1], TEXT, &[], b"lost"]).to_bytes();
    bytes.push(0x01);
    assert!(parse(vec![Witness::from_slice(&[bytes.clone(), vec![]])]).is_empty());
    // OP_PUSHDATA1 announcing more bytes than follow.
    let mut short = envelope(&[ORD, &[], b"lost too"]).to_bytes();
    short.extend_from_slice(&[OP_PUSHDATA1.to_u8(), 0x10, 0xaa]);
    assert!(parse(vec![Witness::from_slice(&[short, vec![]])]).is_empty());

    // Other inputs still count, and ids start where the good inputs leave off.
    let good = Inscription::reveal_script(&super::support::key(), &[text(b"kept")]);
    let tx = transaction(vec![
        Witness::from_slice(&[bytes, vec![]]),
        reveal_witness(good.as_bytes()),
    ]);
    let found = Envelope::from_transaction(&tx);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].input, 1);
    assert_eq!(found[0].inscription, text(b"kept"));
}

#[test]
fn op_false_op_if_without_ord_is_not_an_envelope() {
    assert!(parse(vec![leaf_witness(&envelope(&[b"foo", &[], b"x"]))]).is_empty());
    assert!(parse(vec![leaf_witness(&envelope(&[]))]).is_empty());
    // Scanning goes on after it: a real envelope later is found, at offset 0.
    let mut s = envelope(&[b"foo"]);
    text(b"real").append_envelope(&mut s);
    let found = parse(vec![leaf_witness(&s)]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].offset, 0);
    assert_eq!(found[0].inscription, text(b"real"));
    assert!(!found[0].stutter);
    // OP_IF without OP_FALSE, and no OP_ENDIF (ord's no_op_false, no_endif).
    let s = script(&[Item::Op(OP_IF), Item::Push(ORD), Item::Op(OP_ENDIF)]);
    assert!(parse(vec![leaf_witness(&s)]).is_empty());
    let s = script(&[Item::Op(OP_FALSE), Item::Op(OP_IF), Item::Push(ORD)]);
    assert!(parse(vec![leaf_witness(&s)]).is_empty());
}

#[test]
fn non_push_opcode_inside_discards_the_envelope() {
    let s = script(&[
        Item::Op(OP_FALSE),
        Item::Op(OP_IF),
        Item::Push(ORD),
        Item::Push(&[1]),
        Item::Push(TEXT),
        Item::Op(OP_CHECKSIG),
        Item::Push(&[]),
        Item::Push(b"gone"),
        Item::Op(OP_ENDIF),
    ]);
    assert!(parse(vec![leaf_witness(&s)]).is_empty());
    // The next envelope is then the first one: offset 0.
    let mut s = s;
    text(b"after").append_envelope(&mut s);
    let found = parse(vec![leaf_witness(&s)]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].offset, 0);
    assert_eq!(found[0].curse(), None);
}

#[test]
fn content_outside_the_envelope_is_ignored() {
    // ord's valid_ignore_trailing and valid_ignore_preceding.
    let mut s = ScriptBuf::new();
    s.push_opcode(OP_CHECKSIG);
    text(b"ord").append_envelope(&mut s);
    s.push_opcode(OP_CHECKSIG);
    assert_eq!(one(&s).inscription, text(b"ord"));
}

#[test]
fn ids_are_counted_across_inputs_in_order() {
    let k = super::support::key();
    let two = Inscription::reveal_script(&k, &[text(b"a"), text(b"b")]);
    let one_more = Inscription::reveal_script(&k, &[text(b"c")]);
    let tx = transaction(vec![
        reveal_witness(two.as_bytes()),
        key_path_witness(),
        reveal_witness(one_more.as_bytes()),
    ]);
    let txid = tx.compute_txid();
    let found = Envelope::from_transaction(&tx);
    let got: Vec<(String, u32, u32, Vec<u8>)> = found
        .iter()
        .enumerate()
        .map(|(n, e)| {
            (
                Envelope::id(txid, n).to_string(),
                e.input,
                e.offset,
                e.inscription.body().to_vec(),
            )
        })
        .collect();
    let id = |n: u32| InscriptionId::new(txid, n).to_string();
    assert_eq!(
        got,
        vec![
            (id(0), 0, 0, b"a".to_vec()),
            (id(1), 0, 1, b"b".to_vec()),
            (id(2), 2, 0, b"c".to_vec()),
        ]
    );
    let curses: Vec<_> = found.iter().map(Envelope::curse).collect();
    assert_eq!(
        curses,
        vec![
            None,
            Some(Curse::NotAtOffsetZero),
            Some(Curse::NotInFirstInput)
        ]
    );
}

#[test]
fn curses_come_in_ords_order() {
    // Everything at once: the unknown even field wins.
    let mut e = one(&envelope(&[ORD, &[22], &[0], &[1], TEXT, &[1], TEXT, &[9]]));
    e.input = 1;
    e.offset = 1;
    e.pushnum = true;
    e.stutter = true;
    e.inscription.pointer = Some(vec![1]);
    let order = [
        Curse::UnrecognizedEvenField,
        Curse::DuplicateField,
        Curse::IncompleteField,
        Curse::NotInFirstInput,
        Curse::NotAtOffsetZero,
        Curse::Pointer,
        Curse::Pushnum,
        Curse::Stutter,
    ];
    for expected in order {
        assert_eq!(e.curse(), Some(expected));
        match expected {
            Curse::UnrecognizedEvenField => e.unrecognized_even_field = false,
            Curse::DuplicateField => e.duplicate_field = false,
            Curse::IncompleteField => e.incomplete_field = false,
            Curse::NotInFirstInput => e.input = 0,
            Curse::NotAtOffsetZero => e.offset = 0,
            Curse::Pointer => e.inscription.pointer = None,
            Curse::Pushnum => e.pushnum = false,
            Curse::Stutter => e.stutter = false,
        }
    }
    assert_eq!(e.curse(), None);
}

#[test]
fn empty_and_multiple_empty_body_pushes() {
    // ord's valid_body_in_zero_pushes and valid_body_in_multiple_empty_pushes.
    assert_eq!(
        one(&envelope(&[ORD, &[1], TEXT, &[]])).inscription,
        text(b"")
    );
    assert_eq!(
        one(&envelope(&[ORD, &[1], TEXT, &[], &[], &[], &[]])).inscription,
        text(b"")
    );
    // ord's no_content_type and valid_body_in_multiple_pushes.
    let e = one(&envelope(&[ORD, &[], b"foo", b"bar"]));
    assert_eq!(e.inscription.body, Some(b"foobar".to_vec()));
    assert_eq!(e.inscription.content_type, None);
}
