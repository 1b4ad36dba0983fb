//! `lumamesh wallet address`: BIP86 receive or change addresses.

use std::fmt;

use onchain::wallet::{network_name, Chain};

use super::OpenArgs;
use crate::{output, UsageError};

#[derive(Debug, clap::Args)]
pub struct Address {
    #[command(flatten)]
    keys: OpenArgs,
    /// Change addresses (chain 1) instead of receive addresses (chain 0).
    #[arg(long)]
    change: bool,
    /// The first address index.
    #[arg(long, value_name = "I", default_value_t = 0)]
    index: u32,
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
        let last = self
            .index
            .checked_add(self.count - 1)
            .filter(|last| *last < 1 << 31)
            .ok_or_else(|| {
                UsageError(format!(
                    "--index {} --count {} goes past index 2147483647",
                    self.index, self.count
                ))
            })?;
        let addresses = (self.index..=last)
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
        output::print(
            self.json,
            &Addresses {
                network: network_name(network),
                addresses,
            },
        )
    }
}
