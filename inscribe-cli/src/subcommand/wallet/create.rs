//! `lumamesh wallet create` and `restore`: a mnemonic written to DIR/mnemonic (mode 0600)
//! and DIR/wallet.json, printed only with `create --show`.

use std::fmt;
use std::path::PathBuf;

use onchain::wallet::{network_name, Wallet as Keys, WalletDir};

use super::{read_mnemonic, read_passphrase, wallet_dir_error, words_arg, NetworkArg};
use crate::output;

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
