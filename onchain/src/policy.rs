//! What a run may spend and inscribe: fee caps, ord's content limit on test networks, and
//! which coins may pay fees.

use std::fmt;

use bitcoin::{Amount, Network, OutPoint};

use crate::reveal::{Coin, FeeRate};
use crate::wallet::{network_name, Checked, Utxo};

/// The default cap on the fee rate, in sat/vB: two to three times the highest rates the
/// mempool held for days at a time in recent years (150–300 sat/vB in the BRC-20 rush of May
/// 2023 and in December 2023), so a sustained market does not trip it, while a rate typed
/// with an extra digit or two (`1000` for `10`) does. Spikes that last hours (next-block
/// rates of 1,600–2,000 sat/vB at the April 2024 halving, back down within a day) need
/// `--allow-high-fees`.
pub const DEFAULT_MAX_FEE_RATE: f64 = 500.0;

/// The default cap on all fees of a run together, in sat (0.025 BTC): a `publish` of the
/// starter page (library, relay list and page: four transactions of 3,406 vB) costs
/// 1,711,000 sat at the full [`DEFAULT_MAX_FEE_RATE`], and this leaves room for a page about
/// 7 KB larger at that rate, so no page batch at a real market rate needs more; a page of
/// tens of kilobytes at a very high rate does, on purpose.
pub const DEFAULT_MAX_FEE: Amount = Amount::from_sat(2_500_000);

/// The default postage of each inscription output (ord's), in sat.
pub const DEFAULT_POSTAGE: Amount = Amount::from_sat(10_000);

/// ord's content limit on testnet, testnet4 and signet: it would not index a larger body.
pub const TEST_NETWORK_CONTENT_LIMIT: usize = 1_024;

/// Outputs at or below this value may carry inscriptions (ord's postage range, up to its
/// 20,000-sat maximum): unless the UTXO file or an ord server says what they carry, they are
/// never spent as fees.
pub const POSSIBLY_INSCRIBED: Amount = Amount::from_sat(20_000);

/// [`POSSIBLY_INSCRIBED`] under its earlier name, from when the rule covered a node's
/// outputs only.
pub const NODE_POSSIBLY_INSCRIBED: Amount = POSSIBLY_INSCRIBED;

/// A run refused by policy: each can be fixed by the caller (a lower rate, an override, a
/// smaller body).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// The fee rate asked for is above the cap.
    #[error("fee rate {fee_rate} is above the cap of {cap}")]
    FeeRateAboveCap {
        /// The rate asked for.
        fee_rate: FeeRate,
        /// The cap.
        cap: FeeRate,
    },
    /// All fees of the run together are above the cap.
    #[error("fees total {} sat, above the cap of {} sat", fees.to_sat(), cap.to_sat())]
    FeesAboveCap {
        /// Every commit and reveal fee of the run.
        fees: Amount,
        /// The cap.
        cap: Amount,
    },
    /// A body ord would not index on this network.
    #[error(
        "{name}: {len} bytes is over ord's {limit}-byte content limit for {network} \
         inscriptions (ord would not index it)"
    )]
    ContentTooLarge {
        /// Where the body came from.
        name: String,
        /// Its length before compression.
        len: usize,
        /// The network's limit.
        limit: usize,
        /// The network's name.
        network: &'static str,
    },
}

/// The caps that keep a typo from spending a fortune, and whether to go past them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeeCaps {
    /// The highest fee rate allowed.
    pub max_fee_rate: FeeRate,
    /// The most all fees of a run together may come to.
    pub max_fee: Amount,
    /// Go past both caps: the caller has been told and means it. It lifts nothing else.
    pub allow_high_fees: bool,
}

impl Default for FeeCaps {
    fn default() -> Self {
        FeeCaps {
            // A positive finite constant: always a valid rate.
            max_fee_rate: FeeRate::from_sat_per_vb(DEFAULT_MAX_FEE_RATE).expect("positive"),
            max_fee: DEFAULT_MAX_FEE,
            allow_high_fees: false,
        }
    }
}

impl FeeCaps {
    /// Refuses `fee_rate` above the cap unless high fees are allowed.
    pub fn check_rate(&self, fee_rate: FeeRate) -> Result<(), PolicyError> {
        if fee_rate > self.max_fee_rate && !self.allow_high_fees {
            return Err(PolicyError::FeeRateAboveCap {
                fee_rate,
                cap: self.max_fee_rate,
            });
        }
        Ok(())
    }

    /// Refuses a run whose fees come to more than the cap unless high fees are allowed.
    pub fn check_fees(&self, fees: Amount) -> Result<(), PolicyError> {
        if fees > self.max_fee && !self.allow_high_fees {
            return Err(PolicyError::FeesAboveCap {
                fees,
                cap: self.max_fee,
            });
        }
        Ok(())
    }
}

/// The largest body ord indexes on `network`, if it has a limit there.
pub fn content_limit(network: Network) -> Option<usize> {
    match network {
        Network::Testnet | Network::Testnet4 | Network::Signet => Some(TEST_NETWORK_CONTENT_LIMIT),
        _ => None,
    }
}

/// Refuses a body of `len` bytes (before compression) that ord would not index on `network`.
pub fn check_content_size(name: &str, len: usize, network: Network) -> Result<(), PolicyError> {
    match content_limit(network) {
        Some(limit) if len > limit => Err(PolicyError::ContentTooLarge {
            name: name.to_owned(),
            len,
            limit,
            network: network_name(network),
        }),
        _ => Ok(()),
    }
}

/// Whether `utxo` may pay fees: it carries no inscription and no rune that anyone reported,
/// and either someone vouched for that (the UTXO file's `"inscriptions"` field, or an ord
/// server) or it holds more than [`POSSIBLY_INSCRIBED`].
pub fn may_pay_fees(utxo: &Utxo) -> bool {
    utxo.inscriptions.is_empty()
        && utxo.runes.is_empty()
        && (utxo.checked != Checked::No || utxo.value > POSSIBLY_INSCRIBED)
}

/// The coins that may pay fees (see [`may_pay_fees`]).
pub fn fee_coins(utxos: &[Utxo]) -> Vec<Coin> {
    utxos
        .iter()
        .filter(|u| may_pay_fees(u))
        .map(|u| Coin {
            outpoint: u.outpoint,
            txout: u.txout(),
        })
        .collect()
}

/// Why an output is never spent as fees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsideReason {
    /// It carries these inscriptions (usable as a `--parent`).
    Inscribed(Vec<String>),
    /// An ord server reports these runes on it.
    Runes(Vec<String>),
    /// Nobody said what it carries, and it is small enough to be an inscription's postage.
    Unchecked,
}

/// An output kept from fees, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// The output.
    pub outpoint: OutPoint,
    /// Its value.
    pub value: Amount,
    /// Why it does not pay fees.
    pub reason: AsideReason,
}

impl fmt::Display for SetAside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} sat): ", self.outpoint, self.value.to_sat())?;
        match &self.reason {
            AsideReason::Inscribed(ids) => write!(f, "carries {}", ids.join(", ")),
            AsideReason::Runes(names) => write!(f, "holds runes {}", names.join(", ")),
            AsideReason::Unchecked => write!(
                f,
                "{} sat or less and not checked for inscriptions",
                POSSIBLY_INSCRIBED.to_sat()
            ),
        }
    }
}

/// Every output of `utxos` that [`may_pay_fees`] refuses, in order, with its reason.
pub fn set_aside(utxos: &[Utxo]) -> Vec<SetAside> {
    utxos
        .iter()
        .filter(|u| !may_pay_fees(u))
        .map(|u| SetAside {
            outpoint: u.outpoint,
            value: u.value,
            reason: if u.is_inscribed() {
                AsideReason::Inscribed(u.inscriptions.clone())
            } else if !u.runes.is_empty() {
                AsideReason::Runes(u.runes.clone())
            } else {
                AsideReason::Unchecked
            },
        })
        .collect()
}

/// The UTXOs of a file and of a node together. The file's word wins for an outpoint in both
/// (it may list inscriptions the node knows nothing of, or vouch for an output with
/// `"inscriptions": []`); the node's own outputs stay [`Checked::No`], so the small ones
/// never pay fees (see [`may_pay_fees`]), though one can still be named as a parent by
/// listing it in the file.
pub fn merge_node_utxos(mut file: Vec<Utxo>, node: Vec<Utxo>) -> Vec<Utxo> {
    for utxo in node {
        if file.iter().any(|u| u.outpoint == utxo.outpoint) {
            continue;
        }
        file.push(utxo);
    }
    file
}

#[cfg(test)]
mod tests;
