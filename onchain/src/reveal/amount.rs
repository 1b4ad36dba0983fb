//! Sums of sats that can neither wrap nor panic, and the bounds on postage: the one home of
//! the arithmetic every commit, reveal and publish plan does on money.
//!
//! Every total is refused once it passes 21,000,000 BTC ([`Amount::MAX_MONEY`]): no output,
//! input or fee can be worth more than all bitcoin, so such a total means a wrong amount
//! (a UTXO file, `--postage`, a fee rate past its caps), and the error names which one.

use bitcoin::{Amount, ScriptBuf};

use super::fee::dust_limit;
use super::BuildError;

/// The most sats an inscription's output may carry: ord's `MAX_POSTAGE` (twice its
/// 10,000-sat target; when ord sends an inscription whose output holds more, it splits the
/// excess off). It is also the ceiling of the outputs never spent as fees when no ord server
/// says what they hold: postage above it would put an inscription where a later run, not
/// knowing better, could spend it as a fee.
pub const MAX_POSTAGE: Amount = Amount::from_sat(20_000);

/// `a + b`, or [`BuildError::AmountOverflow`] naming `what` when the sum is no bitcoin
/// amount.
///
/// ```
/// use bitcoin::Amount;
/// use onchain::reveal::add;
/// assert_eq!(add("fees", Amount::from_sat(1), Amount::from_sat(2)).unwrap().to_sat(), 3);
/// assert!(add("fees", Amount::MAX_MONEY, Amount::from_sat(1)).is_err());
/// ```
pub fn add(what: &'static str, a: Amount, b: Amount) -> Result<Amount, BuildError> {
    a.checked_add(b)
        .filter(|sum| *sum <= Amount::MAX_MONEY)
        .ok_or(BuildError::AmountOverflow { what })
}

/// The sum of `amounts`, checked as [`add`] checks (each one, too).
pub fn sum(
    what: &'static str,
    amounts: impl IntoIterator<Item = Amount>,
) -> Result<Amount, BuildError> {
    amounts
        .into_iter()
        .try_fold(Amount::ZERO, |total, amount| add(what, total, amount))
}

/// `amount × n`, checked as [`add`] checks.
pub fn times(what: &'static str, amount: Amount, n: usize) -> Result<Amount, BuildError> {
    u64::try_from(n)
        .ok()
        .and_then(|n| amount.checked_mul(n))
        .filter(|product| *product <= Amount::MAX_MONEY)
        .ok_or(BuildError::AmountOverflow { what })
}

/// `a - b`, or [`BuildError::AmountOverflow`] naming `what` when `b` is larger.
pub fn subtract(what: &'static str, a: Amount, b: Amount) -> Result<Amount, BuildError> {
    a.checked_sub(b).ok_or(BuildError::AmountOverflow { what })
}

/// Refuses postage below the dust limit of any of `destinations` (330 sat for P2TR) or
/// above [`MAX_POSTAGE`]. [`RevealTx::build`](super::RevealTx::build) checks it; a caller
/// may check a `--postage` flag early with it (no destinations: the P2TR dust limit).
///
/// ```
/// use bitcoin::Amount;
/// use onchain::reveal::check_postage;
/// assert!(check_postage(Amount::from_sat(10_000), &[]).is_ok());
/// assert!(check_postage(Amount::from_sat(329), &[]).is_err());
/// assert!(check_postage(Amount::from_sat(20_001), &[]).is_err());
/// ```
pub fn check_postage(postage: Amount, destinations: &[ScriptBuf]) -> Result<(), BuildError> {
    if postage > MAX_POSTAGE {
        return Err(BuildError::PostageAboveMax {
            postage: postage.to_sat(),
            max: MAX_POSTAGE.to_sat(),
        });
    }
    let dust = destinations
        .iter()
        .map(|d| dust_limit(d))
        .max()
        .unwrap_or(P2TR_DUST);
    if postage < dust {
        return Err(BuildError::PostageBelowDust {
            postage: postage.to_sat(),
            dust: dust.to_sat(),
        });
    }
    Ok(())
}

/// The dust limit of a P2TR output at the default dust relay fee (what `--postage` is
/// checked against before a destination is known).
const P2TR_DUST: Amount = Amount::from_sat(330);

#[cfg(test)]
mod tests {
    use bitcoin::{Amount, ScriptBuf};

    use super::{add, check_postage, sum, times, BuildError, MAX_POSTAGE, P2TR_DUST};
    use crate::reveal::dust_limit;

    #[test]
    fn p2tr_dust_is_the_scripts() {
        let p2tr = ScriptBuf::from_hex(&format!("5120{}", "11".repeat(32))).unwrap();
        assert_eq!(dust_limit(&p2tr), P2TR_DUST);
        let p2wpkh = ScriptBuf::from_hex(&format!("0014{}", "11".repeat(20))).unwrap();
        // A P2WPKH destination's dust (294) is below P2TR's: the early check is the stricter.
        assert!(check_postage(Amount::from_sat(300), &[p2wpkh]).is_ok());
    }

    #[test]
    fn max_postage_is_the_possibly_inscribed_ceiling() {
        // Postage above the ceiling of outputs never spent as fees would leave the
        // inscription unprotected.
        assert_eq!(MAX_POSTAGE, crate::policy::POSSIBLY_INSCRIBED);
    }

    #[test]
    fn sums_stop_at_all_bitcoin() {
        let all = Amount::MAX_MONEY;
        assert_eq!(add("x", all, Amount::ZERO).unwrap(), all);
        assert_eq!(
            add("coins", all, Amount::ONE_SAT),
            Err(BuildError::AmountOverflow { what: "coins" })
        );
        assert!(add("x", Amount::MAX, Amount::MAX).is_err());
        assert!(sum("x", [Amount::from_sat(u64::MAX)]).is_err());
        assert_eq!(sum("x", [Amount::ONE_SAT; 3]).unwrap(), Amount::from_sat(3));
        assert!(times("postage", Amount::from_sat(u64::MAX / 2), 3).is_err());
        assert_eq!(
            times("postage", MAX_POSTAGE, 3).unwrap(),
            Amount::from_sat(60_000)
        );
        assert!(times("postage", Amount::ONE_SAT, usize::MAX).is_err());
    }
}
