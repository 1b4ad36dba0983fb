//! What a broadcast asks of a node, and Bitcoin Core's answers read into it.
//!
//! Bitcoin Core's words, as its RPC gives them: `getmempoolentry` fails with -5 ("Transaction
//! not in mempool") for a transaction it does not hold; `gettxout TXID N true` is `null`
//! unless that output is unspent; `getrawtransaction` finds confirmed transactions only with
//! `-txindex` (else -5). `testmempoolaccept` answers per transaction `allowed`, or a
//! `reject-reason` (`missing-inputs`, `txn-already-in-mempool`, `txn-already-known` when its
//! outputs are in the UTXO set…), and leaves `allowed` out when an earlier one of a package
//! failed; before 22.0 it took one transaction only (-8). `sendrawtransaction` returns the
//! txid, also for a transaction already in the mempool; it fails with -25 (inputs missing or
//! spent: "bad-txns-inputs-missingorspent"), -26 (rejected: "txn-mempool-conflict",
//! "min relay fee not met"…) or -27 (outputs already in the UTXO set: confirmed).

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::Transaction;
use serde_json::json;

use crate::wallet::rpc::Rpc;
use crate::wallet::RpcError;

/// Bitcoin Core's RPC_INVALID_ADDRESS_OR_KEY: "not found" for the lookups used here.
const NOT_FOUND: i64 = -5;
/// RPC_INVALID_PARAMETER: an old node's answer to a package.
const INVALID_PARAMETER: i64 = -8;
/// RPC_TRANSACTION_ERROR: inputs missing or spent.
const TRANSACTION_ERROR: i64 = -25;
/// RPC_TRANSACTION_REJECTED.
const TRANSACTION_REJECTED: i64 = -26;
/// RPC_VERIFY_ALREADY_IN_UTXO_SET (formerly RPC_TRANSACTION_ALREADY_IN_CHAIN).
const ALREADY_IN_CHAIN: i64 = -27;

/// Whether a node holds a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Has {
    /// Not as far as it can tell.
    No,
    /// In its mempool.
    Mempool,
    /// In its chain.
    Chain,
}

/// A node's verdict on one transaction of a `testmempoolaccept`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It would be accepted.
    Allowed,
    /// The node has it already.
    Known(Has),
    /// It would be refused, for this reason.
    Refused(String),
    /// Not checked, because an earlier transaction of the package failed.
    Unchecked,
}

/// How a `sendrawtransaction` went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// In the node's mempool now (or already).
    Accepted,
    /// Already confirmed.
    InChain,
    /// Refused (-25 or -26), with the node's message.
    Refused(String),
}

/// The calls a broadcast makes. [`Rpc`] is the real one; tests may stand in.
pub trait Node {
    /// Whether the node holds `tx`.
    fn has(&mut self, tx: &Transaction) -> Result<Has, RpcError>;
    /// `testmempoolaccept` of `txs` (parents first); `None` if the node takes no packages.
    fn test_accept(&mut self, txs: &[&Transaction]) -> Result<Option<Vec<Verdict>>, RpcError>;
    /// `sendrawtransaction`.
    fn send(&mut self, tx: &Transaction) -> Result<Sent, RpcError>;
}

fn code(e: &RpcError) -> Option<i64> {
    match e {
        RpcError::Rpc { code, .. } => Some(*code),
        _ => None,
    }
}

#[derive(serde::Deserialize)]
struct Accept {
    allowed: Option<bool>,
    #[serde(rename = "reject-reason")]
    reject_reason: Option<String>,
    #[serde(rename = "reject-details")]
    reject_details: Option<String>,
    #[serde(rename = "package-error")]
    package_error: Option<String>,
}

impl Node for Rpc {
    fn has(&mut self, tx: &Transaction) -> Result<Has, RpcError> {
        let txid = tx.compute_txid().to_string();
        match self.call("getmempoolentry", json!([txid])) {
            Ok(_) => return Ok(Has::Mempool),
            Err(e) if code(&e) == Some(NOT_FOUND) => {}
            Err(e) => return Err(e),
        }
        for vout in 0..tx.output.len() {
            let out = self.call("gettxout", json!([txid, vout, true]))?;
            if out.get() != "null" {
                return Ok(Has::Chain);
            }
        }
        // Every output spent: only a node with -txindex can still say it was confirmed.
        match self.call("getrawtransaction", json!([txid])) {
            Ok(_) => Ok(Has::Chain),
            Err(e) if code(&e) == Some(NOT_FOUND) => Ok(Has::No),
            Err(e) => Err(e),
        }
    }

    fn test_accept(&mut self, txs: &[&Transaction]) -> Result<Option<Vec<Verdict>>, RpcError> {
        let hex: Vec<String> = txs.iter().map(|tx| serialize_hex(*tx)).collect();
        let results: Vec<Accept> = match self.call_as("testmempoolaccept", json!([hex])) {
            Ok(results) => results,
            Err(e) if txs.len() > 1 && code(&e) == Some(INVALID_PARAMETER) => return Ok(None),
            Err(e) => return Err(e),
        };
        if results.len() != txs.len() {
            return Err(RpcError::Http {
                url: self.url().to_owned(),
                reason: format!(
                    "testmempoolaccept: {} results for {} transactions",
                    results.len(),
                    txs.len()
                ),
            });
        }
        let verdicts = results
            .into_iter()
            .map(|r| match (r.allowed, r.reject_reason.as_deref()) {
                (Some(true), _) => Verdict::Allowed,
                (Some(false), Some("txn-already-in-mempool")) => Verdict::Known(Has::Mempool),
                (Some(false), Some("txn-already-known")) => Verdict::Known(Has::Chain),
                (Some(false), reason) => {
                    let mut why = r
                        .reject_details
                        .or(reason.map(str::to_owned))
                        .unwrap_or_else(|| "no reason given".into());
                    if let Some(p) = r.package_error {
                        why = format!("{why} (package: {p})");
                    }
                    Verdict::Refused(why)
                }
                (None, _) => Verdict::Unchecked,
            })
            .collect();
        Ok(Some(verdicts))
    }

    fn send(&mut self, tx: &Transaction) -> Result<Sent, RpcError> {
        match self.call("sendrawtransaction", json!([serialize_hex(tx)])) {
            Ok(_) => Ok(Sent::Accepted),
            Err(e) => match (&e, code(&e)) {
                (_, Some(ALREADY_IN_CHAIN)) => Ok(Sent::InChain),
                (RpcError::Rpc { code, message, .. }, Some(TRANSACTION_ERROR))
                | (RpcError::Rpc { code, message, .. }, Some(TRANSACTION_REJECTED)) => {
                    Ok(Sent::Refused(format!("error {code}: {message}")))
                }
                _ => Err(e),
            },
        }
    }
}
