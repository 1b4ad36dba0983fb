//! Checks every transaction must pass before it is written out: Bitcoin Core's own consensus
//! code on every input (taproot rules on), and the standardness rules nodes relay by.

use bitcoin::consensus::encode::serialize;
use bitcoin::{Amount, Transaction, TxOut};

use super::fee::{dust_limit, MAX_STANDARD_WEIGHT};

/// Why a transaction must not be broadcast.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The spent outputs given do not match the inputs.
    #[error("{inputs} inputs but {prevouts} spent outputs were given")]
    PrevoutCount {
        /// Inputs in the transaction.
        inputs: usize,
        /// Spent outputs supplied.
        prevouts: usize,
    },
    /// Bitcoin Core's script interpreter refused an input.
    #[error("input {input} fails Bitcoin Core's consensus check: {reason}")]
    Consensus {
        /// The input.
        input: usize,
        /// libbitcoinconsensus's error.
        reason: String,
    },
    /// Heavier than nodes relay.
    #[error("weight {weight} WU is over the standard limit of {MAX_STANDARD_WEIGHT} WU")]
    TooHeavy {
        /// The transaction's weight.
        weight: u64,
    },
    /// An output below the dust limit.
    #[error("output {output} carries {value} sat, below the dust limit of {dust} sat")]
    Dust {
        /// The output.
        output: usize,
        /// Its value.
        value: u64,
        /// The limit for its script.
        dust: u64,
    },
    /// An output, the outputs together, or the spent outputs together worth more than
    /// 21,000,000 BTC: Bitcoin Core refuses such a transaction before running any script.
    #[error("{which} worth more than 21,000,000 BTC")]
    ValueOutOfRange {
        /// `an output`, `the outputs`, or `the spent outputs`.
        which: &'static str,
    },
    /// Outputs worth more than inputs.
    #[error("outputs ({outputs} sat) exceed inputs ({inputs} sat)")]
    Overspend {
        /// Sum of inputs.
        inputs: u64,
        /// Sum of outputs.
        outputs: u64,
    },
}

/// Verifies every input of `tx` with libbitcoinconsensus (Bitcoin Core 26), passing all
/// spent outputs so that taproot and tapscript rules are enforced, then checks
/// standardness: weight, dust, and that it pays a fee.
pub fn verify_transaction(tx: &Transaction, prevouts: &[TxOut]) -> Result<(), VerifyError> {
    if tx.input.len() != prevouts.len() {
        return Err(VerifyError::PrevoutCount {
            inputs: tx.input.len(),
            prevouts: prevouts.len(),
        });
    }
    // Before the script checks, as Core's CheckTransaction and CheckTxInputs: the values
    // handed to libbitcoinconsensus below are then all in range.
    let (inputs, outputs) = values(tx, prevouts)?;
    let bytes = serialize(tx);
    let utxos: Vec<bitcoinconsensus::Utxo> = prevouts
        .iter()
        .map(|out| bitcoinconsensus::Utxo {
            script_pubkey: out.script_pubkey.as_bytes().as_ptr(),
            script_pubkey_len: out.script_pubkey.len() as u32,
            // At most 21,000,000 BTC (checked above): it fits an i64.
            value: out.value.to_sat() as i64,
        })
        .collect();
    for (input, prevout) in prevouts.iter().enumerate() {
        bitcoinconsensus::verify(
            prevout.script_pubkey.as_bytes(),
            prevout.value.to_sat(),
            &bytes,
            Some(&utxos),
            input,
        )
        .map_err(|e| VerifyError::Consensus {
            input,
            reason: format!("{e:?}"),
        })?;
    }
    check_standard_values(tx, inputs, outputs)
}

/// The sums of `prevouts` and of `tx`'s outputs, each output and each sum at most
/// 21,000,000 BTC.
fn values(tx: &Transaction, prevouts: &[TxOut]) -> Result<(Amount, Amount), VerifyError> {
    let total = |outs: &[TxOut], which| {
        outs.iter()
            .try_fold(Amount::ZERO, |sum, o| sum.checked_add(o.value))
            .filter(|sum| *sum <= Amount::MAX_MONEY)
            .ok_or(VerifyError::ValueOutOfRange { which })
    };
    if tx.output.iter().any(|o| o.value > Amount::MAX_MONEY) {
        return Err(VerifyError::ValueOutOfRange { which: "an output" });
    }
    let outputs = total(&tx.output, "the outputs")?;
    let inputs = total(prevouts, "the spent outputs")?;
    Ok((inputs, outputs))
}

/// The standardness part of [`verify_transaction`] (with its checks on values).
pub fn check_standard(tx: &Transaction, prevouts: &[TxOut]) -> Result<(), VerifyError> {
    let (inputs, outputs) = values(tx, prevouts)?;
    check_standard_values(tx, inputs, outputs)
}

fn check_standard_values(
    tx: &Transaction,
    inputs: Amount,
    outputs: Amount,
) -> Result<(), VerifyError> {
    let weight = tx.weight().to_wu();
    if weight > MAX_STANDARD_WEIGHT {
        return Err(VerifyError::TooHeavy { weight });
    }
    for (output, out) in tx.output.iter().enumerate() {
        let dust = dust_limit(&out.script_pubkey);
        if out.value < dust {
            return Err(VerifyError::Dust {
                output,
                value: out.value.to_sat(),
                dust: dust.to_sat(),
            });
        }
    }
    if outputs > inputs {
        return Err(VerifyError::Overspend {
            inputs: inputs.to_sat(),
            outputs: outputs.to_sat(),
        });
    }
    Ok(())
}
