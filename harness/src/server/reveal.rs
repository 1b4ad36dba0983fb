//! Filling the store straight from reveal transactions, as ord's index would.

use std::path::{Path, PathBuf};

use bitcoin::hex::FromHex;
use bitcoin::{Transaction, Txid};
use inscription::Envelope;

use super::store::{Inscription, LoadError, Store};
use crate::InscriptionId;

/// Why a transaction gave the store nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevealError {
    /// No input's witness holds an `OP_FALSE OP_IF "ord" … OP_ENDIF` envelope.
    #[error(
        "transaction {0} holds no inscription: no input's tapscript (the witness element \
         before the control block) has an envelope `OP_FALSE OP_IF \"ord\" … OP_ENDIF`"
    )]
    NoEnvelopes(Txid),
}

impl Store {
    /// Puts every inscription of the reveal `tx` under its id `<txid>i<n>` (envelopes
    /// counted across inputs in order), as ord serves them: content type from tag 1 (none:
    /// `application/octet-stream`), body as inscribed with its content encoding, metadata,
    /// parents, delegate, and the curse ord's indexer would give it. Cursed and unbound
    /// inscriptions are stored too; ord serves them. Returns the ids in order.
    pub fn insert_reveal(&mut self, tx: &Transaction) -> Result<Vec<InscriptionId>, RevealError> {
        let txid = tx.compute_txid();
        let envelopes = Envelope::from_transaction(tx);
        if envelopes.is_empty() {
            return Err(RevealError::NoEnvelopes(txid));
        }
        Ok(envelopes
            .iter()
            .enumerate()
            .map(|(n, envelope)| {
                let id = Envelope::id(txid, n);
                self.insert(id, Inscription::from_envelope(envelope));
                id
            })
            .collect())
    }

    /// A store holding every inscription of the reveal transactions in these files (see
    /// [`read_reveal`] for the file format), inserted in order.
    pub fn load_reveals<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<Self, LoadError> {
        let mut store = Self::new();
        for path in paths {
            let path = path.as_ref();
            let tx = read_reveal(path)?;
            store.insert_reveal(&tx).map_err(|e| LoadError::Reveal {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        Ok(store)
    }
}

/// Reads a file holding one transaction: hex (surrounding whitespace ignored), or else its
/// raw consensus bytes. Errors name the file.
pub fn read_reveal(path: impl AsRef<Path>) -> Result<Transaction, LoadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_reveal(&bytes).map_err(|reason| LoadError::Reveal {
        path: PathBuf::from(path),
        reason,
    })
}

/// A transaction from hex text or from consensus bytes.
pub fn parse_reveal(bytes: &[u8]) -> Result<Transaction, String> {
    let text = bytes.trim_ascii();
    if text.is_empty() {
        return Err("empty file; expected a transaction in hex or raw bytes".into());
    }
    // Raw transactions start with a version (02 00 00 00 …), never with hex digits only.
    if text.iter().all(u8::is_ascii_hexdigit) {
        // All ASCII, so this is valid UTF-8.
        let hex = std::str::from_utf8(text).unwrap_or_default();
        let raw = Vec::<u8>::from_hex(hex)
            .map_err(|e| format!("not a transaction in hex ({} digits): {e}", hex.len()))?;
        return bitcoin::consensus::deserialize(&raw)
            .map_err(|e| format!("the hex is not a transaction: {e}"));
    }
    bitcoin::consensus::deserialize(bytes)
        .map_err(|e| format!("not a transaction (neither hex nor raw consensus bytes): {e}"))
}

#[cfg(test)]
mod tests {
    use bitcoin::consensus::encode::serialize_hex;
    use bitcoin::script::ScriptBuf;
    use bitcoin::{absolute, transaction, Amount, OutPoint, TxIn, TxOut, Witness};

    use super::*;

    fn reveal(witness: Vec<Vec<u8>>) -> Transaction {
        Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: ScriptBuf::new(),
                sequence: bitcoin::Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::from_slice(&witness),
            }],
            output: vec![TxOut {
                value: Amount::from_sat(10_000),
                script_pubkey: ScriptBuf::new(),
            }],
        }
    }

    #[test]
    fn hex_and_raw_files_parse_alike() {
        let script = inscription::Inscription::new("text/plain", b"x".to_vec()).envelope_script();
        let tx = reveal(vec![vec![0; 64], script.into_bytes(), vec![0xc0; 33]]);
        let hex = format!("\n  {}\n", serialize_hex(&tx));
        assert_eq!(parse_reveal(hex.as_bytes()), Ok(tx.clone()));
        let raw = bitcoin::consensus::serialize(&tx);
        assert_eq!(parse_reveal(&raw), Ok(tx.clone()));
        let mut store = Store::new();
        let ids = store.insert_reveal(&tx).unwrap();
        assert_eq!(ids, [InscriptionId::new(tx.compute_txid(), 0)]);
        assert_eq!(store.get(&ids[0]).unwrap().body().as_ref(), b"x");
    }

    #[test]
    fn bad_input_says_what_it_is() {
        assert!(parse_reveal(b" \n").unwrap_err().contains("empty"));
        assert!(parse_reveal(b"abc").unwrap_err().contains("hex"));
        assert!(parse_reveal(b"0200")
            .unwrap_err()
            .contains("not a transaction"));
        let plain = reveal(vec![vec![0; 64]]);
        assert_eq!(
            Store::new().insert_reveal(&plain),
            Err(RevealError::NoEnvelopes(plain.compute_txid()))
        );
    }
}
