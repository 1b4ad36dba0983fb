//! Identity files on disk: modes, refusal to overwrite, and errors that name the file.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

use keystore::{IdentityError, IdentityPaths, RelayIdentity};

#[test]
fn create_load_and_refuse_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let paths = IdentityPaths::in_dir(dir.path().join("relay"));
    let created = RelayIdentity::create(&paths, false).unwrap();
    #[cfg(unix)]
    for p in paths.all() {
        let mode = fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    let loaded = RelayIdentity::load(&paths).unwrap();
    assert_eq!(loaded.fingerprint(), created.fingerprint());
    assert_eq!(loaded.node_key(), created.node_key());
    assert_eq!(loaded.ice_pwd(), created.ice_pwd());
    assert_eq!(loaded.key_pkcs8_der(), created.key_pkcs8_der());

    let before = fs::read(&paths.node_key).unwrap();
    match RelayIdentity::create(&paths, false) {
        Err(IdentityError::Exists(existing)) => assert_eq!(existing.len(), 4),
        other => panic!("{other:?}"),
    }
    assert_eq!(fs::read(&paths.node_key).unwrap(), before);

    let replaced = RelayIdentity::create(&paths, true).unwrap();
    assert_ne!(replaced.node_key(), created.node_key());
    // No temporary files are left behind.
    assert_eq!(
        fs::read_dir(paths.cert.parent().unwrap()).unwrap().count(),
        4
    );
}

#[test]
fn fingerprint_is_sha256_of_der_and_matches_the_pem() {
    let dir = tempfile::tempdir().unwrap();
    let paths = IdentityPaths::in_dir(dir.path());
    let id = RelayIdentity::create(&paths, false).unwrap();
    let pem = fs::read_to_string(&paths.cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(der, id.cert_der());
    let digest = bootstrap_codec::Fingerprint::of_certificate(&der);
    assert_eq!(id.fingerprint(), digest);
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let paths = IdentityPaths::in_dir(dir.path());
    let err = RelayIdentity::load(&paths).unwrap_err();
    assert!(matches!(err, IdentityError::Missing { .. }));
    assert!(err.to_string().contains("server.crt"), "{err}");

    RelayIdentity::create(&paths, false).unwrap();
    fs::write(
        &paths.node_key,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = RelayIdentity::load(&paths).unwrap_err();
    assert!(err.to_string().contains("node.key"), "{err}");

    RelayIdentity::create(&paths, true).unwrap();
    fs::write(&paths.ice_pwd, "short\n").unwrap();
    let err = RelayIdentity::load(&paths).unwrap_err();
    assert!(err.to_string().contains("server.key.icepwd"), "{err}");

    RelayIdentity::create(&paths, true).unwrap();
    fs::write(&paths.cert, "not pem").unwrap();
    let err = RelayIdentity::load(&paths).unwrap_err();
    assert!(err.to_string().contains("server.crt"), "{err}");

    // A key from another identity does not belong to this certificate.
    let other = tempfile::tempdir().unwrap();
    let other_paths = IdentityPaths::in_dir(other.path());
    RelayIdentity::create(&other_paths, false).unwrap();
    RelayIdentity::create(&paths, true).unwrap();
    fs::copy(&other_paths.key, &paths.key).unwrap();
    let err = RelayIdentity::load(&paths).unwrap_err();
    assert!(err.to_string().contains("server.key"), "{err}");
    assert!(err.to_string().contains("does not belong"), "{err}");
}

#[test]
fn load_or_create_fills_in_only_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let paths = IdentityPaths::in_dir(dir.path());
    let (first, created) = RelayIdentity::load_or_create(&paths).unwrap();
    assert_eq!(created.len(), 4);
    let (again, created) = RelayIdentity::load_or_create(&paths).unwrap();
    assert!(created.is_empty());
    assert_eq!(again.node_key(), first.node_key());

    fs::remove_file(&paths.ice_pwd).unwrap();
    let (third, created) = RelayIdentity::load_or_create(&paths).unwrap();
    assert_eq!(created, vec![paths.ice_pwd.clone()]);
    assert_eq!(third.ice_pwd(), first.ice_pwd());
    assert_eq!(third.fingerprint(), first.fingerprint());

    fs::remove_file(&paths.key).unwrap();
    let err = RelayIdentity::load_or_create(&paths).unwrap_err();
    assert!(err.to_string().contains("server.key"), "{err}");
}

#[test]
fn the_ice_password_sits_beside_the_key_wherever_it_is() {
    let paths = IdentityPaths::beside_key("a/c.pem".into(), "b/k.pem".into(), "n".into());
    assert_eq!(paths.ice_pwd, std::path::Path::new("b/k.pem.icepwd"));
    assert_eq!(
        IdentityPaths::in_dir("d").ice_pwd,
        IdentityPaths::beside_key(
            "d/server.crt".into(),
            "d/server.key".into(),
            "d/node.key".into()
        )
        .ice_pwd
    );
}
