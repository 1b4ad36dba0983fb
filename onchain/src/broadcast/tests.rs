use std::collections::HashSet;

use bitcoin::hashes::Hash;
use bitcoin::{absolute, transaction, Amount, OutPoint, ScriptBuf, Transaction, TxIn, TxOut, Txid};

use super::{broadcast, Has, Node, Sent, SignedRun, SignedTx, State, Status, Verdict};
use crate::wallet::RpcError;

/// A node that knows `funding`, keeps a mempool of txids and refuses what `refuse` names.
#[derive(Default)]
struct Fake {
    funding: HashSet<Txid>,
    mempool: HashSet<Txid>,
    /// Confirmed, and found (an output unspent).
    chain: HashSet<Txid>,
    refuse: HashSet<Txid>,
    packages: bool,
    calls: Vec<String>,
}

impl Fake {
    fn verdict(&self, tx: &Transaction, also: &HashSet<Txid>) -> Verdict {
        let txid = tx.compute_txid();
        if self.mempool.contains(&txid) {
            return Verdict::Known(Has::Mempool);
        }
        if self.refuse.contains(&txid) {
            return Verdict::Refused("min relay fee not met".into());
        }
        let spent = tx.input[0].previous_output.txid;
        if self.funding.contains(&spent) || self.mempool.contains(&spent) || also.contains(&spent) {
            Verdict::Allowed
        } else {
            Verdict::Refused("missing-inputs".into())
        }
    }
}

impl Node for Fake {
    fn has(&mut self, tx: &Transaction) -> Result<Has, RpcError> {
        self.calls.push(format!("has {}", short(tx)));
        let txid = tx.compute_txid();
        Ok(
            match (self.mempool.contains(&txid), self.chain.contains(&txid)) {
                (true, _) => Has::Mempool,
                (_, true) => Has::Chain,
                _ => Has::No,
            },
        )
    }
    fn test_accept(&mut self, txs: &[&Transaction]) -> Result<Option<Vec<Verdict>>, RpcError> {
        let names: Vec<String> = txs.iter().map(|t| short(t)).collect();
        self.calls.push(format!("test {}", names.join("+")));
        if txs.len() > 1 && !self.packages {
            return Ok(None);
        }
        let mut earlier = HashSet::new();
        let mut verdicts = Vec::new();
        for tx in txs {
            verdicts.push(self.verdict(tx, &earlier));
            earlier.insert(tx.compute_txid());
        }
        Ok(Some(verdicts))
    }
    fn send(&mut self, tx: &Transaction) -> Result<Sent, RpcError> {
        self.calls.push(format!("send {}", short(tx)));
        match self.verdict(tx, &HashSet::new()) {
            Verdict::Allowed | Verdict::Known(_) => {
                self.mempool.insert(tx.compute_txid());
                Ok(Sent::Accepted)
            }
            Verdict::Refused(r) => Ok(Sent::Refused(r)),
            Verdict::Unchecked => unreachable!(),
        }
    }
}

fn short(tx: &Transaction) -> String {
    tx.compute_txid().to_string()[..4].to_owned()
}

fn spend(from: OutPoint, value: u64) -> Transaction {
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: from,
            ..TxIn::default()
        }],
        output: vec![TxOut {
            value: Amount::from_sat(value),
            script_pubkey: ScriptBuf::new(),
        }],
    }
}

/// Two pairs, the second commit spending the first commit's output, as a publish's.
fn run(dir: &std::path::Path) -> (SignedRun, Txid) {
    let funding = Txid::from_byte_array([7; 32]);
    let c1 = spend(OutPoint::new(funding, 0), 90_000);
    let r1 = spend(OutPoint::new(c1.compute_txid(), 0), 80_000);
    let c2 = spend(OutPoint::new(c1.compute_txid(), 0), 70_000);
    let r2 = spend(OutPoint::new(c2.compute_txid(), 0), 60_000);
    let transactions = [
        ("a-commit", c1),
        ("a-reveal", r1),
        ("b-commit", c2),
        ("b-reveal", r2),
    ]
    .into_iter()
    .map(|(name, tx)| SignedTx {
        name: name.into(),
        txid: tx.compute_txid(),
        tx,
    })
    .collect();
    let run = SignedRun {
        dir: dir.to_owned(),
        network: bitcoin::Network::Regtest,
        transactions,
    };
    (run, funding)
}

#[test]
fn in_order_each_checked_before_it_is_sent_and_resumed_without_resending() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, funding) = run(tmp.path());
    let mut node = Fake {
        funding: [funding].into(),
        packages: true,
        ..Fake::default()
    };
    // The second reveal would be refused: the first pair goes out, the second commit not.
    node.refuse.insert(run.transactions[3].txid);
    let mut state = State::load(&run).unwrap();
    let err = broadcast(&run, &mut node, &mut state, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("refused b-reveal"), "{err}");
    assert_eq!(node.mempool.len(), 2);
    let saved = State::load(&run).unwrap();
    let statuses: Vec<Status> = saved.transactions.iter().map(|t| t.status).collect();
    use Status::{Pending, Sent};
    assert_eq!(statuses, [Sent, Sent, Pending, Pending]);
    assert_eq!(saved.stopped.as_ref().unwrap().name, "b-reveal");

    node.refuse.clear();
    node.calls.clear();
    let mut state = State::load(&run).unwrap();
    broadcast(&run, &mut node, &mut state, &mut |_| {}).unwrap();
    let sends: Vec<&String> = node
        .calls
        .iter()
        .filter(|c| c.starts_with("send"))
        .collect();
    assert_eq!(sends.len(), 2, "{:?}", node.calls);
    let saved = State::load(&run).unwrap();
    assert!(saved.transactions.iter().all(|t| t.status == Sent));
    assert_eq!(saved.stopped, None);
}

#[test]
fn without_packages_the_reveal_is_tested_after_its_commit_is_in() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, funding) = run(tmp.path());
    let mut node = Fake {
        funding: [funding].into(),
        ..Fake::default()
    };
    let mut state = State::load(&run).unwrap();
    broadcast(&run, &mut node, &mut state, &mut |_| {}).unwrap();
    let c1 = short(&run.transactions[0].tx);
    let r1 = short(&run.transactions[1].tx);
    let at = |call: String| node.calls.iter().position(|c| *c == call).unwrap();
    assert!(at(format!("send {c1}")) < at(format!("test {r1}")));
    assert_eq!(node.mempool.len(), 4);
}

#[test]
fn a_state_file_of_another_run_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, _) = run(tmp.path());
    let mut state = State::load(&run).unwrap();
    state.transactions.pop();
    state.save().unwrap();
    let err = State::load(&run).unwrap_err();
    assert!(err.to_string().contains("other transactions"), "{err}");
    std::fs::write(tmp.path().join(super::STATE_FILE), "{\"network\":").unwrap();
    let err = State::load(&run).unwrap_err();
    assert!(err.to_string().contains("not a broadcast state"), "{err}");
}

#[test]
fn a_confirmed_transaction_with_every_output_spent_is_known_by_its_descendants() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, _) = run(tmp.path());
    // All four confirmed; the commits' outputs are all spent, so only the reveals show.
    let mut node = Fake {
        chain: [run.transactions[1].txid, run.transactions[3].txid].into(),
        ..Fake::default()
    };
    let mut state = State::load(&run).unwrap();
    broadcast(&run, &mut node, &mut state, &mut |_| {}).unwrap();
    assert!(
        node.calls.iter().all(|c| c.starts_with("has")),
        "{:?}",
        node.calls
    );
    assert!(state
        .transactions
        .iter()
        .all(|t| t.status == Status::InChain));
}
