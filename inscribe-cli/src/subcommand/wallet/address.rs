//! `lumamesh wallet address`: BIP86 receive or change addresses. From a wallet directory
//! without `--index`, the next unused ones, handed out: recorded in `addresses.json` so no
//! run sends an inscription or change to a funding address.

use std::fmt;

use onchain::wallet::{network_name, Chain, NextIndices, WalletDir};

use super::OpenArgs;
use crate::{output, UsageError};

#[derive(Debug, clap::Args)]
pub struct Address {
    #[command(flatten)]
    keys: OpenArgs,
    /// Change addresses (chain 1) instead of receive addresses (chain 0).
    #[arg(long)]
    change: bool,
    /// The first address index, shown without handing it out. Default: with --wallet-dir,
    /// the next unused index of the chain, which this call hands out (it records them in
    /// DIR/addresses.json, so each call shows new addresses and no inscription or change of
    /// a later run goes there); with --mnemonic-file, 0 (nothing is recorded).
    #[arg(long, value_name = "I")]
    index: Option<u32>,
    /// How many consecutive addresses.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    count: u32,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct AddressInfo {
    address: String,
    chain: Chain,
    index: u32,
    path: String,
    internal_key: String,
}

#[derive(Debug, serde::Serialize)]
struct Addresses {
    network: &'static str,
    addresses: Vec<AddressInfo>,
}

impl fmt::Display for Addresses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.addresses {
            writeln!(f, "{}", a.address)?;
        }
        Ok(())
    }
}

impl Address {
    pub fn run(self) -> anyhow::Result<()> {
        let (network, wallet) = self.keys.open()?;
        let chain = if self.change {
            Chain::Change
        } else {
            Chain::Receive
        };
        let handing_out = match (self.index, &self.keys.source.wallet_dir) {
            (None, Some(dir)) => Some(WalletDir::new(dir)),
            _ => None,
        };
        let first = match (&handing_out, self.index) {
            (Some(dir), _) => dir
                .next_indices()
                .map_err(|e| UsageError(e.to_string()))?
                .of(chain),
            (None, index) => index.unwrap_or(0),
        };
        let last = first
            .checked_add(self.count - 1)
            .filter(|last| *last < 1 << 31)
            .ok_or_else(|| {
                UsageError(format!(
                    "index {first} and --count {} go past index 2147483647",
                    self.count
                ))
            })?;
        let addresses = (first..=last)
            .map(|index| {
                Ok(AddressInfo {
                    address: wallet.address(chain, index)?.to_string(),
                    chain,
                    index,
                    path: format!("m/{}", wallet.path(chain, index)?),
                    internal_key: wallet.internal_key(chain, index)?.to_string(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        if let Some(dir) = &handing_out {
            // Every index up to `last` of the chain is handed out (the file only moves on).
            dir.record_used(NextIndices::default().after(chain, last + 1))?;
        }
        output::print(
            self.json,
            &Addresses {
                network: network_name(network),
                addresses,
            },
        )
    }
}
