//! `lumamesh wallet utxos`: a UTXO file or a node's `listunspent`, checked, with the
//! wallet's and the inscribed outputs marked.

use std::fmt;
use std::path::PathBuf;

use anyhow::Context;
use bitcoin::Amount;
use onchain::policy::fee_coins;
use onchain::wallet::{network_name, Utxo, Wallet as Keys};
use onchain::{load_funding, Node};

use super::{wallet_dir_error, NetworkArg};
use crate::output;

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("from").required(true).args(["file", "rpc_url"]))]
pub struct Utxos {
    /// The UTXO file: a JSON array of {txid, vout, value (sats) or amount (BTC), address
    /// and/or scriptPubKey, optional inscriptions: ["<txid>i<n>", …]}.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Ask Bitcoin Core instead (`listunspent`): http://HOST:PORT[/wallet/NAME].
    #[arg(long, value_name = "URL", requires = "rpc_cookie")]
    rpc_url: Option<String>,
    /// Bitcoin Core's cookie file (e.g. ~/.bitcoin/regtest/.cookie), with --rpc-url.
    #[arg(long, value_name = "FILE", requires = "rpc_url")]
    rpc_cookie: Option<PathBuf>,
    /// With --rpc-url: only outputs with at least this many confirmations.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "rpc_url")]
    min_conf: u32,
    #[command(flatten)]
    network: NetworkArg,
    /// Wallet directory, to mark the outputs that are the wallet's.
    #[arg(long, value_name = "DIR")]
    wallet_dir: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct UtxoInfo {
    outpoint: String,
    value: u64,
    inscriptions: Vec<String>,
    /// `receive/3`, if the wallet's.
    #[serde(skip_serializing_if = "Option::is_none")]
    wallet: Option<String>,
}

#[derive(Debug, serde::Serialize)]
struct UtxosOut {
    network: &'static str,
    utxos: Vec<UtxoInfo>,
    total: u64,
    /// Value not carrying inscriptions: what may pay fees.
    spendable: u64,
}

impl fmt::Display for UtxosOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for u in &self.utxos {
            write!(f, "{}  {:>16} sat", u.outpoint, u.value)?;
            if let Some(w) = &u.wallet {
                write!(f, "  wallet {w}")?;
            }
            if !u.inscriptions.is_empty() {
                write!(
                    f,
                    "  inscribed ({}): never spent as fees",
                    u.inscriptions.join(", ")
                )?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "{} outputs, {} in all, {} free of inscriptions",
            self.utxos.len(),
            Amount::from_sat(self.total),
            Amount::from_sat(self.spendable)
        )
    }
}

impl Utxos {
    pub fn run(self) -> anyhow::Result<()> {
        let network = self.network.network;
        let wallet = self
            .wallet_dir
            .as_deref()
            .map(|dir| Keys::open(dir, network).map_err(wallet_dir_error))
            .transpose()?;
        // The same rules as `inscribe` and `publish`: a node's small outputs are marked as
        // possibly inscribed and never counted as spendable.
        let node = match (&self.rpc_url, &self.rpc_cookie) {
            (Some(url), Some(cookie)) => Some(Node {
                url,
                cookie,
                min_conf: self.min_conf,
            }),
            _ => None,
        };
        let utxos = load_funding(self.file.as_deref(), node, network)
            .map_err(crate::onchain::funding_error)?;
        let total = utxos.iter().map(|u| u.value.to_sat()).sum();
        let spendable = fee_coins(&utxos)
            .iter()
            .map(|c| c.txout.value.to_sat())
            .sum();
        let info = |u: Utxo| UtxoInfo {
            outpoint: u.outpoint.to_string(),
            value: u.value.to_sat(),
            wallet: wallet
                .as_ref()
                .and_then(|w| w.find(&u.script_pubkey))
                .map(|(chain, index)| format!("{chain}/{index}")),
            inscriptions: u.inscriptions,
        };
        let out = UtxosOut {
            network: network_name(network),
            utxos: utxos.into_iter().map(info).collect(),
            total,
            spendable,
        };
        output::print(self.json, &out).context("printing")
    }
}
