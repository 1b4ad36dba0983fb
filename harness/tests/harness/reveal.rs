//! The store filled straight from reveal transactions: real reveal-shaped transactions
//! (input 0 witness `[signature, leaf script, control block]`, leaf = `<key> OP_CHECKSIG`
//! and the envelopes), served over a socket and loaded in Chromium.

use std::time::Duration;

use bitcoin::hashes::Hash;
use bitcoin::opcodes::all::{OP_ENDIF, OP_IF};
use bitcoin::opcodes::OP_FALSE;
use bitcoin::script::{Builder, ScriptBuf};
use bitcoin::secp256k1::{Keypair, Secp256k1};
use bitcoin::{
    absolute, transaction, Amount, OutPoint, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
    XOnlyPublicKey,
};
use harness::browser::{Browser, LaunchOptions};
use harness::http::get;
use harness::server::{
    ContentServer, FakeChain, LoadError, ServerConfig, Store, CACHE_IMMUTABLE, CSP_RECURSIVE,
    CSP_SELF,
};
use harness::InscriptionId;
use inscription::Inscription;

const HTML: &str = "text/html;charset=utf-8";

fn key() -> XOnlyPublicKey {
    let secp = Secp256k1::new();
    let keypair = Keypair::from_seckey_slice(&secp, &[7; 32]).expect("valid secret key");
    keypair.x_only_public_key().0
}

/// A reveal spending a made-up commit output (`seed` makes the txid differ); the envelopes
/// come from `inscriptions`, which gets the txid (witnesses are not part of it) so that
/// inscriptions can name each other.
fn reveal(seed: u8, inscriptions: impl FnOnce(Txid) -> Vec<Inscription>) -> Transaction {
    let script = |txid| Inscription::reveal_script(&key(), &inscriptions(txid));
    reveal_with(seed, script)
}

/// Like [`reveal`] with the whole leaf script given.
fn reveal_with(seed: u8, leaf: impl FnOnce(Txid) -> ScriptBuf) -> Transaction {
    let mut tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(Txid::from_byte_array([seed; 32]), 0),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(10_000),
            script_pubkey: ScriptBuf::new_p2tr_tweaked(
                bitcoin::key::TweakedPublicKey::dangerous_assume_tweaked(key()),
            ),
        }],
    };
    let txid = tx.compute_txid();
    let mut control_block = vec![0xc0];
    control_block.extend_from_slice(&key().serialize());
    tx.input[0].witness =
        Witness::from_slice(&[vec![0; 64], leaf(txid).into_bytes(), control_block]);
    assert_eq!(
        tx.compute_txid(),
        txid,
        "the witness does not change the txid"
    );
    tx
}

fn id(tx: &Transaction, index: u32) -> InscriptionId {
    InscriptionId::new(tx.compute_txid(), index)
}

/// i0 HTML with metadata, i1 brotli JavaScript, i2 untyped bytes; i1 and i2 name i0 as
/// their parent (tag 3), which ord does not honour: the reveal does not spend i0.
fn batch() -> (Transaction, Vec<u8>, Vec<u8>) {
    let js = "export const greeting = 'hello from a reveal';\n".repeat(20);
    let compressed = inscription::compress_brotli_for("text/javascript", js.as_bytes()).unwrap();
    assert_eq!(compressed.content_encoding, Some("br"));
    let br = compressed.body.clone();
    let tx = reveal(1, |txid| {
        let parent = InscriptionId::new(txid, 0);
        vec![
            Inscription::new(HTML, b"<p>hello</p>".to_vec())
                .with_metadata(vec![0xa1, 0x61, 0x61, 0x01]),
            Inscription::new("text/javascript", compressed.body)
                .with_content_encoding("br")
                .with_parent(parent),
            Inscription {
                body: Some(vec![0, 1, 2]),
                ..Inscription::default()
            }
            .with_parent(parent),
        ]
    });
    (tx, js.into_bytes(), br)
}

#[tokio::test]
async fn serves_every_inscription_of_a_reveal_at_its_id() {
    let (tx, js, br) = batch();
    let mut store = Store::new();
    let ids = store.insert_reveal(&tx).unwrap();
    assert_eq!(ids, [id(&tx, 0), id(&tx, 1), id(&tx, 2)]);
    let s = ContentServer::start(store, ServerConfig::default())
        .await
        .unwrap();
    let addr = s.addr();

    for (index, content_type) in [
        (0, HTML),
        (1, "text/javascript"),
        (2, "application/octet-stream"),
    ] {
        let r = get(
            addr,
            &format!("/content/{}", id(&tx, index)),
            &[("Accept-Encoding", "br")],
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200, "i{index}");
        assert_eq!(r.header("content-type"), Some(content_type), "i{index}");
        assert_eq!(
            r.header_all("content-security-policy"),
            vec![CSP_SELF, CSP_RECURSIVE],
            "i{index}"
        );
        assert_eq!(r.header("cache-control"), Some(CACHE_IMMUTABLE), "i{index}");
    }
    let path = format!("/content/{}", id(&tx, 0));
    assert_eq!(get(addr, &path, &[]).await.unwrap().body, b"<p>hello</p>");
    let path = format!("/content/{}", id(&tx, 2));
    assert_eq!(get(addr, &path, &[]).await.unwrap().body, [0, 1, 2]);

    // The brotli body goes out as inscribed when `br` is accepted, decompressed otherwise.
    let path = format!("/content/{}", id(&tx, 1));
    let r = get(addr, &path, &[("Accept-Encoding", "gzip, br")])
        .await
        .unwrap();
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert_eq!(r.body, br);
    let r = get(addr, &path, &[("Accept-Encoding", "gzip")])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body, js);

    let r = get(addr, &format!("/content/{}", id(&tx, 3)), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), format!("inscription {} not found", id(&tx, 3)));

    let r = get(addr, &format!("/r/metadata/{}", id(&tx, 0)), &[])
        .await
        .unwrap();
    assert_eq!(r.text(), "\"a1616101\"");
    let r = get(addr, &format!("/r/metadata/{}", id(&tx, 1)), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 404);

    let r = get(addr, &format!("/r/children/{}", id(&tx, 0)), &[])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    // A parent tag counts only when the reveal spends the parent: i0 is revealed here.
    assert_eq!(v["ids"], serde_json::json!([]));
    let r = get(addr, &format!("/r/parents/{}", id(&tx, 2)), &[])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["ids"], serde_json::json!([id(&tx, 0).to_string()]));

    let r = get(addr, &format!("/r/inscription/{}", id(&tx, 2)), &[])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["id"], id(&tx, 2).to_string());
    assert_eq!(v["content_type"], serde_json::Value::Null);
    assert_eq!(v["content_length"], 3);
    assert_eq!(v["delegate"], serde_json::Value::Null);
    assert_eq!(v["number"], 2);
    // i2 is not at offset 0 of its input: cursed, and vindicated past the jubilee; it shares
    // i0's sat (ord src/index/updater/inscription_updater.rs: `reinscription`).
    assert_eq!(
        v["charms"],
        serde_json::json!(["reinscription", "vindicated"])
    );
    let r = get(addr, &format!("/r/inscription/{}", id(&tx, 0)), &[])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["charms"], serde_json::json!([]));
    assert_eq!(v["content_type"], HTML);
}

#[tokio::test]
async fn delegates_serve_the_delegates_content() {
    let (batch, _, _) = batch();
    let page = id(&batch, 0);
    let missing = InscriptionId::new(Txid::from_byte_array([9; 32]), 0);
    let tx = reveal(2, |txid| {
        vec![
            Inscription::new("text/plain;charset=utf-8", b"own".to_vec()),
            Inscription::default().with_delegate(InscriptionId::new(txid, 0)),
            Inscription::default().with_delegate(page),
            Inscription::default().with_delegate(missing),
            // No body and no delegate: ord has no content to serve.
            Inscription {
                content_type: Some(b"text/plain".to_vec()),
                ..Inscription::default()
            },
        ]
    });
    let s = ContentServer::start(Store::new(), ServerConfig::default())
        .await
        .unwrap();
    s.insert_reveal(&batch).unwrap();
    assert_eq!(s.insert_reveal(&tx).unwrap().len(), 5);
    let addr = s.addr();

    let r = get(addr, &format!("/content/{}", id(&tx, 1)), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain;charset=utf-8"));
    assert_eq!(r.body, b"own");

    for route in ["content", "preview"] {
        let r = get(addr, &format!("/{route}/{}", id(&tx, 2)), &[])
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{route}");
        assert_eq!(r.header("content-type"), Some(HTML), "{route}");
        assert_eq!(r.body, b"<p>hello</p>", "{route}");
        assert_eq!(r.header_all("content-security-policy").len(), 2);
    }
    // Its own content is empty: no body.
    let r = get(addr, &format!("/r/undelegated-content/{}", id(&tx, 2)), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(
        r.text(),
        format!("inscription {} content not found", id(&tx, 2))
    );

    let r = get(addr, &format!("/content/{}", id(&tx, 3)), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), format!("delegate {} not found", id(&tx, 3)));
    let r = get(addr, &format!("/content/{}", id(&tx, 4)), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 404);

    let r = get(addr, &format!("/r/inscription/{}", id(&tx, 2)), &[])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["delegate"], page.to_string());
    assert_eq!(v["content_length"], serde_json::Value::Null);
}

#[tokio::test]
async fn unbound_and_cursed_inscriptions_are_served() {
    // An unknown even tag (22) leaves the inscription unbound; ord still serves it.
    let tx = reveal_with(3, |_| {
        let mut script = Builder::new()
            .push_slice(key().serialize())
            .push_opcode(bitcoin::opcodes::all::OP_CHECKSIG)
            .push_opcode(OP_FALSE)
            .push_opcode(OP_IF)
            .push_slice(b"ord")
            .push_slice([1])
            .push_slice(b"text/plain")
            .push_slice([22])
            .push_slice(b"x")
            .push_slice([])
            .push_slice(b"unbound")
            .push_opcode(OP_ENDIF)
            .into_script();
        Inscription::new("text/plain", b"second".to_vec()).append_envelope(&mut script);
        script
    });
    let config = ServerConfig {
        chain: FakeChain {
            height: 800_000,
            ..FakeChain::default()
        },
        ..ServerConfig::default()
    };
    let s = ContentServer::start(Store::new(), config).await.unwrap();
    assert_eq!(s.insert_reveal(&tx).unwrap().len(), 2);
    for (index, body, charms) in [
        (0, "unbound", serde_json::json!(["cursed", "unbound"])),
        (1, "second", serde_json::json!(["reinscription", "cursed"])),
    ] {
        let r = get(s.addr(), &format!("/content/{}", id(&tx, index)), &[])
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), body);
        let r = get(s.addr(), &format!("/r/inscription/{}", id(&tx, index)), &[])
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["charms"], charms, "i{index}");
    }
}

#[test]
fn loads_reveal_files_in_hex_and_raw() {
    let (one, _, _) = batch();
    let two = reveal(4, |_| vec![Inscription::new("text/css", b"p{}".to_vec())]);
    let dir = tempfile::tempdir().unwrap();
    let hex = dir.path().join("one.hex");
    std::fs::write(
        &hex,
        format!("  {}\n", bitcoin::consensus::encode::serialize_hex(&one)),
    )
    .unwrap();
    let raw = dir.path().join("two.bin");
    std::fs::write(&raw, bitcoin::consensus::serialize(&two)).unwrap();

    let store = Store::load_reveals([&hex, &raw]).unwrap();
    assert_eq!(store.len(), 4);
    assert_eq!(
        store.get(&id(&two, 0)).unwrap().content_type(),
        Some("text/css")
    );
    // Their parent tags name i0, but the reveal does not spend it: no children (ord's
    // provenance rule, docs/src/inscriptions/provenance.md).
    assert_eq!(store.children(&id(&one, 0)), []);

    let bad = dir.path().join("bad.hex");
    std::fs::write(&bad, "02000000zz").unwrap();
    let err = Store::load_reveals([&hex, &bad]).unwrap_err();
    assert!(matches!(err, LoadError::Reveal { .. }), "{err:?}");
    assert!(err.to_string().contains("bad.hex"), "{err}");

    let plain = dir.path().join("plain.hex");
    let mut no_envelope = two.clone();
    no_envelope.input[0].witness = Witness::from_slice(&[vec![0u8; 64]]);
    std::fs::write(
        &plain,
        bitcoin::consensus::encode::serialize_hex(&no_envelope),
    )
    .unwrap();
    let err = Store::load_reveals([&plain]).unwrap_err();
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain.push_str(&format!("\nbecause: {cause}"));
        source = cause.source();
    }
    assert!(
        chain.contains("plain.hex") && chain.contains("no inscription"),
        "{chain}"
    );

    let err = Store::load_reveals([dir.path().join("absent.hex")]).unwrap_err();
    assert!(err.to_string().contains("absent.hex"), "{err}");
}

/// A page from a reveal imports a library from the same reveal by recursion, top-level and
/// inside the explorer's sandboxed iframe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_page_imports_its_library_in_chromium() {
    let lib = format!(
        "{}export const title = 'library from i0';\n",
        "// padding that brotli shrinks\n".repeat(10)
    );
    let tx = reveal(5, |txid| {
        let page = format!(
            "<!doctype html><meta charset=utf-8><title>loading</title>\n<script type=module>\nimport {{ title }} from '/content/{}';\ndocument.title = title;\n</script>\n",
            InscriptionId::new(txid, 0)
        );
        let compressed =
            inscription::compress_brotli_for("text/javascript", lib.as_bytes()).unwrap();
        vec![
            Inscription::new("text/javascript", compressed.body).with_content_encoding("br"),
            Inscription::new(HTML, page.into_bytes()),
        ]
    });
    let s = ContentServer::start(Store::new(), ServerConfig::default())
        .await
        .unwrap();
    s.insert_reveal(&tx).unwrap();
    let page_id = id(&tx, 1);
    let browser = Browser::launch(LaunchOptions::default()).await.unwrap();
    for url in [s.content_url(&page_id), s.explorer_url(&page_id)] {
        let page = browser.open(&url).await.unwrap();
        page.wait_for(
            "document.title === 'library from i0'",
            Duration::from_secs(30),
        )
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
        let report = page.report().await.unwrap();
        assert!(report.csp_violations.is_empty(), "{url}: {report:#?}");
        assert!(report.exceptions.is_empty(), "{url}: {report:#?}");
        let lib_url = s.content_url(&id(&tx, 0));
        assert!(
            report.requests.iter().any(|r| r.url == lib_url),
            "{url}: {report:#?}"
        );
        page.close().await.unwrap();
    }
    browser.close().await.unwrap();
}

/// A transaction spending `inputs` and paying `outputs`; input `envelope_input` reveals
/// `inscriptions` (script path: signature, leaf, control block), the others spend by key.
fn spending(
    inputs: &[OutPoint],
    outputs: Vec<TxOut>,
    envelope_input: usize,
    inscriptions: Vec<Inscription>,
) -> Transaction {
    let mut control_block = vec![0xc0];
    control_block.extend_from_slice(&key().serialize());
    let leaf = Inscription::reveal_script(&key(), &inscriptions).into_bytes();
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: inputs
            .iter()
            .enumerate()
            .map(|(n, outpoint)| TxIn {
                previous_output: *outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: if n == envelope_input {
                    Witness::from_slice(&[vec![0; 64], leaf.clone(), control_block.clone()])
                } else {
                    Witness::from_slice(&[vec![0; 64]])
                },
            })
            .collect(),
        output: outputs,
    }
}

fn p2tr(sats: u64) -> TxOut {
    TxOut {
        value: Amount::from_sat(sats),
        script_pubkey: ScriptBuf::new_p2tr_tweaked(
            bitcoin::key::TweakedPublicKey::dangerous_assume_tweaked(key()),
        ),
    }
}

/// The commit: one made-up input (`seed`), outputs of these values.
fn commit(seed: u8, values: &[u64]) -> Transaction {
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(Txid::from_byte_array([seed; 32]), 0),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::from_slice(&[vec![0; 64]]),
        }],
        output: values.iter().map(|v| p2tr(*v)).collect(),
    }
}

fn regtest() -> ServerConfig {
    ServerConfig {
        network: bitcoin::Network::Regtest,
        ..ServerConfig::default()
    }
}

async fn inscription_json(s: &ContentServer, id: InscriptionId) -> serde_json::Value {
    let r = get(s.addr(), &format!("/r/inscription/{id}"), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{id}");
    serde_json::from_slice(&r.body).unwrap()
}

fn regtest_address() -> String {
    bitcoin::Address::p2tr_tweaked(
        bitcoin::key::TweakedPublicKey::dangerous_assume_tweaked(key()),
        bitcoin::KnownHrp::Regtest,
    )
    .to_string()
}

// ord src/subcommand/server/r.rs: inscription (output = the satpoint's outpoint, value and
// address of that output for the server's chain) and src/index/updater/inscription_updater.rs:
// index_inscriptions (an envelope's sat is its input's first sat or its pointer if that is
// below the outputs' total; it lands in the output holding that sat; fee = (inputs -
// outputs) / new inscriptions, integer division).
#[tokio::test]
async fn r_inscription_tells_where_the_reveal_put_it() {
    let commit = commit(0x21, &[20_000]);
    let tx = spending(
        &[OutPoint::new(commit.compute_txid(), 0)],
        vec![p2tr(10_000), p2tr(546)],
        0,
        vec![
            Inscription::new("text/plain", b"first".to_vec()),
            Inscription::new("text/plain", b"pointed".to_vec()).with_pointer(10_000),
            // A pointer at or past the outputs' total is ignored: the input's first sat.
            Inscription::new("text/plain", b"ignored pointer".to_vec()).with_pointer(10_546),
        ],
    );
    let txid = tx.compute_txid();
    let config = ServerConfig {
        chain: FakeChain {
            height: 200,
            blocktime: 1_700_000_123,
            ..FakeChain::default()
        },
        ..regtest()
    };
    let s = ContentServer::start(Store::new(), config).await.unwrap();
    s.insert_commit(&commit);
    s.insert_reveal(&tx).unwrap();

    let v = inscription_json(&s, id(&tx, 0)).await;
    assert_eq!(v["output"], format!("{txid}:0"));
    assert_eq!(v["satpoint"], format!("{txid}:0:0"));
    assert_eq!(v["value"], 10_000);
    assert_eq!(v["address"], regtest_address());
    assert!(v["address"].as_str().unwrap().starts_with("bcrt1p"));
    assert_eq!(v["fee"], (20_000 - 10_546) / 3);
    assert_eq!(v["height"], 200);
    assert_eq!(v["timestamp"], 1_700_000_123);
    assert_eq!(v["sat"], serde_json::Value::Null);
    assert_eq!(v["charms"], serde_json::json!([]));

    let v = inscription_json(&s, id(&tx, 1)).await;
    assert_eq!(v["output"], format!("{txid}:1"));
    assert_eq!(v["satpoint"], format!("{txid}:1:0"));
    assert_eq!(v["value"], 546);
    assert_eq!(v["fee"], 3151);
    // A pointer is a curse, vindicated past regtest's jubilee (110).
    assert_eq!(v["charms"], serde_json::json!(["vindicated"]));

    let v = inscription_json(&s, id(&tx, 2)).await;
    assert_eq!(v["satpoint"], format!("{txid}:0:0"));
    assert_eq!(
        v["charms"],
        serde_json::json!(["reinscription", "vindicated"])
    );

    // The same reveal without its commit: places still known, fee not (0, ord's u64).
    let s = ContentServer::start(Store::new(), regtest()).await.unwrap();
    s.insert_reveal(&tx).unwrap();
    let v = inscription_json(&s, id(&tx, 1)).await;
    assert_eq!(v["output"], format!("{txid}:1"));
    assert_eq!(v["address"], regtest_address());
    assert_eq!(v["fee"], 0);

    // Mainnet (the default, as ord): the same script's mainnet address.
    let s = ContentServer::start(Store::new(), ServerConfig::default())
        .await
        .unwrap();
    s.insert_reveal(&tx).unwrap();
    let v = inscription_json(&s, id(&tx, 0)).await;
    assert!(v["address"].as_str().unwrap().starts_with("bc1p"), "{v}");
}

// ord src/index/updater/inscription_updater.rs: an envelope in a later input sits at the
// sum of the earlier inputs' values; unknown values leave the place unknown here.
#[tokio::test]
async fn later_input_needs_the_earlier_values() {
    let first = commit(0x31, &[3_000]);
    let second = commit(0x32, &[7_000]);
    let inputs = [
        OutPoint::new(first.compute_txid(), 0),
        OutPoint::new(second.compute_txid(), 0),
    ];
    let tx = spending(
        &inputs,
        vec![p2tr(2_000), p2tr(6_000)],
        1,
        vec![Inscription::new("text/plain", b"in input 1".to_vec())],
    );
    let txid = tx.compute_txid();

    let s = ContentServer::start(Store::new(), regtest()).await.unwrap();
    s.insert_reveal(&tx).unwrap();
    let v = inscription_json(&s, id(&tx, 0)).await;
    assert_eq!(v["output"], format!("{txid}:0"));
    assert_eq!(v["satpoint"], format!("{txid}:0:0"));
    assert_eq!(v["value"], serde_json::Value::Null);
    assert_eq!(v["address"], serde_json::Value::Null);
    assert_eq!(v["fee"], 0);

    // With both commits: sat 3,000 is 1,000 sats into output 1; fee 10,000 - 8,000.
    let s = ContentServer::start(Store::new(), regtest()).await.unwrap();
    s.insert_commit(&first);
    s.insert_commit(&second);
    s.insert_reveal(&tx).unwrap();
    let v = inscription_json(&s, id(&tx, 0)).await;
    assert_eq!(v["satpoint"], format!("{txid}:1:1000"));
    assert_eq!(v["value"], 6_000);
    assert_eq!(v["fee"], 2_000);
    // Not in the first input: cursed, vindicated past the jubilee.
    assert_eq!(v["charms"], serde_json::json!(["vindicated"]));

    // The same with the spent outputs given directly.
    let mut store = Store::new();
    store
        .insert_reveal_with_prevouts(&tx, &[p2tr(3_000), p2tr(7_000)])
        .unwrap();
    let s = ContentServer::start(store, regtest()).await.unwrap();
    let v = inscription_json(&s, id(&tx, 0)).await;
    assert_eq!(v["satpoint"], format!("{txid}:1:1000"));
    assert_eq!(v["fee"], 2_000);

    let err = Store::new()
        .insert_reveal_with_prevouts(&tx, &[p2tr(3_000)])
        .unwrap_err();
    assert!(err.to_string().contains("2 inputs but 1 spent"), "{err}");
}

// ord src/index/updater/inscription_updater.rs: inscriptions on a spent output travel
// with their sats (offset = earlier inputs' values + old offset) into the spender's
// outputs; r.rs inscription then reports the new output.
#[tokio::test]
async fn a_spent_parent_moves_to_the_child_reveal() {
    let parent_commit = commit(0x41, &[12_000]);
    let parent_reveal = spending(
        &[OutPoint::new(parent_commit.compute_txid(), 0)],
        vec![p2tr(10_000)],
        0,
        vec![Inscription::new(HTML, b"<p>parent</p>".to_vec())],
    );
    let parent = id(&parent_reveal, 0);
    let child_commit = commit(0x42, &[2_000]);
    let child_reveal = spending(
        &[
            OutPoint::new(child_commit.compute_txid(), 0),
            OutPoint::new(parent_reveal.compute_txid(), 0),
        ],
        vec![p2tr(546), p2tr(10_000)],
        0,
        vec![Inscription::new("text/plain", b"child".to_vec()).with_parent(parent)],
    );
    let child_txid = child_reveal.compute_txid();

    let s = ContentServer::start(Store::new(), regtest()).await.unwrap();
    s.insert_commit(&parent_commit);
    s.insert_reveal(&parent_reveal).unwrap();
    let v = inscription_json(&s, parent).await;
    assert_eq!(v["output"], format!("{}:0", parent_reveal.compute_txid()));
    assert_eq!(v["fee"], 2_000);

    s.insert_commit(&child_commit);
    s.insert_reveal(&child_reveal).unwrap();
    // The parent's sat is sat 2,000 of the child reveal's inputs: output 1, 1,454 in.
    let v = inscription_json(&s, parent).await;
    assert_eq!(v["output"], format!("{child_txid}:1"));
    assert_eq!(v["satpoint"], format!("{child_txid}:1:1454"));
    assert_eq!(v["value"], 10_000);
    assert_eq!(v["fee"], 2_000, "its own reveal's fee stays");
    let v = inscription_json(&s, id(&child_reveal, 0)).await;
    assert_eq!(v["output"], format!("{child_txid}:0"));
    assert_eq!(v["fee"], 12_000 - 10_546);
    assert_eq!(v["charms"], serde_json::json!([]));
    let children = |s: &ContentServer| {
        let addr = s.addr();
        async move {
            let r = get(addr, &format!("/r/children/{parent}"), &[])
                .await
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["ids"].clone()
        }
    };
    assert_eq!(
        children(&s).await,
        serde_json::json!([id(&child_reveal, 0).to_string()])
    );

    // Anyone can name the parent in a tag; without spending it, that is not a child.
    let forger_commit = commit(0x43, &[2_000]);
    let forged = spending(
        &[OutPoint::new(forger_commit.compute_txid(), 0)],
        vec![p2tr(1_000)],
        0,
        vec![Inscription::new("text/plain", b"not a child".to_vec()).with_parent(parent)],
    );
    s.insert_commit(&forger_commit);
    s.insert_reveal(&forged).unwrap();
    assert_eq!(
        children(&s).await,
        serde_json::json!([id(&child_reveal, 0).to_string()])
    );
}

// ord src/index/updater/inscription_updater.rs: an input worth nothing leaves its
// inscription unbound (satpoint on ord's all-zero unbound outpoint, lib.rs
// unbound_outpoint); a sat on an OP_RETURN output is `burned`.
#[tokio::test]
async fn unbound_and_burned_follow_the_outputs() {
    let zero = Txid::all_zeros();
    let tx = spending(
        &[OutPoint::new(Txid::from_byte_array([0x51; 32]), 0)],
        vec![p2tr(1_000)],
        0,
        vec![Inscription::new("text/plain", b"nothing spent".to_vec())],
    );
    let mut store = Store::new();
    store.insert_reveal_with_prevouts(&tx, &[p2tr(0)]).unwrap();
    let s = ContentServer::start(store, regtest()).await.unwrap();
    let v = inscription_json(&s, id(&tx, 0)).await;
    assert_eq!(v["output"], format!("{zero}:0"));
    assert_eq!(v["satpoint"], format!("{zero}:0:0"));
    assert_eq!(v["value"], serde_json::Value::Null);
    assert_eq!(v["address"], serde_json::Value::Null);
    assert_eq!(v["charms"], serde_json::json!(["unbound"]));

    let op_return = TxOut {
        value: Amount::from_sat(500),
        script_pubkey: ScriptBuf::new_op_return([1u8, 2, 3]),
    };
    let tx = spending(
        &[OutPoint::new(Txid::from_byte_array([0x52; 32]), 0)],
        vec![p2tr(1_000), op_return],
        0,
        vec![Inscription::new("text/plain", b"burn".to_vec()).with_pointer(1_200)],
    );
    let s = ContentServer::start(Store::new(), regtest()).await.unwrap();
    s.insert_reveal(&tx).unwrap();
    let v = inscription_json(&s, id(&tx, 0)).await;
    assert_eq!(v["satpoint"], format!("{}:1:200", tx.compute_txid()));
    assert_eq!(v["value"], 500);
    assert_eq!(v["address"], serde_json::Value::Null);
    assert_eq!(v["charms"], serde_json::json!(["vindicated", "burned"]));
}
