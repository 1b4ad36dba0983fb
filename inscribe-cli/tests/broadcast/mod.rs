//! `--broadcast` and `lumamesh broadcast DIR` against the stand-in node ([`node`]): in order,
//! resumed after a stop and after a real kill without sending anything twice, refused on the
//! wrong chain and toward a remote host, stopped where the node refuses.

use std::path::Path;
use std::process::{Command, Stdio};
use std::str::FromStr;

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{Address, Amount, OutPoint, Transaction, TxOut, Txid};
use onchain::wallet::rpc::{Reach, Rpc};
use onchain::wallet::RpcError;
use serde_json::{json, Value};

use super::inscribe::regtest_wallet;
use super::{code, json, lumamesh, ok, stderr};

mod node;

use node::StandIn;

/// The outputs of `dir/utxos.json` (made by [`regtest_wallet`]), as a node's UTXO set.
fn funding(dir: &Path) -> Vec<(OutPoint, TxOut)> {
    let utxos: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("utxos.json")).unwrap()).unwrap();
    let coins = utxos.as_array().unwrap().iter().map(|u| {
        let sats = u["value"]
            .as_u64()
            .unwrap_or_else(|| (u["amount"].as_f64().unwrap() * 1e8).round() as u64);
        let address = Address::from_str(u["address"].as_str().unwrap()).unwrap();
        let op = OutPoint::new(u["txid"].as_str().unwrap().parse().unwrap(), 0);
        let op = OutPoint::new(op.txid, u["vout"].as_u64().unwrap() as u32);
        let out = TxOut {
            value: Amount::from_sat(sats),
            script_pubkey: address.assume_checked().script_pubkey(),
        };
        (op, out)
    });
    coins.collect()
}

/// A wallet, its coins and a node on `chain` that holds them.
fn setup(dir: &Path, chain: &str) -> StandIn {
    regtest_wallet(dir);
    std::fs::write(dir.join("hello.txt"), "hello, chain").unwrap();
    StandIn::start(dir, chain, funding(dir))
}

use crate::inscribe::WALLET;

/// `inscribe hello.txt` into `out`, written but not sent.
fn inscribe(dir: &Path, out: &str) -> Value {
    let mut args = vec!["inscribe", "--file", "hello.txt", "--fee-rate", "2"];
    args.extend(WALLET);
    args.extend(["--out", out, "--json"]);
    json(&lumamesh(&args, dir))
}

/// A node, and one inscription written to `run` (not sent): its commit's and reveal's txids.
fn one_pair(dir: &Path) -> (StandIn, Txid, Txid) {
    let node = setup(dir, "regtest");
    let summary = inscribe(dir, "run");
    let [commit, reveal] = txids(&summary)[..] else {
        panic!("one pair")
    };
    (node, commit, reveal)
}

fn broadcast_args<'a>(out: &'a str, node: &'a StandIn, network: &'a str) -> Vec<&'a str> {
    let cookie = node.cookie.to_str().unwrap();
    vec![
        "broadcast",
        out,
        "--network",
        network,
        "--rpc-url",
        &node.url,
        "--rpc-cookie",
        cookie,
        "--json",
    ]
}

/// The run's txids in its summary's order.
fn txids(summary: &Value) -> Vec<Txid> {
    let txs = summary["transactions"].as_array().unwrap();
    txs.iter()
        .map(|t| t["txid"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// How often the node accepted each of `txids` from sendrawtransaction, and how many sends
/// it answered as already in its mempool.
fn sends(node: &StandIn, txids: &[Txid]) -> (Vec<u32>, u32) {
    let chain = node.chain();
    let each = txids
        .iter()
        .map(|t| chain.sends.get(t).copied().unwrap_or(0));
    (each.collect(), chain.resends)
}

fn statuses(dir: &Path, out: &str) -> Vec<String> {
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(out).join("broadcast.json")).unwrap(),
    )
    .unwrap();
    let txs = state["transactions"].as_array().unwrap();
    txs.iter()
        .map(|t| t["status"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn publish_broadcasts_both_pairs_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = setup(dir, "regtest");
    std::fs::copy(fixtures::path("relay/relay.txt"), dir.join("relay.txt")).unwrap();
    let cookie = node.cookie.to_str().unwrap();
    let mut args = vec!["publish", "--relays", "relay.txt", "--fee-rate", "3"];
    args.extend(WALLET);
    args.extend([
        "--out",
        "pub",
        "--rpc-url",
        &node.url,
        "--rpc-cookie",
        cookie,
        "--broadcast",
    ]);
    let out = ok(&lumamesh(&args, dir));
    assert!(
        out.contains("every transaction is in the node's mempool"),
        "{out}"
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("pub/inscriptions.json")).unwrap())
            .unwrap();
    let order = txids(&summary);
    assert_eq!(order.len(), 4);
    let chain = node.chain();
    for txid in &order {
        assert_eq!(chain.sends.get(txid), Some(&1), "{txid} sent once");
    }
    assert_eq!(chain.resends, 0);
    // Each send came after the one before it was accepted: the node refuses a spend of an
    // output it has not seen, and the page pair spends the library commit's change.
    let sends = chain
        .calls
        .iter()
        .filter(|c| *c == "sendrawtransaction")
        .count();
    assert_eq!(sends, 4);
    drop(chain);
    assert_eq!(statuses(dir, "pub"), ["sent"; 4]);

    // Mined: every one is found in the chain (a commit whose outputs are all spent through
    // the reveal it funds), and nothing is sent again.
    node.chain().mine();
    ok(&lumamesh(&broadcast_args("pub", &node, "regtest"), dir));
    assert_eq!(statuses(dir, "pub"), ["in-chain"; 4]);
    assert!(order.iter().all(|txid| node.chain().sends[txid] == 1));
}

#[test]
fn a_stopped_broadcast_resumes_without_sending_anything_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (node, commit, reveal) = one_pair(dir);
    let stopped = Command::new(env!("CARGO_BIN_EXE_lumamesh"))
        .args(broadcast_args("run", &node, "regtest"))
        .current_dir(dir)
        .env("LUMAMESH_TEST_BROADCAST_STOP_AFTER", "1")
        .output()
        .unwrap();
    assert_eq!(code(&stopped), 3, "{}", stderr(&stopped));
    assert_eq!(statuses(dir, "run"), ["sent", "pending"]);
    assert!(!node.chain().sends.contains_key(&reveal));

    let done = json(&lumamesh(&broadcast_args("run", &node, "regtest"), dir));
    assert_eq!(done["transactions"][1]["status"], "sent");
    assert_eq!(sends(&node, &[commit, reveal]), (vec![1, 1], 0));

    // Once more, after a block: nothing is sent, everything is found in the chain.
    node.chain().mine();
    let again = json(&lumamesh(&broadcast_args("run", &node, "regtest"), dir));
    assert_eq!(again["transactions"][0]["status"], "in-chain");
    assert_eq!(sends(&node, &[commit, reveal]), (vec![1, 1], 0));
}

#[test]
fn killed_after_the_node_took_the_commit_the_next_run_sends_only_the_reveal() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (node, commit, reveal) = one_pair(dir);
    // The node takes the commit, but the answer never arrives: the process is killed while
    // it waits, before its state file can say the commit was sent.
    node.hold_reply("sendrawtransaction", 1);
    let mut child = Command::new(env!("CARGO_BIN_EXE_lumamesh"))
        .args(broadcast_args("run", &node, "regtest"))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    node.wait_holding();
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
    node.release();
    assert_eq!(statuses(dir, "run"), ["pending", "pending"]);
    assert_eq!(node.chain().sends.get(&commit), Some(&1));
    // And the node is now one from before 22.0: testmempoolaccept of one at a time.
    node.chain().no_packages = true;

    let done = json(&lumamesh(&broadcast_args("run", &node, "regtest"), dir));
    assert_eq!(done["transactions"][0]["status"], "in-mempool");
    assert_eq!(done["transactions"][1]["status"], "sent");
    assert_eq!(sends(&node, &[commit, reveal]), (vec![1, 1], 0));
}

#[test]
fn a_node_on_another_chain_is_refused_before_anything_is_written_or_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = setup(dir, "main");
    let cookie = node.cookie.to_str().unwrap();
    let mut args = vec!["inscribe", "--file", "hello.txt", "--fee-rate", "2"];
    args.extend(WALLET);
    args.extend([
        "--out",
        "run",
        "--rpc-url",
        &node.url,
        "--rpc-cookie",
        cookie,
        "--broadcast",
    ]);
    let out = lumamesh(&args, dir);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("on chain \"main\", not regtest"),
        "{message}"
    );
    assert!(!dir.join("run").exists(), "nothing written");
    assert_eq!(node.chain().calls, ["getblockchaininfo"]);

    std::fs::remove_dir_all(dir.join("run")).ok();
    inscribe(dir, "run");
    let out = lumamesh(&broadcast_args("run", &node, "regtest"), dir);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("on chain \"main\", not regtest"),
        "{}",
        stderr(&out)
    );
    assert!(node.chain().sends.is_empty());
    // The run's own network is checked too.
    let out = lumamesh(&broadcast_args("run", &node, "mainnet"), dir);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

#[test]
fn the_cookie_is_not_sent_to_a_remote_host() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = setup(dir, "regtest");
    inscribe(dir, "run");
    let cookie = node.cookie.to_str().unwrap();
    // TEST-NET-1: routed nowhere, so a connection attempt would hang or fail differently.
    let remote = "http://192.0.2.1:8332";
    let args = [
        "broadcast",
        "run",
        "--network",
        "regtest",
        "--rpc-url",
        remote,
        "--rpc-cookie",
        cookie,
    ];
    let out = lumamesh(&args, dir);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("192.0.2.1 is not this machine"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--rpc-remote-ok"), "{}", stderr(&out));
    // The funding path (listunspent) keeps the same rule.
    let mut args = vec!["inscribe", "--file", "hello.txt", "--fee-rate", "2"];
    args.extend(WALLET);
    args.extend(["--out", "run2", "--rpc-url", remote, "--rpc-cookie", cookie]);
    let out = lumamesh(&args, dir);
    assert_ne!(code(&out), 0);
    assert!(
        stderr(&out).contains("192.0.2.1 is not this machine"),
        "{}",
        stderr(&out)
    );
    // The check itself, with no cookie file to read: refused first, nothing connected.
    let err = Rpc::new(remote, &dir.join("absent"), Reach::LoopbackOnly).unwrap_err();
    assert!(matches!(err, RpcError::Remote { .. }), "{err}");
}

#[test]
fn a_refusal_stops_the_run_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = setup(dir, "regtest");
    inscribe(dir, "first");
    ok(&lumamesh(&broadcast_args("first", &node, "regtest"), dir));
    // A second run from the same coins: its commit spends what the first one spends.
    inscribe(dir, "second");
    let out = lumamesh(&broadcast_args("second", &node, "regtest"), dir);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let message = stderr(&out);
    assert!(message.contains("txn-mempool-conflict"), "{message}");
    assert!(message.contains("broadcast.json"), "{message}");
    assert!(message.contains("lumamesh broadcast second"), "{message}");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("second/broadcast.json")).unwrap())
            .unwrap();
    assert_eq!(state["stopped"]["name"], "commit");
    assert_eq!(statuses(dir, "second"), ["pending", "pending"]);
}

/// The stand-in is faithful where it matters: a reveal before its commit, a bad signature, a
/// transaction sent twice and one already confirmed get Bitcoin Core's answers.
#[test]
fn the_stand_in_answers_as_bitcoin_core() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = setup(dir, "regtest");
    inscribe(dir, "run");
    let read = |name: &str| -> Transaction {
        deserialize_hex(
            std::fs::read_to_string(dir.join("run").join(name))
                .unwrap()
                .trim(),
        )
        .unwrap()
    };
    let (commit, reveal) = (read("commit.hex"), read("reveal.hex"));
    let rpc = Rpc::new(&node.url, &node.cookie, Reach::LoopbackOnly).unwrap();
    let send = |tx: &Transaction| rpc.call("sendrawtransaction", json!([serialize_hex(tx)]));
    let refused = |r: Result<_, RpcError>| match r.unwrap_err() {
        RpcError::Rpc { code, message, .. } => (code, message),
        other => panic!("{other}"),
    };
    assert_eq!(
        refused(send(&reveal)),
        (-25, "bad-txns-inputs-missingorspent".into())
    );
    let test: Value = rpc
        .call_as("testmempoolaccept", json!([[serialize_hex(&reveal)]]))
        .unwrap();
    assert_eq!(test[0]["allowed"], false);
    assert_eq!(test[0]["reject-reason"], "missing-inputs");
    let package: Value = rpc
        .call_as(
            "testmempoolaccept",
            json!([[serialize_hex(&commit), serialize_hex(&reveal)]]),
        )
        .unwrap();
    assert_eq!(
        (&package[0]["allowed"], &package[1]["allowed"]),
        (&json!(true), &json!(true))
    );
    assert!(node.chain().sends.is_empty(), "a test sends nothing");

    let mut forged = reveal.clone();
    let witness = &mut forged.input[0].witness;
    let mut items: Vec<Vec<u8>> = witness.to_vec();
    items[0][10] ^= 1;
    *witness = bitcoin::Witness::from_slice(&items);
    send(&commit).unwrap();
    let (code, message) = refused(send(&forged));
    assert_eq!(code, -26);
    assert!(
        message.starts_with("mandatory-script-verify-flag-failed"),
        "{message}"
    );
    send(&reveal).unwrap();
    send(&reveal).unwrap();
    assert_eq!(
        node.chain().resends,
        1,
        "already in the mempool: its txid, counted apart"
    );
    node.chain().mine();
    assert_eq!(
        refused(send(&reveal)),
        (-27, "Transaction outputs already in utxo set".into())
    );
    let wrong = dir.join("wrong.cookie");
    std::fs::write(&wrong, "__cookie__:wrong").unwrap();
    let rpc = Rpc::new(&node.url, &wrong, Reach::LoopbackOnly).unwrap();
    let err = rpc.call("getblockchaininfo", json!([])).unwrap_err();
    assert!(matches!(err, RpcError::Unauthorized { .. }), "{err}");
}
