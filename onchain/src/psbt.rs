//! The unsigned commit as a PSBT, for a wallet that signs elsewhere.

use bitcoin::bip32::KeySource;
use bitcoin::psbt::Psbt;
use bitcoin::{Transaction, Witness};

use crate::error::Error;
use crate::reveal::Prepared;
use crate::wallet::Wallet;

/// The unsigned commit of `prepared` as a PSBT an external wallet can sign: each input with
/// the output it spends (`witness_utxo`) and, for `wallet`'s own coins, the taproot internal
/// key and its BIP32 origin (master fingerprint and full path, no leaf hashes).
pub fn commit_psbt(wallet: &Wallet, prepared: &Prepared) -> Result<Psbt, Error> {
    let mut tx: Transaction = prepared.commit.tx.clone();
    for input in &mut tx.input {
        input.witness = Witness::new();
    }
    let mut psbt = Psbt::from_unsigned_tx(tx)?;
    for (input, prevout) in psbt.inputs.iter_mut().zip(&prepared.commit.prevouts) {
        input.witness_utxo = Some(prevout.clone());
        if let Some((chain, index)) = wallet.find(&prevout.script_pubkey) {
            let (key, source): (_, KeySource) = wallet.bip32_origin(chain, index)?;
            input.tap_internal_key = Some(key);
            input.tap_key_origins.insert(key, (vec![], source));
        }
    }
    Ok(psbt)
}
