//! Fee rates, and the sizes and limits standardness puts on what we build.

use std::fmt;
use std::str::FromStr;

use bitcoin::{Amount, Script};

use super::BuildError;

/// Largest weight of a standard transaction (MAX_STANDARD_TX_WEIGHT).
pub const MAX_STANDARD_WEIGHT: u64 = 400_000;

/// A fee rate in sat/vB (fractions allowed, as ord takes them).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct FeeRate(f64);

/// A fee rate that is not a positive finite number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fee rate {0:?} is not a positive number of sat/vB")]
pub struct BadFeeRate(pub String);

impl FeeRate {
    /// A rate of `sat_per_vb`, which must be positive and finite.
    pub fn from_sat_per_vb(sat_per_vb: f64) -> Result<Self, BadFeeRate> {
        if sat_per_vb.is_finite() && sat_per_vb > 0.0 {
            Ok(Self(sat_per_vb))
        } else {
            Err(BadFeeRate(sat_per_vb.to_string()))
        }
    }

    /// The rate in sat/vB.
    pub fn sat_per_vb(self) -> f64 {
        self.0
    }

    /// The fee for `vsize` virtual bytes, rounded to the nearest sat as ord does; past
    /// `u64::MAX` sat it saturates there (see [`FeeRate::checked_fee`] to refuse instead).
    ///
    /// ```
    /// use onchain::reveal::FeeRate;
    /// assert_eq!(FeeRate::from_sat_per_vb(2.5).unwrap().fee(389).to_sat(), 973);
    /// ```
    pub fn fee(self, vsize: u64) -> Amount {
        // A float-to-integer cast saturates (and the rate is positive and finite).
        Amount::from_sat((self.0 * vsize as f64).round() as u64)
    }

    /// [`FeeRate::fee`], refused with [`BuildError::AmountOverflow`] when it comes to more
    /// than 21,000,000 BTC (a rate past every cap, allowed by `--force`).
    ///
    /// ```
    /// use onchain::reveal::FeeRate;
    /// assert_eq!(FeeRate::from_sat_per_vb(2.5).unwrap().checked_fee(389).unwrap().to_sat(), 973);
    /// assert!(FeeRate::from_sat_per_vb(1e300).unwrap().checked_fee(100).is_err());
    /// ```
    pub fn checked_fee(self, vsize: u64) -> Result<Amount, BuildError> {
        Some(self.fee(vsize))
            .filter(|fee| *fee <= Amount::MAX_MONEY)
            .ok_or(BuildError::AmountOverflow { what: "fee" })
    }
}

impl FromStr for FeeRate {
    type Err = BadFeeRate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rate: f64 = s.trim().parse().map_err(|_| BadFeeRate(s.to_owned()))?;
        Self::from_sat_per_vb(rate).map_err(|_| BadFeeRate(s.to_owned()))
    }
}

impl fmt::Display for FeeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sat/vB", self.0)
    }
}

/// The smallest value an output paying `script` may carry and still be relayed
/// (330 sat for P2TR, 294 for P2WPKH at the default dust relay fee).
pub fn dust_limit(script: &Script) -> Amount {
    script.minimal_non_dust()
}

#[cfg(test)]
mod tests {
    use bitcoin::ScriptBuf;

    use super::{dust_limit, FeeRate};

    #[test]
    fn dust_is_cores() {
        let p2tr = ScriptBuf::from_hex(&format!("5120{}", "11".repeat(32))).unwrap();
        assert_eq!(dust_limit(&p2tr).to_sat(), 330);
        let p2wpkh = ScriptBuf::from_hex(&format!("0014{}", "11".repeat(20))).unwrap();
        assert_eq!(dust_limit(&p2wpkh).to_sat(), 294);
    }

    #[test]
    fn rates_parse() {
        assert_eq!("10".parse::<FeeRate>().unwrap().fee(137).to_sat(), 1370);
        for bad in ["0", "-1", "nan", "inf", "x", ""] {
            assert!(bad.parse::<FeeRate>().is_err(), "{bad}");
        }
    }
}
