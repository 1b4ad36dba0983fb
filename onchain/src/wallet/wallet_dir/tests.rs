//! Wallet directories: created, opened, restored, and refused when the files disagree.

use std::path::Path;

use bip39::Mnemonic;
use bitcoin::Network;

use super::{rfc3339, WalletDir, WalletDirError};
use crate::wallet::keys::Wallet;
use crate::wallet::mnemonic::read_mnemonic_file;

fn abandon() -> Mnemonic {
    format!("{}about", "abandon ".repeat(11)).parse().unwrap()
}

#[test]
fn rfc3339_dates() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
    assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
}

#[cfg(unix)]
#[test]
fn create_open_and_refuse() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    let (created, mnemonic) = Wallet::create(&dir, Network::Regtest, 24, false).unwrap();
    assert_eq!(mnemonic.word_count(), 24);
    let paths = WalletDir::new(&dir);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&paths.mnemonic_path()), 0o600);
    assert_eq!(mode(&dir), 0o700);
    let meta_text = std::fs::read_to_string(paths.meta_path()).unwrap();
    assert!(!meta_text.contains(&mnemonic.to_string()));
    let meta = paths.read_meta().unwrap();
    assert_eq!(meta.network, "regtest");
    assert_eq!(meta.fingerprint, created.fingerprint().to_string());
    assert!(!meta.passphrase && !paths.passphrase_path().exists());

    let opened = Wallet::open(&dir, Network::Regtest).unwrap();
    assert_eq!(
        opened.receive_address(0).unwrap(),
        created.receive_address(0).unwrap()
    );

    let err = Wallet::open(&dir, Network::Bitcoin).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the wallet in {} is for regtest, not mainnet",
            dir.display()
        )
    );
    // Testnet and testnet4 share addresses but are still different networks.
    assert!(matches!(
        Wallet::open(&dir, Network::Testnet4),
        Err(WalletDirError::WrongNetwork { .. })
    ));

    let err = Wallet::create(&dir, Network::Regtest, 12, false).unwrap_err();
    assert!(matches!(err, WalletDirError::Exists { .. }), "{err}");
    assert_eq!(
        read_mnemonic_file(&paths.mnemonic_path()).unwrap(),
        mnemonic
    );

    let missing = Wallet::open(&tmp.path().join("none"), Network::Regtest).unwrap_err();
    assert!(
        matches!(missing, WalletDirError::Missing { .. }),
        "{missing}"
    );
}

#[test]
fn restore_with_passphrase_and_detect_mixed_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let with = Wallet::restore(dir, Network::Signet, &abandon(), "TREZOR", false).unwrap();
    let paths = WalletDir::new(dir);
    assert_eq!(
        std::fs::read_to_string(paths.passphrase_path()).unwrap(),
        "TREZOR"
    );
    assert!(paths.read_meta().unwrap().passphrase);
    let opened = Wallet::open(dir, Network::Signet).unwrap();
    assert_eq!(opened.fingerprint(), with.fingerprint());

    // The passphrase changed behind the wallet's back: refused, not a silently empty wallet.
    std::fs::write(paths.passphrase_path(), "other").unwrap();
    let err = Wallet::open(dir, Network::Signet).unwrap_err();
    assert!(matches!(err, WalletDirError::Fingerprint { .. }), "{err}");

    // Forced restore without a passphrase removes the old passphrase file.
    Wallet::restore(dir, Network::Signet, &abandon(), "", true).unwrap();
    assert!(!paths.passphrase_path().exists());
    let plain = Wallet::open(dir, Network::Signet).unwrap();
    assert_eq!(plain.fingerprint().to_string(), "73c5da0a");

    let file = Wallet::from_mnemonic_file(&paths.mnemonic_path(), Network::Bitcoin).unwrap();
    assert_eq!(
        file.receive_address(0).unwrap().to_string(),
        "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"
    );
}

#[test]
fn malformed_wallet_json_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    Wallet::restore(dir, Network::Regtest, &abandon(), "", false).unwrap();
    let paths = WalletDir::new(dir);
    std::fs::write(paths.meta_path(), "{").unwrap();
    let err = Wallet::open(dir, Network::Regtest).unwrap_err().to_string();
    assert!(
        err.starts_with(&paths.meta_path().display().to_string()),
        "{err}"
    );
    std::fs::write(
        paths.meta_path(),
        r#"{"format":1,"network":"dogecoin","created_at":"","fingerprint":"","passphrase":false}"#,
    )
    .unwrap();
    let err = Wallet::open(dir, Network::Regtest).unwrap_err().to_string();
    assert!(err.contains("unknown network \"dogecoin\""), "{err}");
}
