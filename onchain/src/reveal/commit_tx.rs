//! The commit transaction: pays wallet coins into the reveal's taproot output(s), with
//! change back to the wallet.

use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};

use super::amount::{add, subtract, sum};
use super::fee::{dust_limit, FeeRate};
use super::BuildError;

/// A wallet coin that may pay fees: a BIP86 key-path P2TR output carrying no inscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coin {
    /// Where it is.
    pub outpoint: OutPoint,
    /// What it is.
    pub txout: TxOut,
}

/// A commit transaction, unsigned until its inputs are signed by the wallet.
#[derive(Debug, Clone)]
pub struct CommitTx {
    /// The transaction; input witnesses are 64-byte placeholders until signed.
    pub tx: Transaction,
    /// The coins it spends, in input order.
    pub prevouts: Vec<TxOut>,
    /// Its fee.
    pub fee: Amount,
    /// Virtual size once signed.
    pub vsize: u64,
    /// Index and value of the change output, if there is one (it comes last).
    pub change: Option<(usize, Amount)>,
}

impl CommitTx {
    /// Pays `outputs` from `coins`, largest first, at `fee_rate`; change above dust goes to
    /// `change`, less than that goes to the fee.
    pub fn build(
        outputs: Vec<TxOut>,
        coins: &[Coin],
        change: ScriptBuf,
        fee_rate: FeeRate,
    ) -> Result<Self, BuildError> {
        if let Some(coin) = coins.iter().find(|c| !c.txout.script_pubkey.is_p2tr()) {
            return Err(BuildError::NotTaproot(coin.outpoint));
        }
        let mut coins = coins.to_vec();
        coins.sort_by(|a, b| {
            b.txout
                .value
                .cmp(&a.txout.value)
                .then(a.outpoint.cmp(&b.outpoint))
        });
        let target = sum("outputs", outputs.iter().map(|o| o.value))?;
        let change_dust = dust_limit(&change);
        let mut selected: Vec<Coin> = Vec::new();
        let mut total = Amount::ZERO;
        for coin in coins {
            total = add("coins", total, coin.txout.value)?;
            selected.push(coin);
            let mut with_change = outputs.clone();
            with_change.push(TxOut {
                value: Amount::ZERO,
                script_pubkey: change.clone(),
            });
            let tx = unsigned(&selected, with_change);
            let vsize = tx.vsize() as u64;
            let fee = fee_rate.checked_fee(vsize)?;
            let spent = add("outputs and fee", target, fee)?;
            if total >= add("outputs, fee and change", spent, change_dust)? {
                let value = subtract("change", total, spent)?;
                let mut tx = tx;
                let index = tx.output.len() - 1;
                tx.output[index].value = value;
                return Ok(Self::done(tx, &selected, fee, vsize, Some((index, value))));
            }
            let tx = unsigned(&selected, outputs.clone());
            let vsize = tx.vsize() as u64;
            let fee = fee_rate.checked_fee(vsize)?;
            if total >= add("outputs and fee", target, fee)? {
                // What is left is below dust: it goes to the miner.
                let fee = subtract("fee", total, target)?;
                return Ok(Self::done(tx, &selected, fee, vsize, None));
            }
        }
        let tx = unsigned(&selected, outputs);
        let fee = fee_rate.checked_fee(tx.vsize() as u64)?;
        Err(BuildError::InsufficientFunds {
            needed: add("outputs and fee", target, fee)?.to_sat(),
            available: total.to_sat(),
        })
    }

    /// What a commit paying `outputs` from a single coin, with no change, costs: the
    /// outputs plus its fee. A coin of exactly this value funds it to the sat.
    pub fn cost_from_one_coin(outputs: &[TxOut], fee_rate: FeeRate) -> Result<Amount, BuildError> {
        let coin = Coin {
            outpoint: OutPoint::null(),
            txout: TxOut {
                value: Amount::ZERO,
                script_pubkey: ScriptBuf::new(),
            },
        };
        let vsize = unsigned(&[coin], outputs.to_vec()).vsize() as u64;
        let outputs = sum("outputs", outputs.iter().map(|o| o.value))?;
        add("outputs and fee", outputs, fee_rate.checked_fee(vsize)?)
    }

    fn done(
        tx: Transaction,
        coins: &[Coin],
        fee: Amount,
        vsize: u64,
        change: Option<(usize, Amount)>,
    ) -> Self {
        Self {
            tx,
            prevouts: coins.iter().map(|c| c.txout.clone()).collect(),
            fee,
            vsize,
            change,
        }
    }
}

fn unsigned(coins: &[Coin], output: Vec<TxOut>) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: coins
            .iter()
            .map(|c| TxIn {
                previous_output: c.outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                // A key-path signature with SIGHASH_DEFAULT: 64 bytes.
                witness: Witness::from_slice(&[[0u8; 64]]),
            })
            .collect(),
        output,
    }
}
