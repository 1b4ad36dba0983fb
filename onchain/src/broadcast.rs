//! Sending a written run to a node, in order, resumably.
//!
//! [`SignedRun::read`] loads the signed transactions a run left in its directory (nothing is
//! signed again); [`broadcast`] sends them in the summary's order through a [`Node`]
//! ([`crate::wallet::rpc::Rpc`] for Bitcoin Core). For each transaction it first asks the
//! node whether it has it already (in its mempool or chain: then it is done), then runs
//! `testmempoolaccept` — with the next transaction too when that one spends it, so a reveal
//! the node would refuse stops the run before its commit is sent — and only then
//! `sendrawtransaction`. After every step [`State`] is rewritten atomically to
//! `broadcast.json` in the directory. A refusal stops the run there ([`BroadcastError::Refused`],
//! recorded in the state file); running [`broadcast`] again on the same directory finishes an
//! interrupted run: what the node already holds is never sent twice, and since the
//! transactions are the same bytes, nothing can be double-spent.
//!
//! The node's chain is the caller's to check first ([`crate::wallet::rpc::Rpc::check_chain`]).

mod node;
mod signed;
mod state;

use std::path::PathBuf;

use bitcoin::Txid;

pub use node::{Has, Node, Sent, Verdict};
pub use signed::{SignedRun, SignedTx};
pub use state::{State, Status, Stop, TxState, STATE_FILE};

use crate::wallet::RpcError;

/// Why a broadcast stopped.
#[derive(Debug, thiserror::Error)]
pub enum BroadcastError {
    /// The run's files are missing or do not agree with each other.
    #[error("{}: {reason}", file.display())]
    Run {
        /// The file at fault.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The state file is unreadable or another run's.
    #[error("{}: {reason}", file.display())]
    State {
        /// The state file.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The node refused a transaction: nothing after it was sent.
    #[error(
        "the node refused {name} ({txid}) at {method}: {reason}; nothing after it was sent, \
         and {} records where the broadcast stopped",
        state.display()
    )]
    Refused {
        /// The transaction's name in the run.
        name: String,
        /// Its txid.
        txid: Txid,
        /// `testmempoolaccept` or `sendrawtransaction`.
        method: &'static str,
        /// The node's words.
        reason: String,
        /// The state file.
        state: PathBuf,
    },
    /// The node could not be asked.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The state file could not be written.
    #[error("writing {}", file.display())]
    Write {
        /// The state file.
        file: PathBuf,
        /// Why.
        #[source]
        error: std::io::Error,
    },
}

impl BroadcastError {
    /// Whether the node said an input is missing or spent (an earlier transaction not in
    /// its mempool yet, or funding spent elsewhere).
    pub fn missing_inputs(&self) -> bool {
        matches!(self, BroadcastError::Refused { reason, .. }
            if reason.contains("missing-inputs") || reason.contains("missingorspent"))
    }
}

/// What a broadcast is doing, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Asking the node whether it has transaction `index`.
    Asking {
        /// Position in the run.
        index: usize,
        /// Its name.
        name: &'a str,
    },
    /// `testmempoolaccept`.
    Testing {
        /// Position in the run.
        index: usize,
        /// Its name.
        name: &'a str,
    },
    /// `sendrawtransaction`.
    Sending {
        /// Position in the run.
        index: usize,
        /// Its name.
        name: &'a str,
    },
    /// Transaction `index` is done and the state file says so.
    Done {
        /// Position in the run.
        index: usize,
        /// Its name.
        name: &'a str,
        /// How it got there.
        status: Status,
    },
}

/// Sends `run`'s transactions that `node` lacks, in order, recording each step in `state`
/// (saved after every one). Stops at the first refusal, which the state file then records.
pub fn broadcast(
    run: &SignedRun,
    node: &mut dyn Node,
    state: &mut State,
    progress: &mut dyn FnMut(Event<'_>),
) -> Result<(), BroadcastError> {
    // On disk before anything is sent: whoever looks finds what this run is doing.
    state.save()?;
    let txs = &run.transactions;
    for (index, t) in txs.iter().enumerate() {
        let name = t.name.as_str();
        progress(Event::Asking { index, name });
        let status = match node.has(&t.tx)? {
            Has::Mempool => Status::InMempool,
            Has::Chain => Status::InChain,
            // A confirmed transaction whose outputs are all spent is invisible to a node
            // without -txindex, but a descendant the node holds proves it confirmed.
            Has::No if held_descendant(run, index, node)? => Status::InChain,
            Has::No => {
                progress(Event::Testing { index, name });
                test_then_send(run, index, node, state, &mut *progress)?
            }
        };
        let line = &mut state.transactions[index];
        // Our own earlier send stays on record as such.
        if !(line.status == Status::Sent && status != Status::InChain) {
            line.status = status;
        }
        let status = line.status;
        state.save()?;
        progress(Event::Done {
            index,
            name,
            status,
        });
    }
    if state.stopped.take().is_some() {
        state.save()?;
    }
    Ok(())
}

/// Whether the node holds a later transaction of `run` that spends transaction `index`,
/// directly or through others.
fn held_descendant(
    run: &SignedRun,
    index: usize,
    node: &mut dyn Node,
) -> Result<bool, BroadcastError> {
    let txs = &run.transactions;
    let mut line = vec![txs[index].txid];
    for later in &txs[index + 1..] {
        let spends = |t: &Txid| later.tx.input.iter().any(|i| i.previous_output.txid == *t);
        if line.iter().any(spends) {
            if node.has(&later.tx)? != Has::No {
                return Ok(true);
            }
            line.push(later.txid);
        }
    }
    Ok(false)
}

/// `testmempoolaccept` (with the next transaction if it spends this one), then
/// `sendrawtransaction`. Returns the new status, or the refusal (saved in the state file).
fn test_then_send(
    run: &SignedRun,
    index: usize,
    node: &mut dyn Node,
    state: &mut State,
    progress: &mut dyn FnMut(Event<'_>),
) -> Result<Status, BroadcastError> {
    let t = &run.transactions[index];
    let child = run
        .transactions
        .get(index + 1)
        .filter(|c| c.tx.input.iter().any(|i| i.previous_output.txid == t.txid));
    let package = match child {
        Some(c) => node.test_accept(&[&t.tx, &c.tx])?,
        None => None,
    };
    let verdict = match package {
        Some(verdicts) => {
            if let (Some(c), Some(Verdict::Refused(reason))) = (child, verdicts.get(1)) {
                return Err(stop(state, c, "testmempoolaccept", reason.clone()));
            }
            verdicts.into_iter().next()
        }
        None => node
            .test_accept(&[&t.tx])?
            .and_then(|v| v.into_iter().next()),
    };
    match verdict {
        Some(Verdict::Allowed) => {}
        Some(Verdict::Known(Has::Chain)) => return Ok(Status::InChain),
        Some(Verdict::Known(_)) => return Ok(Status::InMempool),
        Some(Verdict::Refused(reason)) => {
            return Err(stop(state, t, "testmempoolaccept", reason));
        }
        Some(Verdict::Unchecked) | None => {
            let reason = "no verdict on it".to_owned();
            return Err(stop(state, t, "testmempoolaccept", reason));
        }
    }
    progress(Event::Sending {
        index,
        name: &t.name,
    });
    match node.send(&t.tx)? {
        Sent::Accepted => Ok(Status::Sent),
        Sent::InChain => Ok(Status::InChain),
        Sent::Refused(reason) => Err(stop(state, t, "sendrawtransaction", reason)),
    }
}

/// Records the refusal of `t` in the state file and returns the error to report.
fn stop(state: &mut State, t: &SignedTx, method: &'static str, reason: String) -> BroadcastError {
    state.stopped = Some(Stop {
        name: t.name.clone(),
        reason: format!("{method}: {reason}"),
    });
    if let Err(e) = state.save() {
        return e;
    }
    BroadcastError::Refused {
        name: t.name.clone(),
        txid: t.txid,
        method,
        reason,
        state: state.file().to_owned(),
    }
}

#[cfg(test)]
mod tests;
