//! What the unit tests share: the BIP-39 test wallet on regtest, its coins, and sessions.

use bitcoin::hashes::Hash;
use bitcoin::key::{Keypair, Secp256k1};
use bitcoin::secp256k1::SecretKey;
use bitcoin::{Amount, Network, OutPoint, ScriptBuf, Txid, XOnlyPublicKey};

use crate::reveal::FeeRate;
use crate::session::{Session, Spending};
use crate::wallet::{Chain, Checked, Utxo, Wallet};

/// The BIP-39 test mnemonic ("abandon … about").
pub(crate) fn wallet() -> Wallet {
    let mnemonic = format!("{}about", "abandon ".repeat(11)).parse().unwrap();
    Wallet::from_mnemonic(&mnemonic, "", Network::Regtest).unwrap()
}

/// A rate in sat/vB.
pub(crate) fn rate(sat_per_vb: f64) -> FeeRate {
    FeeRate::from_sat_per_vb(sat_per_vb).unwrap()
}

/// Output `vout` of a made-up transaction `n`, holding `sats` at `script`, listed as a UTXO
/// file lists a coin the user vouches holds no inscription (`"inscriptions": []`).
pub(crate) fn utxo_at(n: u8, vout: u32, sats: u64, script: ScriptBuf) -> Utxo {
    Utxo {
        outpoint: OutPoint::new(Txid::from_byte_array([n; 32]), vout),
        value: Amount::from_sat(sats),
        script_pubkey: script,
        inscriptions: vec![],
        runes: vec![],
        checked: Checked::File,
    }
}

/// A coin of the test wallet's first receive address.
pub(crate) fn utxo(n: u8, sats: u64) -> Utxo {
    utxo_at(
        n,
        0,
        sats,
        wallet().script_pubkey(Chain::Receive, 0).unwrap(),
    )
}

/// A P2TR output of a key the test wallet does not hold.
pub(crate) fn foreign_script() -> ScriptBuf {
    let secp = Secp256k1::new();
    let key = Keypair::from_secret_key(&secp, &SecretKey::from_slice(&[9; 32]).unwrap());
    ScriptBuf::new_p2tr(&secp, XOnlyPublicKey::from_keypair(&key).0, None)
}

/// A session of the test wallet over `utxos` at 2 sat/vB with the default caps.
pub(crate) fn session(utxos: Vec<Utxo>) -> Session {
    Session::new(wallet(), utxos, None, Spending::at(rate(2.0))).unwrap()
}

/// A coin of the test wallet's first receive address as a node lists it: nobody has said
/// what it carries.
pub(crate) fn unchecked(n: u8, sats: u64) -> Utxo {
    Utxo {
        checked: Checked::No,
        ..utxo(n, sats)
    }
}
