//! `lumamesh wallet utxos`: a UTXO file or a node's `listunspent`, checked, with the
//! wallet's and the inscribed outputs marked.

use std::fmt;
use std::path::PathBuf;

use anyhow::Context;
use bitcoin::Amount;
use onchain::policy::{fee_coins, may_pay_fees};
use onchain::wallet::{network_name, Checked, Utxo, Wallet as Keys};
use onchain::{load_funding, Node, OrdServer};

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
    /// Ask an ord server (http://host:port, on this machine unless --allow-remote-ord)
    /// which inscriptions and runes each output carries.
    #[arg(long, value_name = "URL")]
    ord_url: Option<String>,
    /// Let --ord-url name a server on another machine (its answers are trusted).
    #[arg(long, requires = "ord_url")]
    allow_remote_ord: bool,
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    runes: Vec<String>,
    /// Who said what it carries: `no` (nobody), `file`, `ord`.
    checked: Checked,
    /// Whether it may pay fees.
    fees: bool,
    /// `receive/3`, if the wallet's.
    #[serde(skip_serializing_if = "Option::is_none")]
    wallet: Option<String>,
}

#[derive(Debug, serde::Serialize)]
struct UtxosOut {
    network: &'static str,
    utxos: Vec<UtxoInfo>,
    total: u64,
    /// Value that may pay fees (see `onchain::policy::may_pay_fees`).
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
            } else if !u.runes.is_empty() {
                write!(f, "  runes ({}): never spent as fees", u.runes.join(", "))?;
            } else if !u.fees {
                write!(
                    f,
                    "  unchecked and small: may be inscribed, never spent as fees"
                )?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "{} outputs, {} in all, {} may pay fees",
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
        // The same rules as `inscribe` and `publish`: small unchecked outputs, from a file or
        // a node, are never counted as spendable.
        let node = match (&self.rpc_url, &self.rpc_cookie) {
            (Some(url), Some(cookie)) => Some(Node {
                url,
                cookie,
                min_conf: self.min_conf,
                reach: onchain::wallet::rpc::Reach::LoopbackOnly,
            }),
            _ => None,
        };
        let ord = self.ord_url.as_deref().map(|url| OrdServer {
            url,
            allow_remote: self.allow_remote_ord,
        });
        let utxos = load_funding(self.file.as_deref(), node, ord, network)
            .map_err(crate::onchain::funding_error)?;
        let total = utxos.iter().map(|u| u.value.to_sat()).sum();
        let spendable = fee_coins(&utxos)
            .iter()
            .map(|c| c.txout.value.to_sat())
            .sum();
        let info = |u: Utxo| UtxoInfo {
            outpoint: u.outpoint.to_string(),
            value: u.value.to_sat(),
            fees: may_pay_fees(&u),
            checked: u.checked,
            runes: u.runes.clone(),
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
