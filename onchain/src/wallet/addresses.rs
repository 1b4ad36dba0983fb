//! Which addresses of a wallet are taken: `DIR/addresses.json` holds the next unused index of
//! each chain, so funding addresses, inscriptions and change never share an address.
//!
//! Receive indices are handed out to `lumamesh wallet address` (funding) and to the
//! inscriptions of written runs; change indices to the change of written runs. The file only
//! ever moves forward ([`WalletDir::record_used`] keeps the larger index of each chain), is
//! written atomically, and is public data (mode as the umask allows). A wallet without one
//! starts at index 0 of both chains; runs never default an inscription to receive/0, the
//! address every version of the wallet showed first for funding.

use std::path::PathBuf;

use super::keys::Chain;
use super::wallet_dir::{read_if_there, WalletDir, WalletDirError};

/// The name of the file in the wallet directory.
pub const ADDRESSES_FILE: &str = "addresses.json";

/// The version of `addresses.json` this code writes and reads.
pub const ADDRESSES_FORMAT: u32 = 1;

/// The next unused index of each chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NextIndices {
    /// The next receive index (funding addresses and inscriptions).
    pub receive: u32,
    /// The next change index.
    pub change: u32,
}

impl NextIndices {
    /// The next index of `chain`.
    pub fn of(&self, chain: Chain) -> u32 {
        match chain {
            Chain::Receive => self.receive,
            Chain::Change => self.change,
        }
    }

    /// The larger index of each chain.
    pub fn max(self, other: NextIndices) -> NextIndices {
        NextIndices {
            receive: self.receive.max(other.receive),
            change: self.change.max(other.change),
        }
    }

    /// Past `count` more indices of `chain` from its next one (saturating at 2^31).
    pub fn after(self, chain: Chain, count: u32) -> NextIndices {
        let moved = self.of(chain).saturating_add(count).min(1 << 31);
        match chain {
            Chain::Receive => NextIndices {
                receive: moved,
                ..self
            },
            Chain::Change => NextIndices {
                change: moved,
                ..self
            },
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct AddressesFile {
    format: u32,
    next: NextIndices,
}

impl WalletDir {
    /// `DIR/addresses.json`.
    pub fn addresses_path(&self) -> PathBuf {
        self.dir().join(ADDRESSES_FILE)
    }

    /// The next unused indices the directory records (index 0 of both chains without a file).
    pub fn next_indices(&self) -> Result<NextIndices, WalletDirError> {
        let file = self.addresses_path();
        let Some(text) = read_if_there(&file)? else {
            return Ok(NextIndices::default());
        };
        let parsed: AddressesFile =
            serde_json::from_str(&text).map_err(|e| WalletDirError::Meta {
                file: file.clone(),
                reason: e.to_string(),
            })?;
        if parsed.format != ADDRESSES_FORMAT {
            return Err(WalletDirError::Meta {
                file,
                reason: format!(
                    "format {} is not supported (this lumamesh reads {ADDRESSES_FORMAT})",
                    parsed.format
                ),
            });
        }
        Ok(parsed.next)
    }

    /// Records that every index below `used` is taken: the file keeps the larger index of
    /// each chain, so it never moves back. Written atomically.
    pub fn record_used(&self, used: NextIndices) -> Result<NextIndices, WalletDirError> {
        let next = self.next_indices()?.max(used);
        let file = self.addresses_path();
        let json = serde_json::to_string_pretty(&AddressesFile {
            format: ADDRESSES_FORMAT,
            next,
        })
        // Two integers under fixed keys: serializing cannot fail.
        .expect("plain struct")
            + "\n";
        keystore::write_atomic(&file, json.as_bytes())
            .map_err(|error| WalletDirError::Write { file, error })?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::{NextIndices, ADDRESSES_FILE};
    use crate::wallet::{Chain, WalletDir, WalletDirError};

    #[test]
    fn a_missing_file_starts_at_zero_and_the_file_never_moves_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = WalletDir::new(tmp.path());
        assert_eq!(dir.next_indices().unwrap(), NextIndices::default());
        let first = NextIndices {
            receive: 3,
            change: 1,
        };
        assert_eq!(dir.record_used(first).unwrap(), first);
        let older = NextIndices {
            receive: 1,
            change: 2,
        };
        let merged = dir.record_used(older).unwrap();
        assert_eq!(
            merged,
            NextIndices {
                receive: 3,
                change: 2
            }
        );
        assert_eq!(dir.next_indices().unwrap(), merged);
        assert_eq!(merged.after(Chain::Receive, 2).receive, 5);
        assert_eq!(merged.after(Chain::Change, u32::MAX).change, 1 << 31);
    }

    #[test]
    fn a_garbage_or_newer_file_is_named_and_not_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = WalletDir::new(tmp.path());
        for text in ["{", r#"{"format": 2, "next": {"receive": 0, "change": 0}}"#] {
            std::fs::write(tmp.path().join(ADDRESSES_FILE), text).unwrap();
            let err = dir.next_indices().unwrap_err();
            assert!(matches!(err, WalletDirError::Meta { .. }), "{err}");
            assert!(err.to_string().contains(ADDRESSES_FILE), "{err}");
            assert!(dir.record_used(NextIndices::default()).is_err());
            assert_eq!(
                std::fs::read_to_string(tmp.path().join(ADDRESSES_FILE)).unwrap(),
                text
            );
        }
    }
}
