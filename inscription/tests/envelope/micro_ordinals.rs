//! Cross-check against micro-ordinals (npm, 0.3.0), a JavaScript ordinals library written
//! independently of ord: it must read every envelope we write (and the real ord reveals
//! among the vectors) as our parser does, and its own reveal-script writer must produce our
//! bytes wherever it can express the inscription.
//!
//! Where micro-ordinals is documented or seen to differ from ord, the comparison makes an
//! exception, each spelled out at the place it applies:
//! 1. It has no "no body": an envelope without the body tag reads as an empty body, and its
//!    writer always writes the body tag.
//! 2. (None for ids: it reads and writes `<txid>i<n>` with the txid in ord's display order.)
//! 3. One parent comes back as a string, several as an array.
//! 4. Its writer puts pointer 0 as `01 02 01 00` (tag 2, a one-byte zero) where ord writes
//!    an empty push `01 02 00`; and its reader throws ("non-bytes tag data") on any tag whose
//!    value is an empty push, so it cannot read ord's pointer 0 at all.
//! 5. It writes tags in the order of the object's keys and chunks every tag value; we give
//!    it ord's order, and only metadata is ever longer than 520 bytes here.
//! 6. Its `cursed` is only pushnum or stutter.

use bitcoin::hashes::Hash;
use bitcoin::XOnlyPublicKey;
use inscription::{Envelope, Inscription, InscriptionId};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

use super::support::{hex, key, reveal_stack, unhex};
use super::vectors;

/// An id as micro-ordinals prints it: the same text as ord's (see note 2).
fn mo_id(id: &InscriptionId) -> String {
    id.to_string()
}

fn text(v: &Option<Vec<u8>>) -> Option<String> {
    v.as_ref().map(|b| String::from_utf8(b.clone()).unwrap())
}

/// Checks micro-ordinals' reading of one envelope against ours.
fn compare(ours: &Envelope, theirs: &Value) -> Result<(), String> {
    let i = &ours.inscription;
    let tags = &theirs["tags"];
    let mut expected = serde_json::Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(v) = value {
            expected.insert(name.to_owned(), v);
        }
    };
    put("contentType", text(&i.content_type).map(Value::from));
    put(
        "contentEncoding",
        text(&i.content_encoding).map(Value::from),
    );
    put("metaprotocol", text(&i.metaprotocol).map(Value::from));
    put("note", text(&i.note).map(Value::from));
    put("pointer", i.pointer().map(|p| Value::from(p.to_string())));
    put("delegate", i.delegate_id().map(|d| Value::from(mo_id(&d))));
    put(
        "metadata",
        i.metadata.as_deref().map(|m| Value::from(hex(m))),
    );
    // Exception 3: one parent is a string, several an array.
    let parents: Vec<String> = i.parent_ids().iter().map(mo_id).collect();
    match parents.len() {
        0 => {}
        1 => put("parent", Some(Value::from(parents[0].clone()))),
        _ => put("parent", Some(json!(parents))),
    }
    if tags != &Value::Object(expected.clone()) {
        return Err(format!(
            "tags: micro-ordinals {tags}, ours {}",
            Value::Object(expected)
        ));
    }
    if theirs["unknown"] != json!([]) {
        return Err(format!("unexpected unknown tags {}", theirs["unknown"]));
    }
    // Exception 1: no body reads as an empty body.
    if theirs["body"] != hex(i.body()) {
        return Err(format!(
            "body: micro-ordinals {}, ours {}",
            theirs["body"],
            hex(i.body())
        ));
    }
    // Exception 6.
    if theirs["cursed"] != json!(ours.pushnum || ours.stutter) {
        return Err(format!("cursed: {}", theirs["cursed"]));
    }
    Ok(())
}

/// micro-ordinals' `p2tr_ord_reveal` input for `i`, tags in ord's order (exception 5), or
/// `None` where its writer cannot express the inscription.
fn mo_inscription(i: &Inscription) -> Option<Value> {
    // Exception 1: it always writes a body. Exception 4: its pointer 0 is not ord's.
    if i.body.is_none() || i.pointer() == Some(0) {
        return None;
    }
    let mut tags: Vec<Value> = Vec::new();
    let mut put = |name: &str, value: Value| tags.push(json!([name, value]));
    if let Some(v) = text(&i.content_type) {
        put("contentType", v.into());
    }
    if let Some(v) = text(&i.content_encoding) {
        put("contentEncoding", v.into());
    }
    if let Some(v) = text(&i.metaprotocol) {
        put("metaprotocol", v.into());
    }
    let parents: Vec<String> = i.parent_ids().iter().map(mo_id).collect();
    match parents.len() {
        0 => {}
        1 => put("parent", parents[0].clone().into()),
        _ => put("parent", json!(parents)),
    }
    if let Some(d) = i.delegate_id() {
        put("delegate", mo_id(&d).into());
    }
    if let Some(p) = i.pointer() {
        put("pointer", p.to_string().into());
    }
    if let Some(m) = &i.metadata {
        // micro-ordinals encodes a value itself: hand it the JSON value our CBOR holds.
        put(
            "metadata",
            ciborium::from_reader::<Value, _>(m.as_slice()).unwrap(),
        );
    }
    if let Some(v) = text(&i.note) {
        put("note", v.into());
    }
    Some(json!({ "tags": tags, "body": hex(i.body()) }))
}

fn reveal_request(key: &XOnlyPublicKey, inscriptions: &[Inscription]) -> Option<Value> {
    let list: Option<Vec<Value>> = inscriptions.iter().map(mo_inscription).collect();
    Some(json!({ "pubkey": hex(&key.serialize()), "inscriptions": list? }))
}

/// The witness stack of a vector: the real one for ord's transactions, else a reveal
/// witness around the leaf script.
fn vector_witness(v: &Value) -> Vec<Vec<u8>> {
    match v["transaction_hex"].as_str() {
        Some(tx) => {
            let tx: bitcoin::Transaction =
                bitcoin::consensus::encode::deserialize(&unhex(tx)).unwrap();
            tx.input[0].witness.iter().map(<[u8]>::to_vec).collect()
        }
        None => reveal_stack(&unhex(v["leaf_script_hex"].as_str().unwrap())),
    }
}

fn ours(stack: &[Vec<u8>]) -> Vec<Envelope> {
    let tx = super::support::transaction(vec![bitcoin::Witness::from_slice(stack)]);
    Envelope::from_transaction(&tx)
}

fn micro_ordinals_parse(stacks: &[Vec<Vec<u8>>]) -> Vec<Value> {
    let out = fixtures::micro_ordinals::parse(stacks).unwrap_or_else(|e| panic!("{e}"));
    out["results"].as_array().unwrap().clone()
}

#[test]
fn micro_ordinals_reads_every_vector_as_we_do() {
    let vectors = vectors::load();
    let stacks: Vec<Vec<Vec<u8>>> = vectors.iter().map(vector_witness).collect();
    let results = micro_ordinals_parse(&stacks);
    assert_eq!(results.len(), vectors.len());
    for ((v, stack), theirs) in vectors.iter().zip(&stacks).zip(&results) {
        let name = v["name"].as_str().unwrap();
        let ours = ours(stack);
        assert!(!ours.is_empty(), "{name}");
        if ours
            .iter()
            .any(|e| e.inscription.pointer.as_deref() == Some(&[]))
        {
            // Exception 4: ord's pointer 0 is an empty push, which micro-ordinals refuses.
            assert_eq!(
                theirs["error"], "parseInscription: non-bytes tag data",
                "{name}: {theirs}"
            );
            continue;
        }
        let found = theirs["inscriptions"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: micro-ordinals found nothing: {theirs}"));
        assert_eq!(found.len(), ours.len(), "{name}");
        for (e, t) in ours.iter().zip(found) {
            compare(e, t).unwrap_or_else(|err| panic!("{name}: {err}"));
        }
    }
}

#[test]
fn micro_ordinals_writes_our_leaf_scripts() {
    let vectors = vectors::vectors();
    let mut requests = Vec::new();
    let mut names = Vec::new();
    let mut skipped = Vec::new();
    for v in &vectors {
        match reveal_request(&v.key, &v.inscriptions) {
            Some(r) => {
                requests.push(r);
                names.push(v.name);
            }
            None => skipped.push(v.name),
        }
    }
    // Exceptions 1 and 4: no body, and pointer 0.
    assert_eq!(
        skipped,
        [
            "ord-test-pointer-encode",
            "ord-test-no-fields",
            "pointer-0",
            "delegate-index-1",
            "delegate-index-256",
            "no-body"
        ]
    );
    let scripts =
        fixtures::micro_ordinals::reveal_many(&requests).unwrap_or_else(|e| panic!("{e}"));
    for ((v, name), script) in vectors
        .iter()
        .filter(|v| !skipped.contains(&v.name))
        .zip(&names)
        .zip(scripts)
    {
        let ours = Inscription::reveal_script(&v.key, &v.inscriptions);
        assert_eq!(
            hex(&script.unwrap_or_else(|e| panic!("{name}: {e}"))),
            hex(ours.as_bytes()),
            "{name}"
        );
    }
}

#[test]
fn micro_ordinals_pointer_zero_is_not_ords() {
    // Exception 4, seen from the writer: micro-ordinals' pointer 0 is tag 2 with one zero
    // byte. ord reads that as pointer 0 too, but the bytes differ from ord's `02 00`.
    let html = Inscription::new("text/html;charset=utf-8", b"<p>0</p>".to_vec()).with_pointer(0);
    let request = json!({
        "pubkey": hex(&key().serialize()),
        "inscriptions": [{
            "tags": [["contentType", "text/html;charset=utf-8"], ["pointer", "0"]],
            "body": hex(html.body()),
        }],
    });
    let theirs = fixtures::micro_ordinals::reveal_many(&[request])
        .unwrap()
        .remove(0)
        .unwrap();
    let ours = Inscription::reveal_script(&key(), std::slice::from_ref(&html));
    assert_ne!(theirs, ours.as_bytes());
    let tail = |s: &[u8]| hex(&s[34..]);
    // Tag 2, its value, the body tag, then the 8-byte body push.
    assert!(
        tail(&theirs).contains("0102010000083c"),
        "{}",
        tail(&theirs)
    );
    assert!(
        tail(ours.as_bytes()).contains("01020000083c"),
        "{}",
        tail(ours.as_bytes())
    );
    let parsed = Envelope::from_tapscript(bitcoin::Script::from_bytes(&theirs), 0).unwrap();
    assert_eq!(parsed[0].inscription.pointer(), Some(0));
}

#[test]
fn simple_html_reveal_is_byte_identical() {
    // shared/reference/ord.md: micro-ordinals' leaf script for a simple HTML inscription is
    // byte-identical to ord's.
    let html = Inscription::new(
        "text/html;charset=utf-8",
        b"<!doctype html><title>hi</title><p>hello".to_vec(),
    );
    let request = json!({
        "pubkey": hex(&key().serialize()),
        "inscriptions": [{"tags": {"contentType": "text/html;charset=utf-8"}, "body": hex(html.body())}],
    });
    let theirs = fixtures::micro_ordinals::run(&json!({ "reveal": request })).unwrap();
    let ours = Inscription::reveal_script(&key(), &[html]);
    assert_eq!(theirs["script"], hex(ours.as_bytes()));
}

/// A short non-empty string (micro-ordinals refuses empty tag values: exception 4).
fn word() -> impl Strategy<Value = String> {
    "\\PC{1,30}"
}

fn any_id() -> impl Strategy<Value = InscriptionId> {
    (any::<[u8; 32]>(), any::<u32>())
        .prop_map(|(t, n)| InscriptionId::new(bitcoin::Txid::from_byte_array(t), n))
}

/// JSON-like metadata as ord makes it from `--json-metadata`, sometimes over 520 bytes.
fn metadata() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(Value::from),
        "[a-z ]{0,40}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
    ];
    let value = prop_oneof![
        "\\PC{0,700}".prop_map(Value::from),
        proptest::collection::btree_map("k[a-z]{0,8}", leaf, 0..6)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ];
    value.prop_map(|v| {
        let mut out = Vec::new();
        ciborium::into_writer(&v, &mut out).unwrap();
        out
    })
}

/// Inscriptions both libraries can express: text fields that are non-empty UTF-8, ids that
/// are well formed, pointers above 0, metadata that is CBOR.
fn well_formed() -> impl Strategy<Value = Inscription> {
    (
        proptest::option::of(word()),
        proptest::option::of(prop_oneof![Just("br".to_owned()), Just("gzip".to_owned())]),
        proptest::option::of(word()),
        vec(any_id(), 0..=3),
        proptest::option::of(any_id()),
        proptest::option::of(1..=u64::MAX),
        proptest::option::of(metadata()),
        proptest::option::of(word()),
        proptest::option::of(vec(any::<u8>(), 0..3000)),
    )
        .prop_map(
            |(ct, enc, mp, parents, delegate, pointer, metadata, note, body)| {
                let mut i = Inscription {
                    content_type: ct.map(String::into_bytes),
                    content_encoding: enc.map(String::into_bytes),
                    metaprotocol: mp.map(String::into_bytes),
                    metadata,
                    note: note.map(String::into_bytes),
                    body,
                    ..Inscription::default()
                };
                for p in parents {
                    i = i.with_parent(p);
                }
                if let Some(d) = delegate {
                    i = i.with_delegate(d);
                }
                if let Some(p) = pointer {
                    i = i.with_pointer(p);
                }
                i
            },
        )
}

#[test]
fn micro_ordinals_agrees_on_random_inscriptions() {
    const CASES: usize = 300;
    let mut runner = TestRunner::deterministic();
    let strategy = well_formed();
    let inscriptions: Vec<Inscription> = (0..CASES)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();

    // Reading: one node run for all of them.
    let stacks: Vec<Vec<Vec<u8>>> = inscriptions
        .iter()
        .map(|i| {
            reveal_stack(Inscription::reveal_script(&key(), std::slice::from_ref(i)).as_bytes())
        })
        .collect();
    let results = micro_ordinals_parse(&stacks);
    for (n, (stack, theirs)) in stacks.iter().zip(&results).enumerate() {
        let ours = ours(stack);
        assert_eq!(ours.len(), 1);
        let found = theirs["inscriptions"]
            .as_array()
            .unwrap_or_else(|| panic!("case {n}: {theirs}\n{:?}", inscriptions[n]));
        assert_eq!(found.len(), 1, "case {n}");
        compare(&ours[0], &found[0])
            .unwrap_or_else(|e| panic!("case {n}: {e}\n{:?}", inscriptions[n]));
    }

    // Writing: the same where micro-ordinals can write them, again in one node run.
    let (requests, expected): (Vec<Value>, Vec<Vec<u8>>) = inscriptions
        .iter()
        .filter_map(|i| {
            let one = std::slice::from_ref(i);
            Some((
                reveal_request(&key(), one)?,
                Inscription::reveal_script(&key(), one).into_bytes(),
            ))
        })
        .unzip();
    assert!(requests.len() > CASES / 3, "{} writable", requests.len());
    let scripts = fixtures::micro_ordinals::reveal_many(&requests).unwrap();
    for (n, (script, expected)) in scripts.into_iter().zip(expected).enumerate() {
        let script = script.unwrap_or_else(|e| panic!("writable case {n}: {e}"));
        assert_eq!(hex(&script), hex(&expected), "writable case {n}");
    }
}
