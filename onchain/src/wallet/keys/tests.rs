//! BIP-86 vectors, key-path signatures checked by libbitcoinconsensus, and what the wallet refuses.

use std::str::FromStr;

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::transaction::Version;
use bitcoin::{Amount, Network, OutPoint, Sequence, Transaction, TxIn, TxOut, Txid};

use super::{Chain, KeyError, SignError, Wallet, DEFAULT_GAP};

fn abandon() -> bip39::Mnemonic {
    let words = format!("{}about", "abandon ".repeat(11));
    bip39::Mnemonic::from_str(&words).unwrap()
}

fn wallet(network: Network) -> Wallet {
    Wallet::from_mnemonic(&abandon(), "", network).unwrap()
}

/// The test vectors of BIP-86 ("abandon … about", no passphrase).
#[test]
fn bip86_test_vectors() {
    let w = wallet(Network::Bitcoin);
    assert_eq!(w.fingerprint().to_string(), "73c5da0a");
    assert_eq!(
        w.account_xpub().to_string(),
        "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ"
    );
    assert_eq!(
        w.internal_key(Chain::Receive, 0).unwrap().to_string(),
        "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115"
    );
    assert_eq!(
        w.script_pubkey(Chain::Receive, 0).unwrap().to_hex_string(),
        "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"
    );
    assert_eq!(
        w.receive_address(0).unwrap().to_string(),
        "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"
    );
    assert_eq!(
        w.receive_address(1).unwrap().to_string(),
        "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh"
    );
    assert_eq!(
        w.change_address(0).unwrap().to_string(),
        "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7"
    );
    assert_eq!(
        w.path(Chain::Change, 7).unwrap().to_string(),
        "86'/0'/0'/1/7"
    );
}

#[test]
fn test_networks_use_coin_type_1() {
    let w = wallet(Network::Regtest);
    assert_eq!(
        w.path(Chain::Receive, 0).unwrap().to_string(),
        "86'/1'/0'/0/0"
    );
    assert!(w
        .receive_address(0)
        .unwrap()
        .to_string()
        .starts_with("bcrt1p"));
    assert!(w.account_xpub().to_string().starts_with("tpub"));
    // Same keys on every test network; only the address form differs.
    let t = wallet(Network::Testnet4);
    assert_eq!(
        t.script_pubkey(Chain::Receive, 3).unwrap(),
        w.script_pubkey(Chain::Receive, 3).unwrap()
    );
    assert!(t
        .receive_address(0)
        .unwrap()
        .to_string()
        .starts_with("tb1p"));
    assert_ne!(
        wallet(Network::Bitcoin)
            .script_pubkey(Chain::Receive, 0)
            .unwrap(),
        w.script_pubkey(Chain::Receive, 0).unwrap()
    );
}

#[test]
fn passphrase_changes_the_wallet() {
    let w = Wallet::from_mnemonic(&abandon(), "TREZOR", Network::Bitcoin).unwrap();
    assert_ne!(
        w.receive_address(0).unwrap(),
        wallet(Network::Bitcoin).receive_address(0).unwrap()
    );
}

#[test]
fn indices_are_unhardened() {
    let w = wallet(Network::Regtest);
    assert!(w.receive_address((1 << 31) - 1).is_ok());
    let err = w.receive_address(1 << 31).unwrap_err();
    assert!(matches!(err, KeyError::Index(2147483648)), "{err}");
}

#[test]
fn find_scans_both_chains_within_the_gap() {
    let w = wallet(Network::Regtest).with_gap(50);
    for (chain, index) in [
        (Chain::Receive, 0),
        (Chain::Change, 49),
        (Chain::Receive, 17),
    ] {
        let spk = w.script_pubkey(chain, index).unwrap();
        assert_eq!(w.find(&spk), Some((chain, index)));
    }
    assert_eq!(w.find(&w.script_pubkey(Chain::Receive, 50).unwrap()), None);
    let other = wallet(Network::Bitcoin);
    assert_eq!(
        w.find(&other.script_pubkey(Chain::Receive, 0).unwrap()),
        None
    );
    assert_eq!(wallet(Network::Regtest).gap(), DEFAULT_GAP);
}

#[test]
fn descriptors_for_bitcoin_core() {
    // Checksums computed independently with the Python in descriptor.rs's tests.
    let xpub = "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ";
    assert_eq!(
        wallet(Network::Bitcoin).descriptors(),
        [
            format!("tr([73c5da0a/86'/0'/0']{xpub}/0/*)#rg247h69"),
            format!("tr([73c5da0a/86'/0'/0']{xpub}/1/*)#ju05rz2a"),
        ]
    );
    let regtest = wallet(Network::Regtest).descriptor(Chain::Receive);
    assert!(
        regtest.starts_with("tr([73c5da0a/86'/1'/0']tpub"),
        "{regtest}"
    );
    assert!(regtest.contains("/0/*)#"), "{regtest}");
    assert!(crate::wallet::descriptor::verify_checksum(&regtest).is_ok());
}

#[test]
fn bip32_origin_for_psbts() {
    let w = wallet(Network::Regtest);
    let (key, (fingerprint, path)) = w.bip32_origin(Chain::Change, 4).unwrap();
    assert_eq!(key, w.internal_key(Chain::Change, 4).unwrap());
    assert_eq!(fingerprint, w.fingerprint());
    assert_eq!(path.to_string(), "86'/1'/0'/1/4");
}

fn spend(prevouts: &[TxOut], outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: (0..prevouts.len())
            .map(|i| TxIn {
                previous_output: OutPoint::new(Txid::from_byte_array([7; 32]), i as u32),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                ..TxIn::default()
            })
            .collect(),
        output: outputs,
    }
}

/// libbitcoinconsensus on every input (taproot on) and standardness: the same check
/// every transaction `lumamesh` builds must pass.
fn consensus_verify(tx: &Transaction, prevouts: &[TxOut]) -> Result<(), String> {
    crate::reveal::verify_transaction(tx, prevouts).map_err(|e| e.to_string())
}

#[test]
fn key_path_signatures_pass_consensus_and_tampering_fails() {
    let w = wallet(Network::Regtest);
    let prevouts = vec![
        TxOut {
            value: Amount::from_sat(50_000),
            script_pubkey: w.script_pubkey(Chain::Receive, 3).unwrap(),
        },
        TxOut {
            value: Amount::from_sat(20_000),
            script_pubkey: w.script_pubkey(Chain::Change, 0).unwrap(),
        },
    ];
    let outputs = vec![TxOut {
        value: Amount::from_sat(69_000),
        script_pubkey: w.script_pubkey(Chain::Receive, 4).unwrap(),
    }];
    let mut tx = spend(&prevouts, outputs);
    assert!(
        consensus_verify(&tx, &prevouts).is_err(),
        "unsigned must fail"
    );
    w.sign_key_path(&mut tx, 0, &prevouts).unwrap();
    w.sign_key_path(&mut tx, 1, &prevouts).unwrap();
    for input in &tx.input {
        assert_eq!(input.witness.len(), 1);
        assert_eq!(
            input.witness.nth(0).unwrap().len(),
            64,
            "SIGHASH_DEFAULT: 64 bytes"
        );
    }
    consensus_verify(&tx, &prevouts).unwrap();

    // Any change to what was signed invalidates it.
    let mut tampered = tx.clone();
    tampered.output[0].value = Amount::from_sat(68_000);
    assert!(consensus_verify(&tampered, &prevouts).is_err());
    // So does claiming a different spent amount.
    let mut other = prevouts.clone();
    other[1].value = Amount::from_sat(20_001);
    assert!(consensus_verify(&tx, &other).is_err());
}

#[test]
fn signing_refuses_what_it_cannot_sign() {
    let w = wallet(Network::Regtest).with_gap(5);
    let ours = TxOut {
        value: Amount::from_sat(1_000),
        script_pubkey: w.script_pubkey(Chain::Receive, 0).unwrap(),
    };
    let foreign = TxOut {
        value: Amount::from_sat(1_000),
        script_pubkey: wallet(Network::Bitcoin)
            .script_pubkey(Chain::Receive, 0)
            .unwrap(),
    };
    let mut tx = spend(&[ours.clone(), foreign.clone()], vec![ours.clone()]);
    let prevouts = [ours.clone(), foreign];
    let err = w.sign_key_path(&mut tx, 1, &prevouts).unwrap_err();
    assert!(
        matches!(
            err,
            SignError::NotOurs {
                input_index: 1,
                gap: 5,
                ..
            }
        ),
        "{err}"
    );
    let err = w.sign_key_path(&mut tx, 2, &prevouts).unwrap_err();
    assert!(
        matches!(err, SignError::NoSuchInput { inputs: 2, .. }),
        "{err}"
    );
    let err = w.sign_key_path(&mut tx, 0, &prevouts[..1]).unwrap_err();
    assert!(
        matches!(
            err,
            SignError::Prevouts {
                prevouts: 1,
                inputs: 2
            }
        ),
        "{err}"
    );

    // Beyond the gap, the caller names the key.
    let far = TxOut {
        value: Amount::from_sat(5_000),
        script_pubkey: w.script_pubkey(Chain::Change, 999).unwrap(),
    };
    let mut tx = spend(std::slice::from_ref(&far), vec![ours]);
    assert!(w
        .sign_key_path(&mut tx, 0, std::slice::from_ref(&far))
        .is_err());
    w.sign_key_path_at(&mut tx, 0, std::slice::from_ref(&far), Chain::Change, 999)
        .unwrap();
    consensus_verify(&tx, std::slice::from_ref(&far)).unwrap();
}
