//! Issue 15's safety rules, tried as a careless user would: a second run into the same
//! `--out` (with every flag that might lift the refusal), a `bitcoin-cli listunspent` file
//! whose small outputs may be earlier inscriptions (alone, vouched for, and checked with a
//! stand-in ord), and runs of one wallet directory that must each get their own addresses.

use std::collections::HashMap;
use std::path::Path;

use bitcoin::{Network, ScriptBuf};
use onchain::wallet::{Chain, Wallet};
use serde_json::Value;

use super::ord_server::{self, Known};
use super::{read_tx, regtest_wallet, write_mnemonic, MNEMONIC};
use crate::{code, json, lumamesh, ok, stderr};

fn wallet() -> Wallet {
    Wallet::from_mnemonic(&MNEMONIC.parse().unwrap(), "", Network::Regtest).unwrap()
}

fn script(chain: Chain, index: u32) -> ScriptBuf {
    wallet().script_pubkey(chain, index).unwrap()
}

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// `inscribe --file hello.txt` on regtest with the test mnemonic, funded by `utxos` at
/// `fee_rate`, then `extra`.
fn run(dir: &Path, utxos: &str, fee_rate: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "inscribe",
        "--file",
        "hello.txt",
        "--network",
        "regtest",
        "--mnemonic-file",
        "mnemonic.txt",
        "--utxos",
        utxos,
        "--fee-rate",
        fee_rate,
    ];
    args.extend_from_slice(extra);
    lumamesh(&args, dir)
}

fn inscribe(dir: &Path, extra: &[&str]) -> std::process::Output {
    run(dir, "utxos.json", "10", extra)
}

#[test]
fn a_second_run_into_the_same_out_is_refused_whatever_the_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    regtest_wallet(dir);
    std::fs::write(dir.join("hello.txt"), "Hello, world!").unwrap();
    ok(&inscribe(dir, &["--out", "out"]));
    let first = snapshot(&dir.join("out"));
    assert!(first.iter().any(|(name, _)| name == "recovery.txt"));

    for extra in [
        &["--out", "out"][..],
        &["--out", "out", "--allow-high-fees"],
        &["--out", "out", "--force"],
        &["--out", "out/", "--allow-high-fees", "--max-fee", "1"],
    ] {
        let again = inscribe(dir, extra);
        assert_eq!(code(&again), 2, "{extra:?}: {}", stderr(&again));
        if !extra.contains(&"--force") {
            let message = stderr(&again);
            assert!(message.contains("out"), "{message}");
            assert!(message.contains("recovery.txt"), "{message}");
            assert!(message.contains("new --out"), "{message}");
        }
        assert_eq!(
            snapshot(&dir.join("out")),
            first,
            "{extra:?}: the first run's files, recovery key first, are byte-identical"
        );
    }

    // A publish into it is refused too, and so is a folder holding only one file of a run.
    std::fs::copy(fixtures::path("relay/relay.txt"), dir.join("relay.txt")).unwrap();
    let publish = lumamesh(
        &[
            "publish",
            "--relays",
            "relay.txt",
            "--network",
            "regtest",
            "--mnemonic-file",
            "mnemonic.txt",
            "--utxos",
            "utxos.json",
            "--fee-rate",
            "3",
            "--out",
            "out",
        ],
        dir,
    );
    assert_eq!(code(&publish), 2, "{}", stderr(&publish));
    assert_eq!(snapshot(&dir.join("out")), first);
    std::fs::create_dir(dir.join("half")).unwrap();
    std::fs::write(dir.join("half/page-reveal.hex"), "02000000").unwrap();
    let half = inscribe(dir, &["--out", "half"]);
    assert_eq!(code(&half), 2, "{}", stderr(&half));
    assert!(
        stderr(&half).contains("page-reveal.hex"),
        "{}",
        stderr(&half)
    );
    assert!(!dir.join("half/recovery.txt").exists());
}

/// `bitcoin-cli listunspent` output for two of the wallet's outputs at receive/0:
/// 10,000 sat (an earlier inscription, for all anyone knows) and 20,000 sat.
fn listunspent(vouched: bool) -> (String, [String; 2]) {
    let address = wallet().receive_address(0).unwrap().to_string();
    let spk = script(Chain::Receive, 0).to_hex_string();
    let txids = ["aa".repeat(32), "bb".repeat(32)];
    let entries: Vec<Value> = [(&txids[0], "0.00010000"), (&txids[1], "0.00020000")]
        .iter()
        .map(|(txid, amount)| {
            let mut entry = serde_json::json!({
                "txid": txid, "vout": 0, "address": address, "label": "",
                "scriptPubKey": spk, "amount": amount.parse::<f64>().unwrap(),
                "confirmations": 12, "spendable": true, "solvable": true,
                "desc": "tr([73c5da0a/86h/1h/0h/0/0]02aa)#xxxxxxxx", "parent_descs": [],
                "safe": true,
            });
            if vouched {
                entry["inscriptions"] = serde_json::json!([]);
            }
            entry
        })
        .collect();
    (
        serde_json::to_string_pretty(&entries).unwrap(),
        txids.map(|t| format!("{t}:0")),
    )
}

/// An inscription at 50 sat/vB needs both outputs: 10,000 sat postage and about 14,700 sat of
/// fees with one input, more than 20,000 sat alone.
fn inscribe_needing_both(dir: &Path, extra: &[&str]) -> std::process::Output {
    run(dir, "listunspent.json", "50", extra)
}

#[test]
fn small_outputs_of_a_listunspent_file_are_never_spent_as_fees() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_mnemonic(dir);
    std::fs::write(dir.join("hello.txt"), "Hello, world!").unwrap();
    let (file, outpoints) = listunspent(false);
    std::fs::write(dir.join("listunspent.json"), file).unwrap();

    let refused = inscribe_needing_both(dir, &["--out", "out"]);
    assert_eq!(code(&refused), 1, "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.contains("not enough funds"), "{message}");
    for (outpoint, sats) in outpoints.iter().zip([10_000, 20_000]) {
        assert!(
            message.contains(&format!("{outpoint} ({sats} sat)")),
            "{outpoint}: {message}"
        );
    }
    assert!(message.contains("--ord-url"), "{message}");
    assert!(message.contains("\"inscriptions\": []"), "{message}");
    assert!(!dir.join("out").exists(), "nothing signed, nothing written");

    // Vouched for, entry by entry: both pay.
    let (file, _) = listunspent(true);
    std::fs::write(dir.join("listunspent.json"), file).unwrap();
    let paid = json(&inscribe_needing_both(dir, &["--out", "vouched", "--json"]));
    let commit = read_tx(&dir.join("vouched/commit.hex"));
    let spent: Vec<String> = commit
        .input
        .iter()
        .map(|i| i.previous_output.to_string())
        .collect();
    assert_eq!(spent.len(), 2, "{paid:#}");
    assert!(outpoints.iter().all(|o| spent.contains(o)));
}

#[test]
fn an_ord_server_says_which_small_outputs_may_pay() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_mnemonic(dir);
    std::fs::write(dir.join("hello.txt"), "Hello, world!").unwrap();
    let (file, outpoints) = listunspent(false);
    std::fs::write(dir.join("listunspent.json"), file).unwrap();
    let earlier = format!("{}i0", "aa".repeat(32));
    let known = |inscriptions: &[&str]| {
        let mut map = HashMap::new();
        for (outpoint, (value, ids)) in outpoints
            .iter()
            .zip([(10_000, inscriptions.to_vec()), (20_000, vec![])])
        {
            map.insert(
                outpoint.clone(),
                Known {
                    value,
                    script_pubkey: script(Chain::Receive, 0).to_hex_string(),
                    address: wallet().receive_address(0).unwrap().to_string(),
                    inscriptions: ids.iter().map(|s| s.to_string()).collect(),
                },
            );
        }
        map
    };

    // ord says the 10,000-sat output holds an earlier inscription: it never pays.
    let ord = ord_server::start(known(&[&earlier]));
    let refused = inscribe_needing_both(dir, &["--ord-url", &ord.url, "--out", "out"]);
    assert_eq!(code(&refused), 1, "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.contains("not enough funds"), "{message}");
    assert!(
        message.contains(&format!("{} (10000 sat): carries {earlier}", outpoints[0])),
        "{message}"
    );
    assert!(!message.contains(&outpoints[1]), "checked free: {message}");
    assert!(!dir.join("out").exists());
    let requests = ord.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for ((line, accept), outpoint) in requests.iter().zip(&outpoints) {
        assert_eq!(line, &format!("GET /output/{outpoint} HTTP/1.1"));
        assert_eq!(accept.as_deref(), Some("application/json"));
    }

    // `wallet utxos` shows the same verdicts.
    let shown = json(&lumamesh(
        &[
            "wallet",
            "utxos",
            "listunspent.json",
            "--network",
            "regtest",
            "--ord-url",
            &ord.url,
            "--json",
        ],
        dir,
    ));
    assert_eq!(shown["spendable"], 20_000, "{shown:#}");
    assert_eq!(shown["utxos"][0]["inscriptions"][0], earlier.as_str());
    assert_eq!(shown["utxos"][0]["fees"], false);
    assert_eq!(shown["utxos"][1]["checked"], "ord");
    assert_eq!(shown["utxos"][1]["fees"], true);

    // ord says both are free: both pay.
    let ord = ord_server::start(known(&[]));
    ok(&inscribe_needing_both(
        dir,
        &["--ord-url", &ord.url, "--out", "checked"],
    ));
    assert_eq!(read_tx(&dir.join("checked/commit.hex")).input.len(), 2);

    // ord on another machine is refused unless allowed; ord that does not know an output
    // (another chain) is an error naming it.
    let remote = inscribe_needing_both(dir, &["--ord-url", "http://192.0.2.1:80", "--dry-run"]);
    assert_eq!(code(&remote), 2);
    assert!(
        stderr(&remote).contains("--allow-remote-ord"),
        "{}",
        stderr(&remote)
    );
    let empty = ord_server::start(HashMap::new());
    let unknown = inscribe_needing_both(dir, &["--ord-url", &empty.url, "--dry-run"]);
    assert_eq!(code(&unknown), 2, "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains(&format!("output {} not found", outpoints[0])),
        "{}",
        stderr(&unknown)
    );
}

/// The reveal's inscription output script and the commit's change script of a run in `out`.
fn scripts_of(dir: &Path, out: &str) -> (ScriptBuf, ScriptBuf) {
    let reveal = read_tx(&dir.join(out).join("reveal.hex"));
    let commit = read_tx(&dir.join(out).join("commit.hex"));
    assert_eq!(commit.output.len(), 2, "commit output and change");
    (
        reveal.output[0].script_pubkey.clone(),
        commit.output[1].script_pubkey.clone(),
    )
}

#[test]
fn runs_of_a_wallet_directory_get_fresh_addresses_and_a_dry_run_takes_none() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("words.txt"), MNEMONIC).unwrap();
    std::fs::write(dir.join("hello.txt"), "Hello, world!").unwrap();
    crate::wallet::restore_regtest_wallet(dir);
    let address = |extra: &[&str]| {
        let mut args = vec![
            "wallet",
            "address",
            "--wallet-dir",
            "w",
            "--network",
            "regtest",
            "--json",
        ];
        args.extend_from_slice(extra);
        json(&lumamesh(&args, dir))["addresses"][0]["path"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The funding address is handed out first; --index only shows.
    assert_eq!(address(&[]), "m/86'/1'/0'/0/0");
    assert_eq!(address(&["--index", "0"]), "m/86'/1'/0'/0/0");
    let funding = wallet().receive_address(0).unwrap().to_string();
    let utxos = serde_json::json!([
        {"txid": "11".repeat(32), "vout": 0, "value": 1_000_000, "address": funding},
        {"txid": "22".repeat(32), "vout": 0, "value": 1_000_000, "address": funding},
    ]);
    std::fs::write(dir.join("utxos.json"), utxos.to_string()).unwrap();
    let state = || std::fs::read(dir.join("w/addresses.json")).unwrap();
    let before = state();

    let run = |extra: &[&str]| {
        let mut args = vec![
            "inscribe",
            "--file",
            "hello.txt",
            "--network",
            "regtest",
            "--wallet-dir",
            "w",
            "--utxos",
            "utxos.json",
            "--fee-rate",
            "2",
        ];
        args.extend_from_slice(extra);
        lumamesh(&args, dir)
    };
    ok(&run(&["--dry-run"]));
    assert_eq!(state(), before, "a dry run advances nothing");

    ok(&run(&["--out", "one"]));
    let (inscription_1, change_1) = scripts_of(dir, "one");
    assert_eq!(inscription_1, script(Chain::Receive, 1));
    assert_eq!(change_1, script(Chain::Change, 0));
    // A refused run (same --out) advances nothing either.
    let after_one = state();
    assert_eq!(code(&run(&["--out", "one"])), 2);
    assert_eq!(state(), after_one);

    ok(&run(&["--out", "two"]));
    let (inscription_2, change_2) = scripts_of(dir, "two");
    assert_eq!(inscription_2, script(Chain::Receive, 2));
    assert_eq!(change_2, script(Chain::Change, 1));
    let funding_script = script(Chain::Receive, 0);
    let all = [
        &funding_script,
        &inscription_1,
        &change_1,
        &inscription_2,
        &change_2,
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b, "every address is used once");
        }
    }
    // The next funding address is past both runs.
    assert_eq!(address(&[]), "m/86'/1'/0'/0/3");
    let recorded: Value = serde_json::from_slice(&state()).unwrap();
    assert_eq!(recorded["next"]["receive"], 4);
    assert_eq!(recorded["next"]["change"], 2);
}
