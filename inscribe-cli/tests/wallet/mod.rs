//! `lumamesh wallet …`: create, restore, addresses, descriptors, UTXO files, refusals.

use std::path::Path;

use crate::{code, json, lumamesh, ok, stderr};

const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                       abandon abandon about";

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn create_is_private_refuses_overwrite_and_never_shows_the_mnemonic_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = lumamesh(
        &[
            "wallet",
            "create",
            "--wallet-dir",
            "w",
            "--network",
            "regtest",
        ],
        dir,
    );
    let text = ok(&out);
    let mnemonic = std::fs::read_to_string(dir.join("w/mnemonic")).unwrap();
    assert_eq!(mnemonic.split_whitespace().count(), 12);
    assert!(text.contains("w/mnemonic"), "{text}");
    for word in mnemonic.split_whitespace() {
        assert!(
            !text.split_whitespace().any(|t| t == word),
            "printed a word: {text}"
        );
    }
    assert!(!stderr(&out).contains(mnemonic.trim()));
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir.join("w/mnemonic")), 0o600);
        assert_eq!(mode(&dir.join("w")), 0o700);
    }
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("w/wallet.json")).unwrap()).unwrap();
    assert_eq!(meta["network"], "regtest");

    // No overwrite without --force: exit 2, the mnemonic untouched.
    let again = lumamesh(
        &[
            "wallet",
            "create",
            "--wallet-dir",
            "w",
            "--network",
            "regtest",
        ],
        dir,
    );
    assert_eq!(code(&again), 2);
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(dir.join("w/mnemonic")).unwrap(),
        mnemonic
    );

    // --force replaces; --show --json prints the new words, which are the file's.
    let forced = json(&lumamesh(
        &[
            "wallet",
            "create",
            "--wallet-dir",
            "w",
            "--network",
            "regtest",
            "--words",
            "24",
            "--force",
            "--show",
            "--json",
        ],
        dir,
    ));
    let shown = forced["mnemonic"].as_str().unwrap();
    assert_eq!(shown.split(' ').count(), 24);
    assert_eq!(
        std::fs::read_to_string(dir.join("w/mnemonic"))
            .unwrap()
            .trim(),
        shown
    );
    assert_ne!(shown, mnemonic.trim());
    assert!(forced["first_address"]
        .as_str()
        .unwrap()
        .starts_with("bcrt1p"));
    let without_show = json(&lumamesh(
        &[
            "wallet",
            "create",
            "--wallet-dir",
            "w2",
            "--network",
            "signet",
            "--json",
        ],
        dir,
    ));
    assert!(without_show.get("mnemonic").is_none());

    // Bad usage exits 2.
    for args in [
        &[
            "wallet",
            "create",
            "--wallet-dir",
            "x",
            "--network",
            "dogecoin",
        ][..],
        &[
            "wallet",
            "create",
            "--wallet-dir",
            "x",
            "--network",
            "regtest",
            "--words",
            "15",
        ],
        &["wallet", "create", "--wallet-dir", "x"],
    ] {
        let out = lumamesh(args, dir);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
    }
    assert!(!dir.join("x").exists());
}

#[test]
fn restore_and_addresses_match_bip86() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("words.txt"),
        format!("  {}\n\n", ABANDON.replace(' ', "\n")),
    )
    .unwrap();
    let restored = json(&lumamesh(
        &[
            "wallet",
            "restore",
            "--wallet-dir",
            "main",
            "--network",
            "mainnet",
            "--mnemonic-file",
            "words.txt",
            "--json",
        ],
        dir,
    ));
    assert_eq!(restored["fingerprint"], "73c5da0a");
    assert_eq!(
        restored["first_address"],
        "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"
    );
    #[cfg(unix)]
    assert_eq!(mode(&dir.join("main/mnemonic")), 0o600);

    // The same mnemonic straight from the file gives the same addresses as the directory.
    let from_dir = ok(&lumamesh(
        &[
            "wallet",
            "address",
            "--wallet-dir",
            "main",
            "--network",
            "bitcoin",
            "--index",
            "1",
        ],
        dir,
    ));
    let from_file = ok(&lumamesh(
        &[
            "wallet",
            "address",
            "--mnemonic-file",
            "words.txt",
            "--network",
            "main",
            "--index",
            "1",
        ],
        dir,
    ));
    assert_eq!(
        from_dir,
        "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh\n"
    );
    assert_eq!(from_dir, from_file);
    let change = ok(&lumamesh(
        &[
            "wallet",
            "address",
            "--wallet-dir",
            "main",
            "--network",
            "mainnet",
            "--change",
        ],
        dir,
    ));
    assert_eq!(
        change,
        "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7\n"
    );

    // Regtest: bcrt1p…, coin type 1.
    ok(&lumamesh(
        &[
            "wallet",
            "restore",
            "--wallet-dir",
            "reg",
            "--network",
            "regtest",
            "--mnemonic-file",
            "words.txt",
        ],
        dir,
    ));
    let addresses = json(&lumamesh(
        &[
            "wallet",
            "address",
            "--wallet-dir",
            "reg",
            "--network",
            "regtest",
            "--count",
            "3",
            "--json",
        ],
        dir,
    ));
    let list = addresses["addresses"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    for (i, a) in list.iter().enumerate() {
        assert!(a["address"].as_str().unwrap().starts_with("bcrt1p"), "{a}");
        assert_eq!(a["path"], format!("m/86'/1'/0'/0/{i}"));
        assert_eq!(a["chain"], "receive");
    }

    // A passphrase is a different wallet, and is kept (0600) for later opens.
    std::fs::write(dir.join("pass.txt"), "TREZOR\n").unwrap();
    let with_pass = json(&lumamesh(
        &[
            "wallet",
            "restore",
            "--wallet-dir",
            "pass",
            "--network",
            "mainnet",
            "--mnemonic-file",
            "words.txt",
            "--passphrase-file",
            "pass.txt",
            "--json",
        ],
        dir,
    ));
    assert_ne!(with_pass["first_address"], restored["first_address"]);
    let reopened = ok(&lumamesh(
        &[
            "wallet",
            "address",
            "--wallet-dir",
            "pass",
            "--network",
            "mainnet",
        ],
        dir,
    ));
    assert_eq!(
        reopened.trim(),
        with_pass["first_address"].as_str().unwrap()
    );

    // A bad mnemonic: exit 1, its words not echoed.
    std::fs::write(dir.join("bad.txt"), ABANDON.replace("about", "zebra")).unwrap();
    let bad = lumamesh(
        &[
            "wallet",
            "restore",
            "--wallet-dir",
            "bad",
            "--network",
            "regtest",
            "--mnemonic-file",
            "bad.txt",
        ],
        dir,
    );
    assert_eq!(code(&bad), 1);
    assert!(stderr(&bad).contains("bad.txt: not a valid English BIP39 mnemonic"));
    assert!(!stderr(&bad).contains("zebra"));
    assert!(!dir.join("bad").exists());
    let missing = lumamesh(
        &[
            "wallet",
            "restore",
            "--wallet-dir",
            "m",
            "--network",
            "regtest",
            "--mnemonic-file",
            "none.txt",
        ],
        dir,
    );
    assert_eq!(code(&missing), 2);
}

#[test]
fn wrong_network_and_missing_wallets_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&lumamesh(
        &[
            "wallet",
            "create",
            "--wallet-dir",
            "w",
            "--network",
            "regtest",
        ],
        dir,
    ));
    for network in ["mainnet", "testnet", "testnet4", "signet"] {
        let out = lumamesh(
            &[
                "wallet",
                "address",
                "--wallet-dir",
                "w",
                "--network",
                network,
            ],
            dir,
        );
        assert_eq!(code(&out), 2, "{network}");
        assert!(
            stderr(&out).contains("is for regtest, not"),
            "{network}: {}",
            stderr(&out)
        );
    }
    let none = lumamesh(
        &[
            "wallet",
            "address",
            "--wallet-dir",
            "nope",
            "--network",
            "regtest",
        ],
        dir,
    );
    assert_eq!(code(&none), 2);
    assert!(
        stderr(&none).contains("lumamesh wallet create"),
        "{}",
        stderr(&none)
    );
    // One source only.
    let both = lumamesh(
        &[
            "wallet",
            "address",
            "--wallet-dir",
            "w",
            "--mnemonic-file",
            "m",
            "--network",
            "regtest",
        ],
        dir,
    );
    assert_eq!(code(&both), 2);
}

#[test]
fn descriptors_for_bitcoin_core() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("words.txt"), ABANDON).unwrap();
    let out = json(&lumamesh(
        &[
            "wallet",
            "descriptors",
            "--mnemonic-file",
            "words.txt",
            "--network",
            "mainnet",
            "--json",
        ],
        dir,
    ));
    let xpub = "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ";
    assert_eq!(
        out["receive"],
        format!("tr([73c5da0a/86'/0'/0']{xpub}/0/*)#rg247h69")
    );
    assert_eq!(
        out["change"],
        format!("tr([73c5da0a/86'/0'/0']{xpub}/1/*)#ju05rz2a")
    );
    assert_eq!(out["importdescriptors"][1]["internal"], true);
    assert_eq!(out["importdescriptors"][0]["desc"], out["receive"]);
}

#[test]
fn utxo_files_are_checked_against_network_and_wallet() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("words.txt"), ABANDON).unwrap();
    restore_regtest_wallet(dir);
    let address = ok(&lumamesh(
        &[
            "wallet",
            "address",
            "--wallet-dir",
            "w",
            "--network",
            "regtest",
            "--index",
            "7",
        ],
        dir,
    ));
    let txid = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";
    let utxos = format!(
        r#"[{{"txid": "{txid}", "vout": 0, "address": "{a}", "amount": 0.0005}},
            {{"txid": "{txid}", "vout": 1, "address": "{a}", "value": 10000,
              "inscriptions": ["{txid}i0"]}}]"#,
        a = address.trim()
    );
    std::fs::write(dir.join("utxos.json"), &utxos).unwrap();
    let out = json(&lumamesh(
        &[
            "wallet",
            "utxos",
            "utxos.json",
            "--network",
            "regtest",
            "--wallet-dir",
            "w",
            "--json",
        ],
        dir,
    ));
    assert_eq!(out["total"], 60_000);
    assert_eq!(out["spendable"], 50_000);
    assert_eq!(out["utxos"][0]["wallet"], "receive/7");

    let wrong = lumamesh(
        &["wallet", "utxos", "utxos.json", "--network", "signet"],
        dir,
    );
    // A file the user fixes: exit 2, as `inscribe` and `publish` give for the same file.
    assert_eq!(code(&wrong), 2);
    assert!(
        stderr(&wrong).contains("utxos.json: entry 0: field \"address\": bcrt1p"),
        "{}",
        stderr(&wrong)
    );
    std::fs::write(
        dir.join("utxos.json"),
        utxos.replace("0.0005", "0.000500001"),
    )
    .unwrap();
    let precise = lumamesh(
        &["wallet", "utxos", "utxos.json", "--network", "regtest"],
        dir,
    );
    assert!(stderr(&precise)
        .contains("entry 0: field \"amount\": 0.000500001 BTC has more than 8 decimals"));
}

/// `wallet utxos --rpc-url`: listunspent from a stand-in Bitcoin Core on 127.0.0.1.
#[test]
fn utxos_from_bitcoin_core_rpc() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("words.txt"), ABANDON).unwrap();
    std::fs::write(dir.join(".cookie"), "__cookie__:pw\n").unwrap();
    restore_regtest_wallet(dir);
    let address = ok(&lumamesh(
        &[
            "wallet",
            "address",
            "--wallet-dir",
            "w",
            "--network",
            "regtest",
            "--change",
        ],
        dir,
    ));
    let txid = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";
    let reply = format!(
        r#"{{"result":[{{"txid":"{txid}","vout":3,"address":"{}","amount":0.00012345,"confirmations":1}}],"error":null,"id":"lumamesh"}}"#,
        address.trim()
    );
    let (url, server) = fixtures::rpc::serve(
        vec![
            ("200 OK", fixtures::rpc::chain_reply("regtest")),
            ("200 OK", reply),
        ],
        false,
    );
    let out = json(&lumamesh(
        &[
            "wallet",
            "utxos",
            "--rpc-url",
            &url,
            "--rpc-cookie",
            ".cookie",
            "--network",
            "regtest",
            "--wallet-dir",
            "w",
            "--json",
        ],
        dir,
    ));
    assert_eq!(out["total"], 12_345);
    // A node does not know inscriptions: its outputs of 20,000 sat or less are never counted
    // as spendable, as `inscribe` and `publish` never spend them as fees.
    assert_eq!(out["spendable"], 0);
    assert_eq!(out["utxos"][0]["wallet"], "change/0");
    assert_eq!(out["utxos"][0]["outpoint"], format!("{txid}:3"));
    let asked = server.join().unwrap();
    assert!(
        asked[0].body.contains("\"getblockchaininfo\""),
        "{}",
        asked[0].body
    );
    let received = &asked[1];
    assert!(
        received.head.starts_with("POST /wallet/lm HTTP/1.1"),
        "{}",
        received.head
    );
    assert!(
        received.body.contains("\"listunspent\""),
        "{}",
        received.body
    );

    // Neither a file nor --rpc-url: usage error.
    let none = lumamesh(&["wallet", "utxos", "--network", "regtest"], dir);
    assert_eq!(code(&none), 2);
}

/// `wallet restore --wallet-dir w --network regtest --mnemonic-file words.txt` in `dir`.
pub fn restore_regtest_wallet(dir: &std::path::Path) {
    ok(&lumamesh(
        &[
            "wallet",
            "restore",
            "--wallet-dir",
            "w",
            "--network",
            "regtest",
            "--mnemonic-file",
            "words.txt",
        ],
        dir,
    ));
}
