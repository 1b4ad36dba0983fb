//! UTXO files and `listunspent` output: what loads, and what is refused with file, entry and field named.

use bitcoin::{Amount, Network};

use super::{load_utxos, parse_btc, parse_utxos, EntryError, Utxo, UtxoError, MAX_MONEY};
use crate::wallet::network::check_address;

const TXID: &str = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";

/// A regtest P2TR address: the BIP-86 test wallet's first receive address.
fn regtest_addr() -> String {
    let words = format!("{}about", "abandon ".repeat(11));
    let mnemonic: bip39::Mnemonic = words.parse().unwrap();
    let wallet = crate::wallet::Wallet::from_mnemonic(&mnemonic, "", Network::Regtest);
    wallet.unwrap().receive_address(0).unwrap().to_string()
}

fn parse(text: &str) -> Result<Vec<Utxo>, String> {
    parse_utxos(text, "utxos.json", Network::Regtest).map_err(|e| e.to_string())
}

fn entry(fields: &str) -> String {
    format!(r#"[{{"txid": "{TXID}", "vout": 0, {fields}}}]"#)
}

#[test]
fn btc_amounts_convert_exactly() {
    for (text, sats) in [
        ("0.00010000", 10_000),
        ("0.1", 10_000_000),
        ("1", 100_000_000),
        ("0", 0),
        ("0.00000001", 1),
        ("20999999.99999999", 2_099_999_999_999_999),
        ("21000000", MAX_MONEY),
        ("1e-05", 1_000),
        ("1.5E2", 15_000_000_000),
        ("0.123456780", 12_345_678),
        ("0.00000000", 0),
    ] {
        assert_eq!(parse_btc(text), Ok(Amount::from_sat(sats)), "{text}");
    }
    for text in [
        "0.000000001",
        "1.123456789",
        "1e-9",
        "-0.1",
        "21000000.00000001",
        "1e300",
        "abc",
        "1.",
        ".5",
        "\"0.1\"",
    ] {
        assert!(parse_btc(text).is_err(), "{text}");
    }
    assert!(parse_btc("0.123456789")
        .unwrap_err()
        .contains("more than 8 decimals"));
}

#[test]
fn loads_listunspent_output() {
    let reg = regtest_addr();
    let script = check_address(&reg, Network::Regtest)
        .unwrap()
        .script_pubkey()
        .to_hex_string();
    let text = format!(
        r#"[
          {{"txid": "{TXID}", "vout": 1, "address": "{reg}", "label": "",
            "scriptPubKey": "{script}", "amount": 0.00050000, "confirmations": 6,
            "spendable": true, "solvable": true, "safe": true}},
          {{"txid": "{TXID}", "vout": 2, "value": 10000, "scriptPubKey": "{script}",
            "inscriptions": ["{TXID}i0"]}}
        ]"#
    );
    let utxos = parse(&text).unwrap();
    assert_eq!(utxos.len(), 2);
    assert_eq!(utxos[0].outpoint.vout, 1);
    assert_eq!(utxos[0].value, Amount::from_sat(50_000));
    assert_eq!(utxos[0].script_pubkey.to_hex_string(), script);
    assert!(!utxos[0].is_inscribed());
    assert_eq!(utxos[1].inscriptions, vec![format!("{TXID}i0")]);
    assert!(utxos[1].is_inscribed());
    assert_eq!(utxos[1].txout().value, Amount::from_sat(10_000));
    assert_eq!(parse("[]").unwrap(), vec![]);
}

#[test]
fn errors_name_file_entry_and_field() {
    let reg = regtest_addr();
    let addr = format!(r#""address": "{reg}""#);
    let cases = [
        ("[1,", "utxos.json: not valid JSON: "),
        (r#"{"txid": 1}"#, "utxos.json: expected a JSON array"),
        ("[1]", "utxos.json: entry 0: not a JSON object"),
        (
            &format!(r#"[{{"vout": 0, "value": 1, {addr}}}]"#),
            "utxos.json: entry 0: field \"txid\": missing",
        ),
        (
            &format!(r#"[{{"txid": "{TXID}", "value": 1, {addr}}}]"#),
            "utxos.json: entry 0: field \"vout\": missing",
        ),
        (
            &format!(r#"[{{"txid": "{TXID}", "vout": "x", "value": 1, {addr}}}]"#),
            "utxos.json: entry 0: field \"vout\": expected an integer from 0 to 4294967295, found \"x\"",
        ),
        (
            &format!(r#"[{{"txid": "{TXID}", "vout": -1, "value": 1, {addr}}}]"#),
            "field \"vout\": expected an integer",
        ),
        (
            &format!(r#"[{{"txid": "abc", "vout": 0, "value": 1, {addr}}}]"#),
            "field \"txid\": expected 64 hex digits, found \"abc\"",
        ),
        (&entry(&addr), "utxos.json: entry 0: needs \"value\""),
        (
            &entry(&format!(r#""amount": 0.123456789, {addr}"#)),
            "utxos.json: entry 0: field \"amount\": 0.123456789 BTC has more than 8 decimals",
        ),
        (
            &entry(&format!(r#""value": 1.5, {addr}"#)),
            "field \"value\": expected an integer number of satoshis",
        ),
        (
            &entry(&format!(r#""value": 100000, "amount": 0.002, {addr}"#)),
            "field \"amount\": 0.00200000 BTC disagrees with \"value\" 0.00100000 BTC",
        ),
        (&entry(r#""value": 1"#), "needs \"address\" or \"scriptPubKey\""),
        (
            &entry(r#""value": 1, "address": "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr""#),
            "utxos.json: entry 0: field \"address\": bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr is a mainnet address, not one for regtest",
        ),
        (
            &entry(&format!(r#""value": 1, {addr}, "scriptPubKey": "0014""#)),
            "field \"scriptPubKey\": 0014 is not the script of",
        ),
        (
            &entry(r#""value": 1, "scriptPubKey": "zz""#),
            "field \"scriptPubKey\": expected hex",
        ),
        (
            &entry(&format!(r#""value": 1, {addr}, "inscriptions": ["{TXID}"]"#)),
            "field \"inscriptions\": ",
        ),
        (
            &entry(&format!(r#""value": 1, {addr}, "inscriptions": "x""#)),
            "field \"inscriptions\": expected an array of inscription ids",
        ),
    ];
    for (text, expected) in cases {
        let err = parse(text).unwrap_err();
        assert!(
            err.contains(expected),
            "{text}\n  gave: {err}\n  want: {expected}"
        );
    }
}

#[test]
fn duplicate_outpoints_are_refused() {
    let reg = regtest_addr();
    let one = format!(r#"{{"txid": "{TXID}", "vout": 3, "value": 1, "address": "{reg}"}}"#);
    let other = format!(r#"{{"txid": "{TXID}", "vout": 4, "value": 1, "address": "{reg}"}}"#);
    let err = parse_utxos(
        &format!("[{one}, {other}, {one}]"),
        "utxos.json",
        Network::Regtest,
    )
    .unwrap_err();
    match &err {
        UtxoError::Entry {
            index: 2, error, ..
        } if matches!(**error, EntryError::Duplicate { first: 0, .. }) => {}
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .starts_with("utxos.json: entry 2: outpoint "),
        "{err}"
    );
}

#[test]
fn loads_from_a_file() {
    let reg = regtest_addr();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("utxos.json");
    assert!(matches!(
        load_utxos(&path, Network::Regtest),
        Err(UtxoError::Read { .. })
    ));
    std::fs::write(&path, entry(&format!(r#""value": 7, "address": "{reg}""#))).unwrap();
    assert_eq!(
        load_utxos(&path, Network::Regtest).unwrap()[0].value,
        Amount::from_sat(7)
    );
    std::fs::write(&path, b"\xff").unwrap();
    assert!(load_utxos(&path, Network::Regtest)
        .unwrap_err()
        .to_string()
        .contains("UTF-8"));
}
