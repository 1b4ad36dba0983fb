//! `lumamesh wallet descriptors`: the public descriptors, to watch the wallet from Bitcoin
//! Core.

use std::fmt;

use onchain::wallet::network_name;

use super::OpenArgs;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Descriptors {
    #[command(flatten)]
    keys: OpenArgs,
    /// Print the result as JSON (with the array `importdescriptors` takes).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Import {
    desc: String,
    timestamp: &'static str,
    active: bool,
    internal: bool,
}

#[derive(Debug, serde::Serialize)]
struct DescriptorsOut {
    network: &'static str,
    fingerprint: String,
    account_xpub: String,
    receive: String,
    change: String,
    importdescriptors: Vec<Import>,
}

impl fmt::Display for DescriptorsOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "receive  {}", self.receive)?;
        writeln!(f, "change   {}", self.change)?;
        let import = serde_json::to_string(&self.importdescriptors).map_err(|_| fmt::Error)?;
        // Single-quoted for the shell; the descriptors' own ' (hardened steps) become '\''.
        let import = import.replace('\'', r"'\''");
        writeln!(
            f,
            "watch from Bitcoin Core (a blank descriptor wallet without private keys):\n  \
             bitcoin-cli -named createwallet wallet_name=lumamesh disable_private_keys=true \
             blank=true\n  bitcoin-cli -rpcwallet=lumamesh importdescriptors '{import}'"
        )
    }
}

impl Descriptors {
    pub fn run(self) -> anyhow::Result<()> {
        let (network, wallet) = self.keys.open()?;
        let [receive, change] = wallet.descriptors();
        let importdescriptors = [(&receive, false), (&change, true)]
            .into_iter()
            .map(|(desc, internal)| Import {
                desc: desc.clone(),
                timestamp: "now",
                active: true,
                internal,
            })
            .collect();
        output::print(
            self.json,
            &DescriptorsOut {
                network: network_name(network),
                fingerprint: wallet.fingerprint().to_string(),
                account_xpub: wallet.account_xpub().to_string(),
                receive,
                change,
                importdescriptors,
            },
        )
    }
}
