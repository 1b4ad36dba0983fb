//! The golden vectors in `fixtures/inscription/vectors.json`: recomputed here and compared
//! byte for byte, then parsed back. `UPDATE_FIXTURES=1 cargo test -p inscription --test
//! envelope` rewrites the file after a deliberate change; the vectors taken from ord
//! (`ord_sourced.rs`) are checked against ord's bytes by `ord_bytes_are_reproduced`, so a
//! rewrite cannot hide an encoder that drifted from ord.

use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::script::{Instruction, Script};
use bitcoin::{absolute::LockTime, transaction::Version, XOnlyPublicKey};
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use inscription::{compress_brotli_for, decompress_brotli, Envelope, Inscription, InscriptionId};
use serde_json::{json, Value};

use super::ord_sourced;
use super::support::{hex, key, reveal_witness, transaction, unhex};

/// Inscription #0's reveal, used as a parent and delegate id.
const GENESIS: &str = "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799";

pub const FIXTURE: &str = "inscription/vectors.json";

fn id(txid: &str, index: u32) -> InscriptionId {
    InscriptionId::new(txid.parse().unwrap(), index)
}

/// A deterministic HTML page of at least `len` bytes.
pub fn html(len: usize) -> Vec<u8> {
    let mut page = String::from(
        "<!doctype html><html><head><meta charset=utf-8><title>Lumamesh vector</title></head><body>\n",
    );
    let mut n = 0;
    while page.len() < len {
        page.push_str(&format!(
            "<p>line {n}: the quick brown fox jumps over the lazy dog</p>\n"
        ));
        n += 1;
    }
    page.push_str("</body></html>\n");
    page.into_bytes()
}

fn cbor(value: &Value) -> Vec<u8> {
    // What `ord wallet inscribe --json-metadata` does: serde_json value -> ciborium.
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

/// One vector: where its bytes come from, and the inscriptions of one leaf script.
pub struct Vector {
    pub name: &'static str,
    pub source: &'static str,
    pub key: XOnlyPublicKey,
    pub inscriptions: Vec<Inscription>,
    /// The real reveal, for vectors taken from a transaction ord's docs show.
    pub transaction: Option<Transaction>,
}

fn ours(name: &'static str, source: &'static str, inscriptions: Vec<Inscription>) -> Vector {
    Vector {
        name,
        source,
        key: key(),
        inscriptions,
        transaction: None,
    }
}

/// Parses ord's envelope bytes (no key prefix) into the inscriptions they hold.
fn parse_envelopes(hex_str: &str) -> Vec<Inscription> {
    let bytes = unhex(hex_str);
    Envelope::from_tapscript(Script::from_bytes(&bytes), 0)
        .unwrap()
        .into_iter()
        .map(|e| e.inscription)
        .collect()
}

/// The key pushed at the start of a leaf script.
fn leaf_key(leaf: &Script) -> XOnlyPublicKey {
    match leaf.instructions().next() {
        Some(Ok(Instruction::PushBytes(p))) => XOnlyPublicKey::from_slice(p.as_bytes()).unwrap(),
        other => panic!("leaf script does not start with a key: {other:?}"),
    }
}

/// The png reveal of ord's api.md, put back together from its JSON fields.
pub fn png_transaction() -> Transaction {
    use ord_sourced::png;
    let previous_output: OutPoint = png::PREVIOUS_OUTPUT.parse().unwrap();
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output,
            script_sig: ScriptBuf::new(),
            sequence: Sequence(png::SEQUENCE),
            witness: Witness::from_slice(&[
                unhex(png::SIGNATURE),
                unhex(&ord_sourced::png_leaf()),
                unhex(png::CONTROL_BLOCK),
            ]),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(png::OUTPUT_VALUE),
            script_pubkey: ScriptBuf::from_bytes(unhex(png::OUTPUT_SCRIPT)),
        }],
    }
}

pub fn primes_transaction() -> Transaction {
    deserialize(&unhex(ord_sourced::primes::TRANSACTION)).unwrap()
}

fn from_transaction(name: &'static str, source: &'static str, tx: Transaction) -> Vector {
    #[allow(deprecated)]
    let leaf = tx.input[0].witness.tapscript().unwrap().to_owned();
    Vector {
        name,
        source,
        key: leaf_key(&leaf),
        inscriptions: Envelope::from_transaction(&tx)
            .into_iter()
            .map(|e| e.inscription)
            .collect(),
        transaction: Some(tx),
    }
}

pub fn vectors() -> Vec<Vector> {
    const OURS_MO: &str =
        "lumamesh encoder; leaf script identical to micro-ordinals p2tr_ord_reveal";
    let text = "text/plain;charset=utf-8";
    let html_type = "text/html;charset=utf-8";
    let brotli = compress_brotli_for(html_type, &html(3000)).unwrap();
    assert_eq!(brotli.content_encoding, Some("br"));
    let metadata = json!({
        "description": "a".repeat(300) + &"b".repeat(300) + &"c".repeat(100),
        "name": "lumamesh metadata vector",
        "traits": { "chunks": 2, "size": 700 },
    });
    vec![
        Vector {
            name: "hello-world",
            source: "shared/reference/ord.md known-good envelope (ord's bytes); leaf script with our key",
            key: key(),
            inscriptions: parse_envelopes(ord_sourced::HELLO_ENVELOPE),
            transaction: None,
        },
        from_transaction(
            "ord-mainnet-png",
            "ord docs/src/guides/api.md: mainnet reveal 99811de396ff10152cdfc9588d9750d0151501f081df2e56071c42dc3532b743 (image/png, 844-byte body in a 520-byte and a 324-byte push); leaf script and transaction are ord's bytes",
            png_transaction(),
        ),
        from_transaction(
            "ord-recursion-primes",
            "ord docs/src/inscriptions/recursion.md: reveal 60bcf821240064a9c55225c4f01711b0ebbcab39aa3fafeefe4299ab158536fa; leaf script and transaction are ord's bytes",
            primes_transaction(),
        ),
        Vector {
            name: "ord-test-pointer-encode",
            source: "ord src/inscriptions/inscription.rs test pointer_encode: envelope(&[b\"ord\", &[2], &[1, 2, 3]]); leaf script with our key",
            key: key(),
            inscriptions: parse_envelopes(ord_sourced::POINTER_ENCODE_ENVELOPE),
            transaction: None,
        },
        Vector {
            name: "ord-test-no-fields",
            source: "ord src/inscriptions/{inscription.rs pointer_encode, envelope.rs round_trip_with_no_fields}: envelope(&[b\"ord\"]); leaf script with our key",
            key: key(),
            inscriptions: parse_envelopes(ord_sourced::NO_FIELDS_ENVELOPE),
            transaction: None,
        },
        ours("html-large", OURS_MO, vec![Inscription::new(html_type, html(1200))]),
        ours(
            "brotli",
            OURS_MO,
            vec![Inscription::new(html_type, brotli.body).with_content_encoding("br")],
        ),
        ours(
            "metadata-chunked",
            OURS_MO,
            vec![Inscription::new(text, b"metadata in two chunks".to_vec())
                .with_metadata(cbor(&metadata))],
        ),
        ours(
            "pointer-0",
            "lumamesh encoder (micro-ordinals writes pointer 0 differently: 01 02 01 00)",
            vec![Inscription::new(text, b"pointer 0".to_vec()).with_pointer(0)],
        ),
        ours(
            "pointer-10000",
            OURS_MO,
            vec![Inscription::new(text, b"pointer 10000".to_vec()).with_pointer(10_000)],
        ),
        ours(
            "parent-one",
            OURS_MO,
            vec![Inscription::new(text, b"child".to_vec()).with_parent(id(GENESIS, 0))],
        ),
        ours(
            "parents-two",
            OURS_MO,
            vec![Inscription::new(text, b"child of two".to_vec())
                .with_parent(id(GENESIS, 0))
                .with_parent(id(ord_sourced::png::TXID, 0))],
        ),
        ours(
            "delegate-index-1",
            "lumamesh encoder (no body: micro-ordinals always writes a body tag)",
            vec![Inscription::default().with_delegate(id(GENESIS, 1))],
        ),
        ours(
            "delegate-index-256",
            "lumamesh encoder (no body: micro-ordinals always writes a body tag)",
            vec![Inscription::default().with_delegate(id(GENESIS, 256))],
        ),
        ours(
            "metaprotocol",
            OURS_MO,
            vec![Inscription::new("application/json", br#"{"p":"lumamesh","op":"test"}"#.to_vec())
                .with_metaprotocol("lumamesh")],
        ),
        ours(
            "note",
            OURS_MO,
            vec![Inscription::new(text, b"with a note".to_vec()).with_note("hello note")],
        ),
        ours(
            "no-body",
            "lumamesh encoder (no body: micro-ordinals always writes a body tag)",
            vec![Inscription {
                content_type: Some(text.as_bytes().to_vec()),
                ..Inscription::default()
            }],
        ),
        ours("empty-body", OURS_MO, vec![Inscription::new(text, Vec::new())]),
        ours(
            "batch-3",
            OURS_MO,
            vec![
                Inscription::new(text, b"one".to_vec()),
                Inscription::new(html_type, b"<p>two</p>".to_vec()),
                Inscription::new("application/json", br#"{"three":3}"#.to_vec()),
            ],
        ),
    ]
}

fn utf8(value: &Option<Vec<u8>>) -> Value {
    match value {
        Some(v) => Value::String(String::from_utf8(v.clone()).expect("vector fields are UTF-8")),
        None => Value::Null,
    }
}

fn fields_json(i: &Inscription) -> Value {
    let pointer = i.pointer();
    if let Some(p) = pointer {
        assert_eq!(
            i.pointer,
            Inscription::default().with_pointer(p).pointer,
            "vector pointers are minimal"
        );
    }
    let parents: Vec<String> = i.parent_ids().iter().map(ToString::to_string).collect();
    assert_eq!(
        parents.len(),
        i.parents.len(),
        "vector parents are well formed"
    );
    assert!(i.rune.is_none() && i.properties.is_none() && i.property_encoding.is_none());
    let metadata_json = i.metadata.as_ref().map(|m| {
        ciborium::from_reader::<Value, _>(m.as_slice()).expect("vector metadata is JSON-like CBOR")
    });
    let mut fields = json!({
        "content_type": utf8(&i.content_type),
        "content_encoding": utf8(&i.content_encoding),
        "metaprotocol": utf8(&i.metaprotocol),
        "parents": parents,
        "delegate": i.delegate_id().map(|d| d.to_string()),
        "pointer": pointer,
        "metadata_hex": i.metadata.as_deref().map(hex),
        "metadata_json": metadata_json,
        "note": utf8(&i.note),
        "body_hex": i.body.as_deref().map(hex),
    });
    if i.content_encoding() == Some("br") {
        fields["decoded_body_hex"] = json!(hex(&decompress_brotli(i.body()).unwrap()));
    }
    fields
}

fn string(v: &Value) -> Option<Vec<u8>> {
    v.as_str().map(|s| s.as_bytes().to_vec())
}

/// Rebuilds an inscription from its JSON fields with the crate's builder methods.
pub fn fields_from_json(v: &Value) -> Inscription {
    let mut i = Inscription {
        content_type: string(&v["content_type"]),
        content_encoding: string(&v["content_encoding"]),
        metaprotocol: string(&v["metaprotocol"]),
        metadata: v["metadata_hex"].as_str().map(unhex),
        note: string(&v["note"]),
        body: v["body_hex"].as_str().map(unhex),
        ..Inscription::default()
    };
    for parent in v["parents"].as_array().unwrap() {
        i = i.with_parent(parent.as_str().unwrap().parse().unwrap());
    }
    if let Some(delegate) = v["delegate"].as_str() {
        i = i.with_delegate(delegate.parse().unwrap());
    }
    if let Some(pointer) = v["pointer"].as_u64() {
        i = i.with_pointer(pointer);
    }
    i
}

fn envelopes_hex(inscriptions: &[Inscription]) -> String {
    let mut script = ScriptBuf::new();
    for i in inscriptions {
        i.append_envelope(&mut script);
    }
    hex(script.as_bytes())
}

fn curses(leaf: &ScriptBuf) -> Vec<Option<String>> {
    Envelope::from_tapscript(leaf, 0)
        .unwrap()
        .iter()
        .map(|e| e.curse().map(|c| c.to_string()))
        .collect()
}

fn build() -> Value {
    let vectors: Vec<Value> = vectors()
        .iter()
        .map(|v| {
            let leaf = Inscription::reveal_script(&v.key, &v.inscriptions);
            let curses = curses(&leaf);
            let inscriptions: Vec<Value> = v
                .inscriptions
                .iter()
                .zip(curses)
                .map(|(i, curse)| {
                    let mut f = fields_json(i);
                    f["curse"] = json!(curse);
                    f
                })
                .collect();
            let mut out = json!({
                "name": v.name,
                "source": v.source,
                "key": hex(&v.key.serialize()),
                "inscriptions": inscriptions,
                "envelope_hex": envelopes_hex(&v.inscriptions),
                "leaf_script_hex": hex(leaf.as_bytes()),
            });
            if let Some(tx) = &v.transaction {
                let txid = tx.compute_txid();
                out["transaction_hex"] = json!(hex(&serialize(tx)));
                out["txid"] = json!(txid.to_string());
                out["ids"] = json!((0..v.inscriptions.len())
                    .map(|n| Envelope::id(txid, n).to_string())
                    .collect::<Vec<_>>());
            }
            out
        })
        .collect();
    json!({
        "description": "Ord inscription envelope vectors; fields are documented in fixtures/README.md. Generated and checked by inscription/tests/envelope/vectors.rs; vectors whose source names ord are ord's own bytes.",
        "vectors": vectors,
    })
}

#[test]
fn fixture_matches_the_encoder() {
    let expected = fixtures::canonical_json(&build());
    let path = fixtures::path(FIXTURE);
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let actual = fixtures::read(FIXTURE);
    assert!(
        actual == expected,
        "{} is stale: rerun with UPDATE_FIXTURES=1 after a deliberate change, then review the diff",
        path.display()
    );
}

pub fn load() -> Vec<Value> {
    let all: Value = serde_json::from_str(&fixtures::read(FIXTURE)).unwrap();
    all["vectors"].as_array().unwrap().clone()
}

#[test]
fn vectors_encode_byte_for_byte_and_parse_back() {
    let vectors = load();
    assert_eq!(vectors.len(), 19);
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let key: XOnlyPublicKey = v["key"].as_str().unwrap().parse().unwrap();
        let fields = v["inscriptions"].as_array().unwrap();
        let inscriptions: Vec<Inscription> = fields.iter().map(fields_from_json).collect();

        // Encode.
        assert_eq!(
            envelopes_hex(&inscriptions),
            v["envelope_hex"],
            "{name}: envelope"
        );
        let leaf = Inscription::reveal_script(&key, &inscriptions);
        assert_eq!(
            hex(leaf.as_bytes()),
            v["leaf_script_hex"],
            "{name}: leaf script"
        );

        // Parse back, from a reveal transaction.
        let tx = transaction(vec![reveal_witness(leaf.as_bytes())]);
        let found = Envelope::from_transaction(&tx);
        assert_eq!(found.len(), inscriptions.len(), "{name}");
        for (n, (e, f)) in found.iter().zip(fields).enumerate() {
            assert_eq!(e.inscription, inscriptions[n], "{name} #{n}");
            assert_eq!((e.input, e.offset), (0, n as u32), "{name} #{n}");
            assert_eq!(
                e.curse().map(|c| c.to_string()),
                f["curse"].as_str().map(str::to_owned),
                "{name} #{n}"
            );
            assert!(!e.pushnum && !e.stutter && !e.incomplete_field && !e.unbound());

            // Metadata is what ord makes of the JSON; brotli is ord's compression of the page.
            if let Some(m) = f["metadata_hex"].as_str() {
                assert_eq!(hex(&cbor(&f["metadata_json"])), m, "{name}: metadata");
            }
            if let Some(decoded) = f["decoded_body_hex"].as_str() {
                let decoded = unhex(decoded);
                assert_eq!(decompress_brotli(e.inscription.body()).unwrap(), decoded);
                let again =
                    compress_brotli_for(e.inscription.content_type().unwrap(), &decoded).unwrap();
                assert_eq!(again.body, e.inscription.body(), "{name}: brotli bytes");
            }
        }

        // The real transaction, where there is one.
        if let Some(tx_hex) = v["transaction_hex"].as_str() {
            let tx: Transaction = deserialize(&unhex(tx_hex)).unwrap();
            let txid = tx.compute_txid();
            assert_eq!(txid.to_string(), v["txid"], "{name}");
            let found = Envelope::from_transaction(&tx);
            let ids: Vec<String> = (0..found.len())
                .map(|n| Envelope::id(txid, n).to_string())
                .collect();
            assert_eq!(json!(ids), v["ids"], "{name}");
            for (e, i) in found.iter().zip(&inscriptions) {
                assert_eq!(&e.inscription, i, "{name}");
            }
            #[allow(deprecated)]
            let real_leaf = tx.input[0].witness.tapscript().unwrap();
            assert_eq!(real_leaf, leaf.as_script(), "{name}: ord's leaf script");
        }
    }
}

#[test]
fn ord_bytes_are_reproduced() {
    // ord.md: text/plain "Hello, world!".
    let hello = Inscription::new("text/plain;charset=utf-8", b"Hello, world!".to_vec());
    assert_eq!(
        hex(hello.envelope_script().as_bytes()),
        ord_sourced::HELLO_ENVELOPE
    );

    // ord's pointer_encode / round_trip_with_no_fields tests.
    let pointer = Inscription {
        pointer: Some(vec![1, 2, 3]),
        ..Inscription::default()
    };
    assert_eq!(
        hex(pointer.envelope_script().as_bytes()),
        ord_sourced::POINTER_ENCODE_ENVELOPE
    );
    assert_eq!(pointer.pointer(), Some(0x03_02_01));
    assert_eq!(
        hex(Inscription::default().envelope_script().as_bytes()),
        ord_sourced::NO_FIELDS_ENVELOPE
    );

    // The mainnet png reveal from ord's api.md: txid, fields and leaf script.
    let png = png_transaction();
    assert_eq!(png.compute_txid().to_string(), ord_sourced::png::TXID);
    let found = Envelope::from_transaction(&png);
    assert_eq!(found.len(), 1);
    let i = &found[0].inscription;
    assert_eq!(i.content_type(), Some("image/png"));
    assert!(i.body().starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(i.body().len(), 844);
    assert_eq!(found[0].curse(), None);
    let leaf = ord_sourced::png_leaf();
    let key = leaf_key(Script::from_bytes(&unhex(&leaf)));
    assert_eq!(
        hex(Inscription::reveal_script(&key, std::slice::from_ref(i)).as_bytes()),
        leaf
    );
    // Rebuilt from scratch, not from the parse.
    let rebuilt = Inscription::new("image/png", i.body().to_vec());
    assert_eq!(
        hex(Inscription::reveal_script(&key, &[rebuilt]).as_bytes()),
        leaf
    );

    // The primes reveal from ord's recursion.md.
    let primes = primes_transaction();
    assert_eq!(primes.compute_txid().to_string(), ord_sourced::primes::TXID);
    let found = Envelope::from_transaction(&primes);
    assert_eq!(found.len(), 1);
    let rebuilt = Inscription::new("text/plain;charset=utf-8", b"primes\n".to_vec());
    assert_eq!(found[0].inscription, rebuilt);
    #[allow(deprecated)]
    let leaf = primes.input[0].witness.tapscript().unwrap();
    assert_eq!(
        Inscription::reveal_script(&leaf_key(leaf), &[rebuilt]).as_script(),
        leaf
    );
    assert_eq!(
        Envelope::id(primes.compute_txid(), 0).to_string(),
        format!("{}i0", ord_sourced::primes::TXID)
    );
}
