//! `lumamesh inscribe`, `publish` and `inspect` on regtest: real keys, real signatures, every
//! transaction re-checked here with libbitcoinconsensus and read back by `inspect`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::str::FromStr;

use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::psbt::Psbt;
use bitcoin::{Network, Transaction, TxOut};
use inscription::Envelope;
use onchain::reveal::verify_transaction;
use onchain::wallet::Wallet;
use serde_json::Value;

use super::{code, json, lumamesh, ok, stderr};

mod ord_crosscheck;
mod ord_server;
mod safety;

/// The BIP-39 test mnemonic: never holds real money.
pub const MNEMONIC: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
                            abandon abandon abandon about";

/// A regtest wallet file and a UTXO file with two coins at its first receive address.
pub fn regtest_wallet(dir: &Path) {
    write_mnemonic(dir);
    let mnemonic: bip39::Mnemonic = MNEMONIC.parse().unwrap();
    let wallet = Wallet::from_mnemonic(&mnemonic, "", Network::Regtest).unwrap();
    let address = wallet.receive_address(0).unwrap().to_string();
    let utxos = serde_json::json!([
        {"txid": "1111111111111111111111111111111111111111111111111111111111111111",
         "vout": 0, "value": 1_000_000, "address": address},
        {"txid": "2222222222222222222222222222222222222222222222222222222222222222",
         "vout": 3, "amount": 0.5, "address": address},
    ]);
    std::fs::write(dir.join("utxos.json"), utxos.to_string()).unwrap();
}

/// The test mnemonic in `dir/mnemonic.txt` (mode 0600).
pub fn write_mnemonic(dir: &Path) {
    std::fs::write(dir.join("mnemonic.txt"), MNEMONIC).unwrap();
    std::fs::set_permissions(
        dir.join("mnemonic.txt"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

/// The wallet flags of a run in a folder holding `utxos.json` and `mnemonic.txt` (regtest).
pub(crate) const WALLET: [&str; 6] = [
    "--network",
    "regtest",
    "--utxos",
    "utxos.json",
    "--mnemonic-file",
    "mnemonic.txt",
];

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(&WALLET).chain(tail).copied().collect()
}

/// `lumamesh inspect` and micro-ordinals, an implementation independent of ours and ord's,
/// read the same inscriptions from the reveal in `file`.
fn assert_micro_ordinals_agrees(dir: &Path, file: &str) {
    let tx = read_tx(&dir.join(file));
    let inspect = json(&lumamesh(&["inspect", file, "--json"], dir));
    let witnesses: Vec<Vec<Vec<u8>>> = tx.input.iter().map(|i| i.witness.to_vec()).collect();
    let parsed = fixtures::micro_ordinals::parse(&witnesses).unwrap();
    let theirs: Vec<&Value> = parsed["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["inscriptions"].as_array())
        .flatten()
        .collect();
    let ours = inspect["inscriptions"].as_array().unwrap();
    let envelopes = Envelope::from_transaction(&tx);
    assert_eq!(theirs.len(), ours.len(), "{parsed:#}");
    for ((t, o), e) in theirs.iter().zip(ours).zip(&envelopes) {
        assert_eq!(t["tags"]["contentType"], o["content_type"], "{t:#}");
        assert_eq!(
            t["tags"].get("contentEncoding").unwrap_or(&Value::Null),
            &o["content_encoding"]
        );
        let body = t["body"].as_str().unwrap();
        assert_eq!(body.len() / 2, o["body_bytes"].as_u64().unwrap() as usize);
        let ours_hex = hex::encode(e.inscription.body());
        assert_eq!(body, ours_hex);
        let parents: Vec<Value> = match t["tags"].get("parent") {
            None => vec![],
            Some(Value::Array(many)) => many.clone(),
            Some(one) => vec![one.clone()],
        };
        assert_eq!(Value::Array(parents), o["parents"]);
    }
}

/// `inscribe --file FILE --network NETWORK --utxos UTXOS --fee-rate 1 --dry-run` with the
/// test mnemonic.
fn dry_run(file: &str, network: &str, utxos: &str, dir: &Path) -> std::process::Output {
    lumamesh(
        &[
            "inscribe",
            "--file",
            file,
            "--network",
            network,
            "--utxos",
            utxos,
            "--mnemonic-file",
            "mnemonic.txt",
            "--fee-rate",
            "1",
            "--dry-run",
        ],
        dir,
    )
}

pub fn read_tx(path: &Path) -> Transaction {
    deserialize_hex(std::fs::read_to_string(path).unwrap().trim()).unwrap()
}

/// The outputs `tx` spends, found among `earlier` transactions or the UTXO file.
fn prevouts(tx: &Transaction, earlier: &[&Transaction], utxos: &Value) -> Vec<TxOut> {
    tx.input
        .iter()
        .map(|input| {
            let op = input.previous_output;
            if let Some(t) = earlier.iter().find(|t| t.compute_txid() == op.txid) {
                return t.output[op.vout as usize].clone();
            }
            let entry = utxos
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["txid"] == op.txid.to_string() && u["vout"] == op.vout)
                .expect("spends a listed UTXO");
            let sats = entry["value"]
                .as_u64()
                .unwrap_or_else(|| (entry["amount"].as_f64().unwrap() * 1e8).round() as u64);
            TxOut {
                value: bitcoin::Amount::from_sat(sats),
                script_pubkey: bitcoin::Address::from_str(entry["address"].as_str().unwrap())
                    .unwrap()
                    .assume_checked()
                    .script_pubkey(),
            }
        })
        .collect()
}

#[test]
fn inscribe_signs_verifies_and_reads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    regtest_wallet(dir);
    std::fs::write(dir.join("hello.txt"), "Hello, world!").unwrap();
    std::fs::write(dir.join("meta.json"), r#"{"title": "hello", "n": [1, 2]}"#).unwrap();

    let dry = json(&lumamesh(
        &args(
            &["inscribe", "--file", "hello.txt", "--metadata", "meta.json"],
            &["--fee-rate", "10", "--dry-run", "--json"],
        ),
        dir,
    ));
    assert_eq!(dry["dry_run"], true);
    assert!(!dir.join("out").exists(), "a dry run writes nothing");
    let reveal_vsize = dry["transactions"][1]["vsize"].as_u64().unwrap();
    assert_eq!(
        dry["transactions"][1]["fee"].as_u64().unwrap(),
        reveal_vsize * 10
    );
    assert_eq!(dry["postage"], 10_000);

    let out = lumamesh(
        &args(
            &["inscribe", "--file", "hello.txt", "--metadata", "meta.json"],
            &["--fee-rate", "10", "--out", "out", "--json"],
        ),
        dir,
    );
    let result = json(&out);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("abandon"));
    assert!(!stderr(&out).contains("abandon"));
    assert_eq!(
        result["inscriptions"][0]["content_type"],
        "text/plain;charset=utf-8"
    );

    let recovery = dir.join("out/recovery.txt");
    let mode = std::fs::metadata(&recovery).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let recovery = std::fs::read_to_string(&recovery).unwrap();
    assert!(
        recovery.lines().any(|l| l.starts_with("rawtr(c")),
        "{recovery}"
    );

    let commit = read_tx(&dir.join("out/commit.hex"));
    let reveal = read_tx(&dir.join("out/reveal.hex"));
    let utxos: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("utxos.json")).unwrap()).unwrap();
    verify_transaction(&commit, &prevouts(&commit, &[], &utxos)).unwrap();
    verify_transaction(&reveal, &prevouts(&reveal, &[&commit], &utxos)).unwrap();
    assert_eq!(reveal.vsize() as u64, reveal_vsize);

    ord_crosscheck::assert_ord_reads_the_same(&reveal);
    let found = Envelope::from_transaction(&reveal);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].inscription.body(), b"Hello, world!");
    let metadata: ciborium::Value =
        ciborium::from_reader(found[0].inscription.metadata.as_deref().unwrap()).unwrap();
    assert!(format!("{metadata:?}").contains("hello"));

    let psbt = Psbt::from_str(
        std::fs::read_to_string(dir.join("out/commit.psbt"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    assert_eq!(psbt.unsigned_tx.compute_txid(), commit.compute_txid());
    assert!(psbt
        .inputs
        .iter()
        .all(|i| i.witness_utxo.is_some() && i.tap_internal_key.is_some()));

    assert_micro_ordinals_agrees(dir, "out/reveal.hex");
    let inspect = json(&lumamesh(&["inspect", "out/reveal.hex", "--json"], dir));
    assert_eq!(
        inspect["inscriptions"][0]["id"],
        result["inscriptions"][0]["id"]
    );
    assert_eq!(inspect["inscriptions"][0]["body_bytes"], 13);
    assert_eq!(inspect["inscriptions"][0]["curse"], Value::Null);

    // The run is not repeated over its own files, least of all the recovery key.
    let again = lumamesh(
        &args(
            &["inscribe", "--file", "hello.txt"],
            &["--fee-rate", "10", "--out", "out"],
        ),
        dir,
    );
    assert_eq!(code(&again), 2, "{}", stderr(&again));
    assert!(stderr(&again).contains("new --out"), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(dir.join("out/recovery.txt")).unwrap(),
        recovery
    );
}

#[test]
fn publish_links_the_page_to_the_library_by_its_final_id() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    regtest_wallet(dir);
    std::fs::copy(fixtures::path("relay/relay.txt"), dir.join("relay.txt")).unwrap();
    let result = json(&lumamesh(
        &args(
            &["publish", "--relays", "relay.txt"],
            &["--fee-rate", "3", "--out", "pub", "--json"],
        ),
        dir,
    ));
    let ids: Vec<&str> = result["inscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);

    let lib_commit = read_tx(&dir.join("pub/library-commit.hex"));
    let lib_reveal = read_tx(&dir.join("pub/library-reveal.hex"));
    let page_commit = read_tx(&dir.join("pub/page-commit.hex"));
    let page_reveal = read_tx(&dir.join("pub/page-reveal.hex"));
    let utxos: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("utxos.json")).unwrap()).unwrap();
    let all = [&lib_commit, &lib_reveal, &page_commit, &page_reveal];
    for (i, tx) in all.iter().enumerate() {
        verify_transaction(tx, &prevouts(tx, &all[..i], &utxos)).unwrap();
        ord_crosscheck::assert_ord_reads_the_same(tx);
    }

    let library = Envelope::from_transaction(&lib_reveal);
    assert_eq!(library.len(), 2);
    assert_eq!(
        library[0].inscription.content_type(),
        Some("text/javascript")
    );
    assert_eq!(
        library[1].inscription.content_type(),
        Some("text/plain;charset=utf-8")
    );
    assert_eq!(format!("{}i0", lib_reveal.compute_txid()), ids[0]);

    let page = Envelope::from_transaction(&page_reveal);
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].inscription.parent_ids()[0].to_string(), ids[0]);
    let html = match page[0].inscription.content_encoding() {
        Some("br") => inscription::decompress_brotli(page[0].inscription.body()).unwrap(),
        _ => page[0].inscription.body().to_vec(),
    };
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains(&format!("from '/content/{}'", ids[0])),
        "{html}"
    );
    // The library's output is the page's parent input.
    assert_eq!(
        page_reveal.input[0].previous_output.txid,
        lib_reveal.compute_txid()
    );
    assert_eq!(
        page_commit.input[0].previous_output.txid,
        lib_commit.compute_txid()
    );

    assert_micro_ordinals_agrees(dir, "pub/library-reveal.hex");
    assert_micro_ordinals_agrees(dir, "pub/page-reveal.hex");
    let inspect = json(&lumamesh(
        &["inspect", "pub/page-reveal.hex", "--json"],
        dir,
    ));
    assert_eq!(inspect["inscriptions"][0]["parents"][0], ids[0]);
}

#[test]
fn money_safety_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    regtest_wallet(dir);
    std::fs::write(dir.join("a.txt"), "x".repeat(2000)).unwrap();

    let high = lumamesh(
        &args(
            &["inscribe", "--file", "a.txt"],
            &["--fee-rate", "501", "--dry-run"],
        ),
        dir,
    );
    assert_eq!(code(&high), 2);
    assert!(
        stderr(&high).contains("--max-fee-rate"),
        "{}",
        stderr(&high)
    );

    let capped = lumamesh(
        &args(
            &["inscribe", "--file", "a.txt"],
            &["--fee-rate", "100", "--max-fee", "1000", "--dry-run"],
        ),
        dir,
    );
    assert_eq!(code(&capped), 2);
    assert!(stderr(&capped).contains("--max-fee"), "{}", stderr(&capped));

    let forced = lumamesh(
        &args(
            &["inscribe", "--file", "a.txt"],
            &[
                "--fee-rate",
                "100",
                "--max-fee",
                "1000",
                "--dry-run",
                "--allow-high-fees",
            ],
        ),
        dir,
    );
    ok(&forced);

    // Signet: over ord's 1,024-byte limit.
    let signet_address = Wallet::from_mnemonic(&MNEMONIC.parse().unwrap(), "", Network::Signet)
        .unwrap()
        .receive_address(0)
        .unwrap()
        .to_string();
    let utxos = serde_json::json!([{"txid": "33".repeat(32), "vout": 0, "value": 100_000,
                                    "address": signet_address}]);
    std::fs::write(dir.join("signet.json"), utxos.to_string()).unwrap();
    let signet = dry_run("a.txt", "signet", "signet.json", dir);
    assert_eq!(code(&signet), 2);
    assert!(
        stderr(&signet).contains("1024-byte") || stderr(&signet).contains("1,024"),
        "{}",
        stderr(&signet)
    );

    // The UTXO file's regtest addresses are not mainnet's.
    let mainnet = dry_run("a.txt", "mainnet", "utxos.json", dir);
    assert_eq!(code(&mainnet), 2, "{}", stderr(&mainnet));
    assert!(
        stderr(&mainnet).contains("utxos.json"),
        "{}",
        stderr(&mainnet)
    );

    // No network, no run.
    let none = lumamesh(
        &[
            "inscribe",
            "--file",
            "a.txt",
            "--utxos",
            "utxos.json",
            "--mnemonic-file",
            "mnemonic.txt",
            "--fee-rate",
            "1",
            "--dry-run",
        ],
        dir,
    );
    assert_eq!(code(&none), 2);

    let poor = lumamesh(
        &args(
            &["inscribe", "--file", "a.txt"],
            &["--fee-rate", "1000000", "--allow-high-fees", "--dry-run"],
        ),
        dir,
    );
    assert_eq!(code(&poor), 1);
    assert!(
        stderr(&poor).contains("not enough funds"),
        "{}",
        stderr(&poor)
    );
}

#[test]
fn inspect_refuses_what_is_not_a_transaction() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = lumamesh(&["inspect", "zz", "--json"], tmp.path());
    assert_eq!(code(&bad), 2);
    std::fs::write(tmp.path().join("t.hex"), "0200").unwrap();
    let short = lumamesh(&["inspect", "t.hex"], tmp.path());
    assert_eq!(code(&short), 2);
    assert!(stderr(&short).contains("t.hex"), "{}", stderr(&short));
}

/// The issue's whole path: a relay's identity → relay.txt → `publish` on regtest → the
/// reveals' inscriptions served at their ids → `lumamesh check` passes the page.
#[test]
fn published_page_passes_the_sandbox_check_from_its_reveals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    regtest_wallet(dir);
    let (_rt, relay) = super::check::local_relay();
    std::fs::write(
        dir.join("relay.txt"),
        format!("{}\n", relay.entry().to_line()),
    )
    .unwrap();
    ok(&lumamesh(&["page", "new", "lobby", "--publish"], dir));

    let published = json(&lumamesh(
        &args(
            &["publish", "--relays", "relay.txt", "--page", "lobby.html"],
            &["--fee-rate", "10", "--out", "chain", "--json"],
        ),
        dir,
    ));
    let page_id = published["inscriptions"][2]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A second inscription that shows the same page by delegation.
    let delegating = json(&lumamesh(
        &args(
            &["inscribe", "--delegate", &page_id],
            &["--fee-rate", "10", "--out", "delegate", "--json"],
        ),
        dir,
    ));
    let delegating_id = delegating["inscriptions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let out = lumamesh(
        &[
            "check",
            "--reveal",
            "chain/library-reveal.hex",
            "--reveal",
            "chain/page-reveal.hex",
            "--reveal",
            "delegate/reveal.hex",
            "--json",
            "--timeout",
            "90",
        ],
        dir,
    );
    let report = json(&out);
    assert_eq!(report["ok"], true, "{report:#}");
    let pages = report["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2, "{report:#}");
    assert_eq!(pages[0]["id"], page_id.as_str());
    assert_eq!(pages[1]["id"], delegating_id.as_str());
    // The library came from the reveal, so check built no runtime and started no relay.
    assert_eq!(report["local_relay"], false, "{report:#}");
    drop(relay);
}

/// `--parent` spends the wallet output the UTXO file says holds the parent; an output that
/// carries inscriptions is never spent as a fee coin.
#[test]
fn parent_from_the_utxo_file_and_inscribed_coins_are_never_fees() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    regtest_wallet(dir);
    let address = Wallet::from_mnemonic(&MNEMONIC.parse().unwrap(), "", Network::Regtest)
        .unwrap()
        .receive_address(3)
        .unwrap()
        .to_string();
    let parent = format!("{}i0", "44".repeat(32));
    let mut utxos: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("utxos.json")).unwrap()).unwrap();
    utxos.as_array_mut().unwrap().push(serde_json::json!({
        "txid": "44".repeat(32), "vout": 0, "value": 10_000, "address": address,
        "inscriptions": [parent],
    }));
    std::fs::write(dir.join("utxos.json"), utxos.to_string()).unwrap();
    std::fs::write(dir.join("child.html"), "<p>child</p>").unwrap();

    let result = json(&lumamesh(
        &args(
            &[
                "inscribe",
                "--file",
                "child.html",
                "--parent",
                &parent,
                "--compress",
                "never",
            ],
            &["--fee-rate", "2", "--out", "out", "--json"],
        ),
        dir,
    ));
    assert_eq!(result["inscriptions"][0]["content_encoding"], Value::Null);
    let commit = read_tx(&dir.join("out/commit.hex"));
    let reveal = read_tx(&dir.join("out/reveal.hex"));
    assert!(commit
        .input
        .iter()
        .all(|i| i.previous_output.txid.to_string() != "44".repeat(32)));
    assert_eq!(
        reveal.input[0].previous_output.txid.to_string(),
        "44".repeat(32)
    );
    verify_transaction(&reveal, &prevouts(&reveal, &[&commit], &utxos)).unwrap();
    let found = Envelope::from_transaction(&reveal);
    assert_eq!(found[0].inscription.parent_ids()[0].to_string(), parent);
    assert_eq!(
        found[0].inscription.content_type(),
        Some("text/html;charset=utf-8")
    );

    // Only the inscribed output left: it is not money.
    let only = serde_json::json!([utxos[2].clone()]);
    std::fs::write(dir.join("only.json"), only.to_string()).unwrap();
    let poor = dry_run("child.html", "regtest", "only.json", dir);
    assert_eq!(code(&poor), 1, "{}", stderr(&poor));
    assert!(
        stderr(&poor).contains("not enough funds"),
        "{}",
        stderr(&poor)
    );

    let unknown = lumamesh(
        &args(
            &[
                "inscribe",
                "--file",
                "child.html",
                "--parent",
                &format!("{}i0", "55".repeat(32)),
            ],
            &["--fee-rate", "1", "--dry-run"],
        ),
        dir,
    );
    assert_eq!(code(&unknown), 2);
    assert!(stderr(&unknown).contains("parent"), "{}", stderr(&unknown));
}
