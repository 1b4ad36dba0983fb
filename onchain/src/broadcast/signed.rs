//! The signed transactions of a run, read back from its output directory in broadcast order.

use std::path::{Path, PathBuf};

use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::{Network, Transaction, Txid};

use super::BroadcastError;
use crate::files::SUMMARY_FILE;
use crate::wallet::parse_network;

/// One transaction of a run, as signed and written.
#[derive(Debug, Clone)]
pub struct SignedTx {
    /// `commit`, `reveal`, `library-commit`…
    pub name: String,
    /// Its txid, as the summary lists it and the file's bytes hash to.
    pub txid: Txid,
    /// The transaction.
    pub tx: Transaction,
}

/// A written run: its network and its transactions in the order they must be sent.
#[derive(Debug, Clone)]
pub struct SignedRun {
    /// The directory it was read from.
    pub dir: PathBuf,
    /// The network it was signed for.
    pub network: Network,
    /// In broadcast order: every transaction spends only outputs of earlier ones (or of
    /// the chain).
    pub transactions: Vec<SignedTx>,
}

#[derive(serde::Deserialize)]
struct Summary {
    network: String,
    dry_run: bool,
    transactions: Vec<Listed>,
}

#[derive(serde::Deserialize)]
struct Listed {
    name: String,
    #[serde(with = "super::state::txid_text")]
    txid: Txid,
}

impl SignedRun {
    /// Reads `dir`'s summary (`inscriptions.json`) and each `NAME.hex` it lists, checking
    /// that every file hashes to its listed txid and that no transaction spends a later one.
    pub fn read(dir: &Path) -> Result<SignedRun, BroadcastError> {
        let summary_file = dir.join(SUMMARY_FILE);
        let bad = |file: &Path, reason: String| BroadcastError::Run {
            file: file.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(&summary_file).map_err(|e| {
            bad(
                &summary_file,
                format!("{e} (is this a run's --out directory?)"),
            )
        })?;
        let summary: Summary = serde_json::from_str(&text)
            .map_err(|e| bad(&summary_file, format!("not a run's summary: {e}")))?;
        if summary.dry_run {
            return Err(bad(&summary_file, "a dry run: nothing was signed".into()));
        }
        let network = parse_network(&summary.network)
            .map_err(|e| bad(&summary_file, format!("field \"network\": {e}")))?;
        if summary.transactions.is_empty() {
            return Err(bad(&summary_file, "field \"transactions\" is empty".into()));
        }
        let mut transactions: Vec<SignedTx> = Vec::new();
        for (i, listed) in summary.transactions.into_iter().enumerate() {
            let safe = !listed.name.is_empty()
                && listed
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !safe {
                let reason = format!("transactions[{i}].name {:?} is no file name", listed.name);
                return Err(bad(&summary_file, reason));
            }
            let file = dir.join(format!("{}.hex", listed.name));
            let hex = std::fs::read_to_string(&file).map_err(|e| bad(&file, e.to_string()))?;
            let tx: Transaction = deserialize_hex(hex.trim())
                .map_err(|e| bad(&file, format!("not a signed transaction: {e}")))?;
            if tx.compute_txid() != listed.txid {
                let reason = format!(
                    "holds {}, but {SUMMARY_FILE} lists {} for it",
                    tx.compute_txid(),
                    listed.txid
                );
                return Err(bad(&file, reason));
            }
            let later = transactions.iter().position(|t| t.txid == listed.txid);
            if later.is_some() {
                return Err(bad(
                    &summary_file,
                    format!("{} is listed twice", listed.txid),
                ));
            }
            transactions.push(SignedTx {
                name: listed.name,
                txid: listed.txid,
                tx,
            });
        }
        for (i, t) in transactions.iter().enumerate() {
            for input in &t.tx.input {
                let spent = input.previous_output.txid;
                if transactions[i..].iter().any(|later| later.txid == spent) {
                    let reason =
                        format!("{} spends {spent}, which is not listed before it", t.name);
                    return Err(bad(&summary_file, reason));
                }
            }
        }
        Ok(SignedRun {
            dir: dir.to_owned(),
            network,
            transactions,
        })
    }
}
