//! What a run may spend and inscribe: fee caps, ord's content limit on test networks, and
//! which coins may pay fees.

use bitcoin::{Amount, Network};

use crate::reveal::{Coin, FeeRate};
use crate::wallet::{network_name, Utxo};

/// The default cap on the fee rate, in sat/vB.
pub const DEFAULT_MAX_FEE_RATE: f64 = 2_000.0;

/// The default cap on all fees of a run together, in sat.
pub const DEFAULT_MAX_FEE: Amount = Amount::from_sat(1_000_000);

/// The default postage of each inscription output (ord's), in sat.
pub const DEFAULT_POSTAGE: Amount = Amount::from_sat(10_000);

/// ord's content limit on testnet, testnet4 and signet: it would not index a larger body.
pub const TEST_NETWORK_CONTENT_LIMIT: usize = 1_024;

/// Outputs a node reports at or below this value may carry inscriptions (ord's postage
/// range): a node cannot tell, so they are never spent as fees.
pub const NODE_POSSIBLY_INSCRIBED: Amount = Amount::from_sat(20_000);

/// What a UTXO from a node is marked with when it might be inscribed.
pub const NODE_UNKNOWN_INSCRIPTION: &str = "(unknown: small output from the node)";

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
    /// Go past both caps: the caller has been told and means it.
    pub force: bool,
}

impl Default for FeeCaps {
    fn default() -> Self {
        FeeCaps {
            // A positive finite constant: always a valid rate.
            max_fee_rate: FeeRate::from_sat_per_vb(DEFAULT_MAX_FEE_RATE).expect("positive"),
            max_fee: DEFAULT_MAX_FEE,
            force: false,
        }
    }
}

impl FeeCaps {
    /// Refuses `fee_rate` above the cap unless forced.
    pub fn check_rate(&self, fee_rate: FeeRate) -> Result<(), PolicyError> {
        if fee_rate > self.max_fee_rate && !self.force {
            return Err(PolicyError::FeeRateAboveCap {
                fee_rate,
                cap: self.max_fee_rate,
            });
        }
        Ok(())
    }

    /// Refuses a run whose fees come to more than the cap unless forced.
    pub fn check_fees(&self, fees: Amount) -> Result<(), PolicyError> {
        if fees > self.max_fee && !self.force {
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

/// The coins that may pay fees: every UTXO not known or suspected to carry an inscription.
pub fn fee_coins(utxos: &[Utxo]) -> Vec<Coin> {
    utxos
        .iter()
        .filter(|u| !u.is_inscribed())
        .map(|u| Coin {
            outpoint: u.outpoint,
            txout: u.txout(),
        })
        .collect()
}

/// The UTXOs of a file and of a node together. The file's word wins for an outpoint in both
/// (it may list inscriptions the node knows nothing of); a node's output of
/// [`NODE_POSSIBLY_INSCRIBED`] or less is marked as possibly inscribed, so it never pays
/// fees, though it can still be named as a parent by listing it in the file.
pub fn merge_node_utxos(mut file: Vec<Utxo>, node: Vec<Utxo>) -> Vec<Utxo> {
    for mut utxo in node {
        if file.iter().any(|u| u.outpoint == utxo.outpoint) {
            continue;
        }
        if utxo.value <= NODE_POSSIBLY_INSCRIBED && !utxo.is_inscribed() {
            utxo.inscriptions.push(NODE_UNKNOWN_INSCRIPTION.to_owned());
        }
        file.push(utxo);
    }
    file
}

#[cfg(test)]
mod tests;
