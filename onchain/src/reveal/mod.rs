//! Commit/reveal transactions as `ord wallet inscribe` builds them, checked by Bitcoin
//! Core's consensus code before anything leaves.
//!
//! A commit pays wallet coins into a taproot output whose one script leaf is
//! `<key> OP_CHECKSIG` followed by the envelopes; the reveal spends it by that leaf, which
//! puts the envelopes on chain, and sends each inscription to its own output. Both txids
//! are fixed before anything is signed (witnesses are not part of a txid), so inscription
//! ids are known up front.

mod amount;
mod commit_tx;
mod encoding;
mod fee;
mod reveal_tx;
mod verify;

pub use amount::{add, check_postage, subtract, sum, times, MAX_POSTAGE};
pub use commit_tx::{Coin, CommitTx};
pub use encoding::smaller_encoding;
pub use fee::{dust_limit, BadFeeRate, FeeRate, MAX_STANDARD_WEIGHT};
pub use reveal_tx::{ParentInput, RevealPlan, RevealTx};
pub use verify::{check_standard, verify_transaction, VerifyError};

use bitcoin::key::{Keypair, Secp256k1};
use bitcoin::secp256k1::All;
use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction, TxOut};
use inscription::InscriptionId;

/// Why a commit/reveal pair could not be built or signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// Nothing to inscribe.
    #[error("nothing to inscribe")]
    Empty,
    /// Destinations and inscriptions do not pair up.
    #[error("{inscriptions} inscriptions but {destinations} destinations")]
    Destinations {
        /// Inscriptions.
        inscriptions: usize,
        /// Destinations.
        destinations: usize,
    },
    /// Postage too small to relay.
    #[error("postage of {postage} sat is below the dust limit of {dust} sat")]
    PostageBelowDust {
        /// The postage asked for.
        postage: u64,
        /// The destination's dust limit.
        dust: u64,
    },
    /// Postage larger than ord puts in an inscription's output ([`MAX_POSTAGE`]).
    #[error(
        "postage of {postage} sat is above {max} sat, the most ord puts in an inscription's \
         output: without an ord server to ask, a larger one looks like a plain coin and could be \
         spent as a fee"
    )]
    PostageAboveMax {
        /// The postage asked for.
        postage: u64,
        /// [`MAX_POSTAGE`].
        max: u64,
    },
    /// A sum of sats (inputs, outputs, fees, postage × inscriptions) past 21,000,000 BTC,
    /// or a difference below zero: no transaction can carry it.
    #[error(
        "{what}: more than 21,000,000 BTC (or below zero), which no transaction can carry; \
         check the UTXO values, --postage and --fee-rate"
    )]
    AmountOverflow {
        /// Which amounts: `coins`, `outputs`, `fee`, `postage`…
        what: &'static str,
    },
    /// A coin this wallet cannot spend by taproot key path.
    #[error("coin {0} is not a taproot (P2TR) output; only BIP86 wallet coins can pay")]
    NotTaproot(OutPoint),
    /// Not enough coins.
    #[error("not enough funds: need {needed} sat, the usable coins hold {available} sat")]
    InsufficientFunds {
        /// Outputs and fee.
        needed: u64,
        /// Sum of usable coins.
        available: u64,
    },
    /// The wallet could not sign an input.
    #[error("signing failed: {0}")]
    Sign(String),
    /// A built transaction failed verification: a bug, caught before it cost anything.
    #[error("{which} transaction refused: {error}")]
    Verify {
        /// `commit` or `reveal`.
        which: &'static str,
        /// What failed.
        error: VerifyError,
    },
}

/// A wallet's key-path signer: signs input `index` of the transaction, given every spent
/// output (taproot sighashes commit to all of them).
pub type SignKeyPath<'a> = dyn FnMut(&mut Transaction, usize, &[TxOut]) -> Result<(), String> + 'a;

/// A commit and its reveal, built, sized and with their txids fixed, not yet signed.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The commit (output 0 feeds the reveal).
    pub commit: CommitTx,
    /// The reveal.
    pub reveal: RevealTx,
}

/// A commit and reveal, signed and verified.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The signed commit.
    pub commit: Transaction,
    /// The outputs it spends.
    pub commit_prevouts: Vec<TxOut>,
    /// The signed reveal.
    pub reveal: Transaction,
    /// The outputs it spends.
    pub reveal_prevouts: Vec<TxOut>,
}

impl Prepared {
    /// Builds the reveal for `plan` with leaf key `key`, and a commit paying its output (and
    /// any `extra_outputs`, which follow it) from `coins`, with change to `change`.
    pub fn build(
        secp: &Secp256k1<All>,
        plan: &RevealPlan,
        key: Keypair,
        coins: &[Coin],
        extra_outputs: Vec<TxOut>,
        change: ScriptBuf,
        fee_rate: FeeRate,
    ) -> Result<Self, BuildError> {
        let mut reveal = RevealTx::build(secp, plan, key, fee_rate)?;
        let mut outputs = vec![reveal.commit_output.clone()];
        outputs.extend(extra_outputs);
        let commit = CommitTx::build(outputs, coins, change, fee_rate)?;
        reveal.set_commit_outpoint(OutPoint::new(commit.tx.compute_txid(), 0));
        Ok(Self { commit, reveal })
    }

    /// The inscription ids, final already.
    pub fn ids(&self) -> Vec<InscriptionId> {
        self.reveal.ids()
    }

    /// Commit fee plus reveal fee: what leaves the wallet for good (postage stays in the
    /// wallet's inscription outputs).
    pub fn fees(&self) -> Amount {
        // Both were checked against 21,000,000 BTC when built: their sum fits a u64.
        self.commit.fee + self.reveal.fee
    }

    /// The postage of all the reveal's inscriptions together (the commit output less the
    /// reveal fee).
    pub fn postage(&self) -> Amount {
        // The commit output was built as the reveal fee plus the postage.
        self.reveal.commit_output.value - self.reveal.fee
    }

    /// Signs the commit's inputs with `sign` and the reveal (its script path with the
    /// leaf key, parents with `sign`), then verifies both with Bitcoin Core's consensus
    /// code and standardness rules.
    pub fn sign(self, secp: &Secp256k1<All>, sign: &mut SignKeyPath) -> Result<Signed, BuildError> {
        let Prepared { commit, mut reveal } = self;
        let mut commit_tx = commit.tx;
        for input in 0..commit_tx.input.len() {
            sign(&mut commit_tx, input, &commit.prevouts).map_err(BuildError::Sign)?;
        }
        reveal.sign(secp, sign)?;
        let reveal_prevouts = reveal.prevouts();
        verify_transaction(&commit_tx, &commit.prevouts).map_err(|error| BuildError::Verify {
            which: "commit",
            error,
        })?;
        verify_transaction(&reveal.tx, &reveal_prevouts).map_err(|error| BuildError::Verify {
            which: "reveal",
            error,
        })?;
        Ok(Signed {
            commit: commit_tx,
            commit_prevouts: commit.prevouts,
            reveal: reveal.tx,
            reveal_prevouts,
        })
    }
}

#[cfg(test)]
mod money_tests;
#[cfg(test)]
mod tests;
