//! `lumamesh wallet …`: the BIP86 taproot wallet that funds inscriptions.
//!
//! The mnemonic is written to a file with mode 0600 and is printed only with `create --show`.

mod address;
mod create;
mod descriptors;
mod utxos;

use std::path::{Path, PathBuf};

use bitcoin::Network;
use onchain::wallet::mnemonic::{parse_mnemonic, read_passphrase_file, MnemonicError};
use onchain::wallet::{parse_network, Wallet as Keys, WalletDirError};

use crate::{input, UsageError};

/// The wallet subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Wallet {
    /// Create a wallet: a new BIP39 mnemonic in DIR/mnemonic (mode 0600) and DIR/wallet.json.
    Create(create::Create),
    /// Restore a wallet from a mnemonic file (and optional BIP39 passphrase file) into DIR.
    Restore(create::Restore),
    /// Print receive (or change) addresses: BIP86 taproot, m/86'/coin'/0'/chain/index.
    Address(address::Address),
    /// Print the wallet's public descriptors, to watch it from Bitcoin Core.
    Descriptors(descriptors::Descriptors),
    /// Check a UTXO file (JSON, e.g. `bitcoin-cli listunspent` output) or a node's
    /// `listunspent`, and show which outputs are the wallet's and which carry inscriptions.
    Utxos(utxos::Utxos),
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

/// The flags that open an existing wallet: where its keys are, and for which network.
#[derive(Debug, clap::Args)]
struct OpenArgs {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    passphrase: PassphraseArg,
    #[command(flatten)]
    network: NetworkArg,
}

impl OpenArgs {
    /// The network and the wallet's keys for it.
    fn open(&self) -> anyhow::Result<(Network, Keys)> {
        let network = self.network.network;
        if let Some(dir) = &self.source.wallet_dir {
            return Ok((network, Keys::open(dir, network).map_err(wallet_dir_error)?));
        }
        // The group of `Source` is required: without a directory there is a mnemonic file.
        let path = self
            .source
            .mnemonic_file
            .as_deref()
            .expect("clap requires one");
        let mnemonic = read_mnemonic(path)?;
        let passphrase = read_passphrase(self.passphrase.passphrase_file.as_deref())?;
        Ok((
            network,
            Keys::from_mnemonic(&mnemonic, &passphrase, network)?,
        ))
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
