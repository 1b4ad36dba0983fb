//! `broadcast.json`: what a broadcast has done so far, rewritten atomically after each step.

use std::path::{Path, PathBuf};

use bitcoin::Txid;
use keystore::write_atomic;

use super::signed::SignedRun;
use super::BroadcastError;
use crate::wallet::network_name;

/// The state file's name in the run's directory.
pub const STATE_FILE: &str = "broadcast.json";

/// Where one transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not sent yet (or not known to have reached the node).
    Pending,
    /// `sendrawtransaction` accepted it.
    Sent,
    /// The node had it in its mempool already.
    InMempool,
    /// The node had it in its chain already.
    InChain,
}

impl Status {
    /// Whether the node has the transaction.
    pub fn done(self) -> bool {
        self != Status::Pending
    }
}

/// One transaction's line in the state file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TxState {
    /// Its name in the run (`commit`, `page-reveal`…).
    pub name: String,
    /// Its txid.
    #[serde(with = "txid_text")]
    pub txid: Txid,
    /// Where it stands.
    pub status: Status,
}

/// Where a broadcast stopped, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stop {
    /// The transaction refused.
    pub name: String,
    /// The node's words.
    pub reason: String,
}

/// The whole state file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// The run's network.
    pub network: String,
    /// In broadcast order.
    pub transactions: Vec<TxState>,
    /// Set when the node refused a transaction; cleared when a later attempt gets past it.
    pub stopped: Option<Stop>,
    #[serde(skip)]
    file: PathBuf,
}

impl State {
    /// The state of `run` from its directory's state file, or all pending if there is none.
    /// A state file that is not this run's is refused (it names other transactions).
    pub fn load(run: &SignedRun) -> Result<State, BroadcastError> {
        let file = run.dir.join(STATE_FILE);
        let fresh = State {
            network: network_name(run.network).to_owned(),
            transactions: run
                .transactions
                .iter()
                .map(|t| TxState {
                    name: t.name.clone(),
                    txid: t.txid,
                    status: Status::Pending,
                })
                .collect(),
            stopped: None,
            file: file.clone(),
        };
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(fresh),
            Err(e) => return Err(state_error(&file, e.to_string())),
        };
        let mut state: State = serde_json::from_str(&text)
            .map_err(|e| state_error(&file, format!("not a broadcast state: {e}")))?;
        let same = state.transactions.len() == fresh.transactions.len()
            && state
                .transactions
                .iter()
                .zip(&fresh.transactions)
                .all(|(a, b)| a.txid == b.txid && a.name == b.name);
        if !same || state.network != fresh.network {
            let reason = "lists other transactions than this run's summary (move it away to \
                          start over: the node is asked what it has either way)";
            return Err(state_error(&file, reason.into()));
        }
        state.file = file;
        Ok(state)
    }

    /// The file it is kept in.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Writes the state file atomically.
    pub fn save(&self) -> Result<(), BroadcastError> {
        // Plain data with string keys: serializing it cannot fail.
        let mut json = serde_json::to_vec_pretty(self).expect("state serializes");
        json.push(b'\n');
        write_atomic(&self.file, &json).map_err(|error| BroadcastError::Write {
            file: self.file.clone(),
            error,
        })
    }
}

fn state_error(file: &Path, reason: String) -> BroadcastError {
    BroadcastError::State {
        file: file.to_owned(),
        reason,
    }
}

/// A txid as its usual hex text (the `bitcoin` crate's serde feature is off).
pub(super) mod txid_text {
    use std::str::FromStr;

    use bitcoin::Txid;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(txid: &Txid, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(txid)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Txid, D::Error> {
        let text = String::deserialize(d)?;
        Txid::from_str(&text).map_err(serde::de::Error::custom)
    }
}
