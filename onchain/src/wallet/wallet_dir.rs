//! The wallet directory: `DIR/mnemonic` (0600), `DIR/passphrase` (0600, only if the wallet
//! has a BIP39 passphrase) and `DIR/wallet.json` (public facts: network, creation time,
//! master fingerprint). The directory is created with mode 0700.

use std::path::{Path, PathBuf};

use bip39::Mnemonic;
use bitcoin::Network;

use super::keys::{KeyError, Wallet};
use super::mnemonic::{
    generate, read_mnemonic_file, read_passphrase_file, write_mnemonic_file, write_secret,
    MnemonicError,
};
use super::network::{network_name, parse_network};

/// The version of `wallet.json` this code writes and reads.
pub const WALLET_FORMAT: u32 = 1;

/// The files of a wallet directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletDir {
    dir: PathBuf,
}

/// `DIR/wallet.json`: public data only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WalletMeta {
    /// [`WALLET_FORMAT`].
    pub format: u32,
    /// The network name, as [`network_name`] gives it.
    pub network: String,
    /// When the wallet was created or restored here, RFC 3339 UTC.
    pub created_at: String,
    /// The master key fingerprint, 8 hex digits: checks the mnemonic (and passphrase) on open.
    pub fingerprint: String,
    /// Whether `DIR/passphrase` holds a BIP39 passphrase.
    pub passphrase: bool,
}

/// A wallet directory that cannot be created or opened.
#[derive(Debug, thiserror::Error)]
pub enum WalletDirError {
    /// A wallet is there already and `force` was not given.
    #[error("a wallet exists already in {dir} ({files})")]
    Exists { dir: PathBuf, files: String },
    /// No wallet there.
    #[error("no wallet in {dir}: {file} not found")]
    Missing { dir: PathBuf, file: PathBuf },
    /// The wallet is for another network than asked for.
    #[error("the wallet in {dir} is for {found}, not {wanted}")]
    WrongNetwork {
        dir: PathBuf,
        found: String,
        wanted: &'static str,
    },
    /// `wallet.json` is unreadable or malformed.
    #[error("{file}: {reason}")]
    Meta { file: PathBuf, reason: String },
    /// The mnemonic (and passphrase) do not give the fingerprint `wallet.json` recorded.
    #[error(
        "{dir}: the mnemonic and passphrase give master fingerprint {derived}, but wallet.json \
         records {stored}; the files do not belong together"
    )]
    Fingerprint {
        dir: PathBuf,
        stored: String,
        derived: String,
    },
    /// Reading or writing the mnemonic or passphrase.
    #[error(transparent)]
    Mnemonic(#[from] MnemonicError),
    /// Deriving the wallet's keys.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Writing `wallet.json` or removing a stale passphrase file.
    #[error("writing {file}: {error}")]
    Write {
        file: PathBuf,
        error: std::io::Error,
    },
}

impl WalletDir {
    /// The wallet directory `dir` (nothing is read yet).
    pub fn new(dir: impl Into<PathBuf>) -> WalletDir {
        WalletDir { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/mnemonic`.
    pub fn mnemonic_path(&self) -> PathBuf {
        self.dir.join("mnemonic")
    }

    /// `DIR/passphrase`.
    pub fn passphrase_path(&self) -> PathBuf {
        self.dir.join("passphrase")
    }

    /// `DIR/wallet.json`.
    pub fn meta_path(&self) -> PathBuf {
        self.dir.join("wallet.json")
    }

    /// The wallet files present in the directory.
    pub fn existing_files(&self) -> Vec<PathBuf> {
        [
            self.mnemonic_path(),
            self.passphrase_path(),
            self.meta_path(),
        ]
        .into_iter()
        .filter(|p| p.symlink_metadata().is_ok())
        .collect()
    }

    /// Reads `wallet.json`.
    pub fn read_meta(&self) -> Result<WalletMeta, WalletDirError> {
        let file = self.meta_path();
        let Some(text) = read_if_there(&file)? else {
            return Err(WalletDirError::Missing {
                dir: self.dir.clone(),
                file,
            });
        };
        let meta: WalletMeta = serde_json::from_str(&text).map_err(|e| WalletDirError::Meta {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        if meta.format != WALLET_FORMAT {
            return Err(WalletDirError::Meta {
                file,
                reason: format!(
                    "format {} is not supported (this lumamesh reads {WALLET_FORMAT})",
                    meta.format
                ),
            });
        }
        Ok(meta)
    }

    /// The network `wallet.json` records.
    pub fn network(&self) -> Result<Network, WalletDirError> {
        let meta = self.read_meta()?;
        parse_network(&meta.network).map_err(|e| WalletDirError::Meta {
            file: self.meta_path(),
            reason: e.to_string(),
        })
    }
}

impl Wallet {
    /// Creates a wallet with a fresh `words`-word mnemonic (12 or 24) in `dir`. An existing
    /// wallet there is replaced only if `force`. The mnemonic is returned for the caller to
    /// show only when the user asks.
    pub fn create(
        dir: &Path,
        network: Network,
        words: usize,
        force: bool,
    ) -> Result<(Wallet, Mnemonic), WalletDirError> {
        let mnemonic = generate(words)?;
        let wallet = Wallet::restore(dir, network, &mnemonic, "", force)?;
        Ok((wallet, mnemonic))
    }

    /// Writes `mnemonic` (and `passphrase`, if not empty) as the wallet in `dir`. An existing
    /// wallet there is replaced only if `force`.
    pub fn restore(
        dir: &Path,
        network: Network,
        mnemonic: &Mnemonic,
        passphrase: &str,
        force: bool,
    ) -> Result<Wallet, WalletDirError> {
        let paths = WalletDir::new(dir);
        let existing = paths.existing_files();
        if !force && !existing.is_empty() {
            let names: Vec<String> = existing.iter().map(|p| p.display().to_string()).collect();
            return Err(WalletDirError::Exists {
                dir: dir.to_owned(),
                files: names.join(", "),
            });
        }
        let wallet = Wallet::from_mnemonic(mnemonic, passphrase, network)?;
        write_mnemonic_file(&paths.mnemonic_path(), mnemonic, true)?;
        let passphrase_path = paths.passphrase_path();
        if passphrase.is_empty() {
            match std::fs::remove_file(&passphrase_path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(WalletDirError::Write {
                        file: passphrase_path,
                        error: e,
                    })
                }
                _ => {}
            }
        } else {
            write_secret(&passphrase_path, passphrase.as_bytes(), true)?;
        }
        let meta = WalletMeta {
            format: WALLET_FORMAT,
            network: network_name(network).to_owned(),
            created_at: rfc3339_now(),
            fingerprint: wallet.fingerprint().to_string(),
            passphrase: !passphrase.is_empty(),
        };
        let json = serde_json::to_string_pretty(&meta).expect("plain struct") + "\n";
        keystore::write_atomic(&paths.meta_path(), json.as_bytes()).map_err(|error| {
            WalletDirError::Write {
                file: paths.meta_path(),
                error,
            }
        })?;
        Ok(wallet)
    }

    /// Opens the wallet in `dir`, refusing it unless `wallet.json` says it is for `network`
    /// and the mnemonic and passphrase give the fingerprint it records.
    pub fn open(dir: &Path, network: Network) -> Result<Wallet, WalletDirError> {
        let paths = WalletDir::new(dir);
        let meta = paths.read_meta()?;
        let found = paths.network()?;
        if found != network {
            return Err(WalletDirError::WrongNetwork {
                dir: dir.to_owned(),
                found: meta.network,
                wanted: network_name(network),
            });
        }
        let mnemonic_path = paths.mnemonic_path();
        if mnemonic_path.symlink_metadata().is_err() {
            return Err(WalletDirError::Missing {
                dir: dir.to_owned(),
                file: mnemonic_path,
            });
        }
        let mnemonic = read_mnemonic_file(&mnemonic_path)?;
        let passphrase = if meta.passphrase {
            read_passphrase_file(&paths.passphrase_path())?
        } else {
            String::new()
        };
        let wallet = Wallet::from_mnemonic(&mnemonic, &passphrase, network)?;
        let derived = wallet.fingerprint().to_string();
        if derived != meta.fingerprint {
            return Err(WalletDirError::Fingerprint {
                dir: dir.to_owned(),
                stored: meta.fingerprint,
                derived,
            });
        }
        Ok(wallet)
    }

    /// The wallet of a mnemonic file alone (no passphrase), for `network`.
    pub fn from_mnemonic_file(path: &Path, network: Network) -> Result<Wallet, WalletDirError> {
        let mnemonic = read_mnemonic_file(path)?;
        Ok(Wallet::from_mnemonic(&mnemonic, "", network)?)
    }
}

/// The text of `file`, or `None` if there is no such file.
pub(super) fn read_if_there(file: &Path) -> Result<Option<String>, WalletDirError> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WalletDirError::Meta {
            file: file.to_owned(),
            reason: e.to_string(),
        }),
    }
}

/// The current time as RFC 3339 UTC, to the second.
fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil-from-days).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;
