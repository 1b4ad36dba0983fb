//! Issue 15 item 4 end to end: `lumamesh publish` on regtest (library, relay list naming relay
//! A, page), then `lumamesh publish --parent <list>` of a child list naming relay B; the
//! harness serves the reveals as ord does (`/r/children`, `/content`), relay A stops, and
//! the page in headless Chromium still opens its relay channel, on B. Negative variants: a
//! child whose entry's signature is bad is never dialled (the embedded relay is used); an
//! older version inscribed after a newer one does not replace it; a server that knows no
//! child (404 on `/r/children`) leaves the page on its embedded relay.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use bitcoin::{Address, Network, Transaction};
use harness::browser::{Browser, LaunchOptions};
use harness::server::{read_reveal, ContentServer, ServerConfig, Store};
use harness::InscriptionId;
use lumamesh_relay::local::LocalRelay;

use crate::{json, lumamesh, ok};

/// Generous: machines running the tests are shared.
const WAIT: Duration = Duration::from_secs(90);
const OPEN: &str = "document.body.dataset.relay === 'open'";

/// `lumamesh <args> --network regtest --wallet-dir wallet --fee-rate 10 --utxos <coins>`.
fn onchain(dir: &Path, args: &[&str], coins: &serde_json::Value, out: &str) {
    let utxos = format!("{out}-utxos.json");
    std::fs::write(dir.join(&utxos), coins.to_string()).unwrap();
    let mut all = args.to_vec();
    all.extend([
        "--network",
        "regtest",
        "--wallet-dir",
        "wallet",
        "--fee-rate",
        "10",
        "--utxos",
        &utxos,
        "--out",
        out,
    ]);
    ok(&lumamesh(&all, dir));
}

/// A made-up funding coin `n` of 1,000,000 sat at `address` (no node here).
fn coin(n: u8, address: &str) -> serde_json::Value {
    serde_json::json!({
        "txid": hex::encode([n; 32]),
        "vout": 0,
        "value": 1_000_000,
        "address": address,
    })
}

/// Output `vout` of `tx`, holding `id`, as a --utxos entry.
fn holding(tx: &Transaction, vout: u32, id: &InscriptionId) -> serde_json::Value {
    let out = &tx.output[vout as usize];
    let address = Address::from_script(&out.script_pubkey, Network::Regtest).unwrap();
    serde_json::json!({
        "txid": tx.compute_txid().to_string(),
        "vout": vout,
        "value": out.value.to_sat(),
        "address": address.to_string(),
        "inscriptions": [id.to_string()],
    })
}

/// A relay list file: `# version N` (if any) and `lines`.
fn list(dir: &Path, name: &str, version: Option<u32>, lines: &[String]) {
    let mut text = String::from("# a child relay list\n");
    if let Some(v) = version {
        text.push_str(&format!("# version {v}\n"));
    }
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(dir.join(name), text).unwrap();
}

/// A content server holding the reveals in `files` (in this order: inscription numbers).
async fn serve(dir: &Path, files: &[&str]) -> (ContentServer, Vec<InscriptionId>) {
    let server = ContentServer::start(Store::new(), ServerConfig::default())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for f in files {
        ids.extend(
            server
                .insert_reveal(&read_reveal(dir.join(f)).unwrap())
                .unwrap(),
        );
    }
    (server, ids)
}

/// Opens the page (the last inscription served) and waits until its relay channel is open.
async fn reaches_a_relay(browser: &Browser, server: &ContentServer, page: &InscriptionId) {
    let tab = browser.open(&server.content_url(page)).await.unwrap();
    if let Err(e) = tab.wait_for(OPEN, WAIT).await {
        let status = tab
            .eval("document.getElementById('status').textContent")
            .await;
        panic!("the page reached no relay: {e} (status: {status:?})");
    }
    tab.close().await.unwrap();
}

/// Waits until `relay`'s published stats (every 250 ms) satisfy `ok`.
async fn until(relay: &LocalRelay, what: &str, ok: impl Fn(&lumamesh_relay::core::Stats) -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !ok(&relay.stats()) {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: {:?}",
            relay.stats()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn a_page_reaches_a_relay_named_only_in_a_child_list() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(story());
}

async fn story() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ip = Ipv4Addr::LOCALHOST.into();
    let relay_a = LocalRelay::start(ip).await.unwrap();
    let relay_b = LocalRelay::start(ip).await.unwrap();
    let (line_a, line_b) = (relay_a.entry().to_line(), relay_b.entry().to_line());
    // A relay nobody runs: its identity's entry for a port nothing listens on.
    ok(&lumamesh(&["relay", "init", "--dir", "dead"], dir));
    let dead = ok(&lumamesh(
        &[
            "relay",
            "encode",
            "--dir",
            "dead",
            "--ip",
            "127.0.0.1",
            "--port",
            "9",
        ],
        dir,
    ));
    let line_dead = dead
        .lines()
        .next()
        .expect("encode prints the line")
        .to_owned();

    ok(&lumamesh(
        &[
            "wallet",
            "create",
            "--wallet-dir",
            "wallet",
            "--network",
            "regtest",
        ],
        dir,
    ));
    let addresses = json(&lumamesh(
        &[
            "wallet",
            "address",
            "--wallet-dir",
            "wallet",
            "--network",
            "regtest",
            "--json",
        ],
        dir,
    ));
    let funding = addresses["addresses"][0]["address"]
        .as_str()
        .unwrap()
        .to_owned();

    // The publish: the list names relay A only.
    list(dir, "relay.txt", None, std::slice::from_ref(&line_a));
    let args = ["publish", "--relays", "relay.txt", "--name", "children"];
    onchain(dir, &args, &serde_json::json!([coin(1, &funding)]), "chain");
    let first = read_reveal(dir.join("chain/library-reveal.hex")).unwrap();
    let list_id = InscriptionId::new(first.compute_txid(), 1);
    let list_arg = list_id.to_string();

    // Child version 2 names relay B; its reveal gives the parent back at output 1.
    list(dir, "v2.txt", Some(2), std::slice::from_ref(&line_b));
    let coins = serde_json::json!([holding(&first, 1, &list_id), coin(2, &funding)]);
    let child = ["publish", "--relays", "v2.txt", "--parent", &list_arg];
    onchain(dir, &child, &coins, "child2");
    let v2 = read_reveal(dir.join("child2/list-reveal.hex")).unwrap();

    // A version 3 whose entry (relay B's) has a bad signature: `publish` refuses such a list,
    // so it is inscribed as a plain file, as anyone's other tool might.
    let mut bad = line_b.clone().into_bytes();
    let last = bad.len() - 3;
    bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
    list(dir, "v3.txt", Some(3), &[String::from_utf8(bad).unwrap()]);
    let coins = serde_json::json!([holding(&v2, 1, &list_id), coin(3, &funding)]);
    let args = [
        "inscribe",
        "--file",
        "v3.txt",
        "--content-type",
        "text/plain;charset=utf-8",
        "--parent",
        &list_arg,
    ];
    onchain(dir, &args, &coins, "bad3");
    let v3 = read_reveal(dir.join("bad3/reveal.hex")).unwrap();

    // Version 1, inscribed after version 2, names only a dead relay.
    list(dir, "v1.txt", Some(1), std::slice::from_ref(&line_dead));
    let coins = serde_json::json!([holding(&v3, 1, &list_id), coin(4, &funding)]);
    let child = ["publish", "--relays", "v1.txt", "--parent", &list_arg];
    onchain(dir, &child, &coins, "child1");

    let browser = Browser::launch(LaunchOptions::default()).await.unwrap();
    let batch = ["chain/library-reveal.hex", "chain/page-reveal.hex"];
    let page_id = |ids: &[InscriptionId]| ids[2];

    // No child known to the server (ord answers 404 for the list's children): embedded A.
    let (server, ids) = serve(dir, &batch).await;
    assert_eq!(ids[1], list_id);
    reaches_a_relay(&browser, &server, &page_id(&ids)).await;

    // Only the child with the bad signature: A is used, B is never dialled.
    let (server, ids) = serve(dir, &[batch[0], batch[1], "bad3/reveal.hex"]).await;
    reaches_a_relay(&browser, &server, &page_id(&ids)).await;
    until(&relay_a, "A opened both pages' channels", |s| {
        s.handshakes >= 2
    })
    .await;
    // Two more of B's snapshots: a dial would have reached B with A's.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(relay_b.stats().sessions_created, 0, "B was dialled");

    relay_a.stop().await.unwrap();

    // Relay A is down; the child (version 2) names B: the page opens its channel there.
    let (server, ids) = serve(dir, &[batch[0], batch[1], "child2/list-reveal.hex"]).await;
    reaches_a_relay(&browser, &server, &page_id(&ids)).await;
    until(&relay_b, "B opened the page's channel", |s| {
        s.handshakes >= 1
    })
    .await;

    // Version 1 after version 2 (a later inscription, an older list): version 2 still wins.
    let files = [
        batch[0],
        batch[1],
        "child2/list-reveal.hex",
        "child1/list-reveal.hex",
    ];
    let (server, ids) = serve(dir, &files).await;
    reaches_a_relay(&browser, &server, &page_id(&ids)).await;
    until(&relay_b, "B opened the second page's channel", |s| {
        s.handshakes >= 2
    })
    .await;

    browser.close().await.unwrap();
    relay_b.stop().await.unwrap();
}

/// A child list without a version, or with a bad or second one, is refused before any wallet
/// is opened (exit 2, naming the file and line); so is `--page` with `--parent`.
#[test]
fn a_child_list_needs_one_good_version_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&lumamesh(&["relay", "init", "--dir", "id"], dir));
    let line = ok(&lumamesh(
        &[
            "relay",
            "encode",
            "--dir",
            "id",
            "--ip",
            "127.0.0.1",
            "--port",
            "4000",
        ],
        dir,
    ));
    let line = line.lines().next().unwrap().to_owned();
    let parent = format!("{}i1", "ab".repeat(32));
    let cases: [(&[&str], &str); 4] = [
        (&[], "needs a `# version N` line"),
        (
            &["# version 1.5"],
            "v.txt:2: `# version 1.5`: not a whole number",
        ),
        (
            &["# version 2", "# version 3"],
            "v.txt:3: a second `# version` line",
        ),
        (&["# version 2"], "cannot be used with"),
    ];
    for (i, (extra, needle)) in cases.iter().enumerate() {
        let mut text = format!("{line}\n");
        for l in *extra {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(dir.join("v.txt"), text).unwrap();
        let mut args = vec!["publish", "--relays", "v.txt", "--parent", &parent];
        if i == 3 {
            args.extend(["--page", "page.html"]);
        }
        args.extend([
            "--network",
            "regtest",
            "--utxos",
            "none.json",
            "--wallet-dir",
            "none",
            "--fee-rate",
            "10",
            "--out",
            "out",
        ]);
        let out = lumamesh(&args, dir);
        assert_eq!(crate::code(&out), 2, "{extra:?}: {}", crate::stderr(&out));
        assert!(
            crate::stderr(&out).contains(needle),
            "{extra:?}: {}",
            crate::stderr(&out)
        );
    }
}
