//! `lumamesh wallet …`: the BIP86 taproot wallet that funds inscriptions.
//!
//! The mnemonic is written to a file with mode 0600 and is printed only with `create --show`.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bitcoin::{Amount, Network};
use onchain::wallet::mnemonic::{parse_mnemonic, read_passphrase_file, MnemonicError};
use onchain::wallet::{
    fetch_listunspent, load_utxos, network_name, parse_network, Chain, RpcError, Utxo, UtxoError,
    Wallet as Keys, WalletDir, WalletDirError,
};

use crate::{input, output, UsageError};

/// The wallet subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Wallet {
    /// Create a wallet: a new BIP39 mnemonic in DIR/mnemonic (mode 0600) and DIR/wallet.json.
    Create(Create),
    /// Restore a wallet from a mnemonic file (and optional BIP39 passphrase file) into DIR.
    Restore(Restore),
    /// Print receive (or change) addresses: BIP86 taproot, m/86'/coin'/0'/chain/index.
    Address(Address),
    /// Print the wallet's public descriptors, to watch it from Bitcoin Core.
    Descriptors(Descriptors),
    /// Check a UTXO file (JSON, e.g. `bitcoin-cli listunspent` output) or a node's
    /// `listunspent`, and show which outputs are the wallet's and which carry inscriptions.
    Utxos(Utxos),
}

impl Wallet {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Wallet::Create(c) => c.run(),
            Wallet::Restore(c) => c.run(),
            Wallet::Address(c) => c.run(),
            Wallet::Descriptors(c) => c.run(),
            Wallet::Utxos(c) => c.run(),
        }
    }
}

fn network_arg(s: &str) -> Result<Network, String> {
    parse_network(s).map_err(|e| e.to_string())
}

fn words_arg(s: &str) -> Result<usize, String> {
    match s {
        "12" => Ok(12),
        "24" => Ok(24),
        _ => Err("a mnemonic has 12 or 24 words".to_owned()),
    }
}

/// `--network`, required everywhere: a wallet is never used on a network it was not made for.
#[derive(Debug, clap::Args)]
struct NetworkArg {
    /// Bitcoin network: mainnet (or bitcoin, main), testnet (or testnet3), testnet4, signet,
    /// regtest.
    #[arg(long, value_name = "NETWORK", value_parser = network_arg)]
    network: Network,
}

/// Where the keys come from: a wallet directory, or a mnemonic file.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Source {
    /// Wallet directory made by `lumamesh wallet create` or `restore`.
    #[arg(long, value_name = "DIR")]
    wallet_dir: Option<PathBuf>,
    /// A BIP39 mnemonic file instead (whitespace-separated English words), or - for
    /// standard input.
    #[arg(long, value_name = "FILE|-")]
    mnemonic_file: Option<PathBuf>,
}

/// `--passphrase-file`, with `--mnemonic-file` only (a wallet directory keeps its own).
#[derive(Debug, clap::Args)]
struct PassphraseArg {
    /// BIP39 passphrase ("25th word") file: its text less one trailing line break.
    #[arg(long, value_name = "FILE", requires = "mnemonic_file")]
    passphrase_file: Option<PathBuf>,
}

impl Source {
    fn open(&self, network: Network, passphrase: &PassphraseArg) -> anyhow::Result<Keys> {
        if let Some(dir) = &self.wallet_dir {
            return Keys::open(dir, network).map_err(wallet_dir_error);
        }
        let path = self.mnemonic_file.as_deref().expect("clap requires one");
        let mnemonic = read_mnemonic(path)?;
        let passphrase = read_passphrase(passphrase.passphrase_file.as_deref())?;
        Ok(Keys::from_mnemonic(&mnemonic, &passphrase, network)?)
    }
}

fn read_mnemonic(path: &Path) -> anyhow::Result<bip39::Mnemonic> {
    let (name, text) = input::read_text(path)?;
    Ok(parse_mnemonic(&text, &name)?)
}

fn read_passphrase(path: Option<&Path>) -> anyhow::Result<String> {
    match path {
        None => Ok(String::new()),
        Some(path) => read_passphrase_file(path).map_err(mnemonic_error),
    }
}

/// Maps the errors a user fixes by calling differently to [`UsageError`] (exit 2).
fn wallet_dir_error(e: WalletDirError) -> anyhow::Error {
    match e {
        WalletDirError::Exists { .. } => UsageError(format!(
            "{e}; pass --force to replace it (the old mnemonic is lost unless backed up)"
        ))
        .into(),
        WalletDirError::Missing { .. } => UsageError(format!(
            "{e}; create one with `lumamesh wallet create` or `lumamesh wallet restore`"
        ))
        .into(),
        WalletDirError::WrongNetwork { .. } => UsageError(e.to_string()).into(),
        WalletDirError::Mnemonic(m) => mnemonic_error(m),
        other => other.into(),
    }
}

fn mnemonic_error(e: MnemonicError) -> anyhow::Error {
    match &e {
        MnemonicError::Read { file, error } if error.kind() == std::io::ErrorKind::NotFound => {
            UsageError(format!("{}: no such file", file.display())).into()
        }
        _ => e.into(),
    }
}

#[derive(Debug, clap::Args)]
pub struct Create {
    /// Wallet directory (created with mode 0700 if missing).
    #[arg(long, value_name = "DIR")]
    wallet_dir: PathBuf,
    #[command(flatten)]
    network: NetworkArg,
    /// Mnemonic length: 12 or 24 words.
    #[arg(long, value_name = "N", default_value_t = 12, value_parser = words_arg)]
    words: usize,
    /// Replace an existing wallet. Its mnemonic, and the funds of its addresses unless it
    /// is backed up, are lost.
    #[arg(long)]
    force: bool,
    /// Also print the mnemonic. Anyone who sees it can spend the wallet's funds; by default
    /// only its file is named.
    #[arg(long)]
    show: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Created {
    action: &'static str,
    dir: PathBuf,
    network: &'static str,
    fingerprint: String,
    mnemonic_file: PathBuf,
    words: usize,
    first_address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mnemonic: Option<String>,
}

impl Created {
    /// The report on `wallet`, just written to `dir` from `mnemonic`; the words themselves
    /// only if `show`.
    fn new(
        action: &'static str,
        dir: PathBuf,
        wallet: &Keys,
        mnemonic: &bip39::Mnemonic,
        show: bool,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            action,
            mnemonic_file: WalletDir::new(&dir).mnemonic_path(),
            dir,
            network: network_name(wallet.network()),
            fingerprint: wallet.fingerprint().to_string(),
            words: mnemonic.word_count(),
            first_address: wallet.receive_address(0)?.to_string(),
            mnemonic: show.then(|| mnemonic.to_string()),
        })
    }
}

impl fmt::Display for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} wallet in {} ({}, fingerprint {})",
            self.action,
            self.dir.display(),
            self.network,
            self.fingerprint
        )?;
        writeln!(
            f,
            "mnemonic       {} ({} words, mode 0600): back it up; it is the only way to \
             recover the funds",
            self.mnemonic_file.display(),
            self.words
        )?;
        if let Some(words) = &self.mnemonic {
            writeln!(f, "words          {words}")?;
        }
        writeln!(f, "first address  {}", self.first_address)
    }
}

impl Create {
    pub fn run(self) -> anyhow::Result<()> {
        let network = self.network.network;
        let (wallet, mnemonic) = Keys::create(&self.wallet_dir, network, self.words, self.force)
            .map_err(wallet_dir_error)?;
        let out = Created::new("created", self.wallet_dir, &wallet, &mnemonic, self.show)?;
        output::print(self.json, &out)
    }
}

#[derive(Debug, clap::Args)]
pub struct Restore {
    /// Wallet directory to write (created with mode 0700 if missing).
    #[arg(long, value_name = "DIR")]
    wallet_dir: PathBuf,
    #[command(flatten)]
    network: NetworkArg,
    /// The BIP39 mnemonic (English words, any whitespace), or - for standard input.
    #[arg(long, value_name = "FILE|-")]
    mnemonic_file: PathBuf,
    /// BIP39 passphrase file, if the wallet has one: its text less one trailing line break.
    /// Kept in DIR/passphrase (mode 0600).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Replace an existing wallet in DIR.
    #[arg(long)]
    force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

impl Restore {
    pub fn run(self) -> anyhow::Result<()> {
        let network = self.network.network;
        let mnemonic = read_mnemonic(&self.mnemonic_file)?;
        let passphrase = read_passphrase(self.passphrase_file.as_deref())?;
        let wallet = Keys::restore(
            &self.wallet_dir,
            network,
            &mnemonic,
            &passphrase,
            self.force,
        )
        .map_err(wallet_dir_error)?;
        let out = Created::new("restored", self.wallet_dir, &wallet, &mnemonic, false)?;
        output::print(self.json, &out)
    }
}

#[derive(Debug, clap::Args)]
pub struct Address {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    passphrase: PassphraseArg,
    #[command(flatten)]
    network: NetworkArg,
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
        let network = self.network.network;
        let wallet = self.source.open(network, &self.passphrase)?;
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

#[derive(Debug, clap::Args)]
pub struct Descriptors {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    passphrase: PassphraseArg,
    #[command(flatten)]
    network: NetworkArg,
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
        let network = self.network.network;
        let wallet = self.source.open(network, &self.passphrase)?;
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
        let utxos = match (&self.file, &self.rpc_url, &self.rpc_cookie) {
            (_, Some(url), Some(cookie)) => fetch_listunspent(url, cookie, network, self.min_conf)
                .map_err(|e| match e {
                    RpcError::Url { .. } => UsageError(e.to_string()).into(),
                    other => anyhow::Error::from(other),
                })?,
            (Some(file), _, _) => load_utxos(file, network).map_err(|e| match e {
                UtxoError::Read { ref error, .. }
                    if error.kind() == std::io::ErrorKind::NotFound =>
                {
                    UsageError(format!("{}: no such file", file.display())).into()
                }
                other => anyhow::Error::from(other),
            })?,
            _ => unreachable!("clap requires FILE or --rpc-url with --rpc-cookie"),
        };
        let total = utxos.iter().map(|u| u.value.to_sat()).sum();
        let spendable = utxos
            .iter()
            .filter(|u| !u.is_inscribed())
            .map(|u| u.value.to_sat())
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
