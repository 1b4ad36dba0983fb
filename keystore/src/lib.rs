//! Lumamesh files on disk, in one place for the relay and the `lumamesh` command.
//!
//! - [`RelayIdentity`]: a relay's four identity files (DTLS certificate and key, ICE
//!   password, Ed25519 node key), created with mode 0600 and never overwritten silently.
//! - [`write_secret_atomic`] and [`write_atomic`]: one file written all-or-nothing (a
//!   temporary file beside the target, synced, renamed over it), secrets with mode 0600 in
//!   directories created 0700.
//!
//! The formats themselves (entries, relay.txt, SDP) are `bootstrap-codec`'s, which does no
//! I/O. Identity errors name the file they are about; the writes return the bare
//! `io::Error` for the caller to name the file in its own words.
//!
//! ```
//! use bootstrap_codec::{IceUfrag, RelayEntry};
//! use keystore::{IdentityPaths, RelayIdentity};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let paths = IdentityPaths::in_dir(dir.path());
//! let identity = RelayIdentity::create(&paths, false).unwrap();
//! assert_eq!(RelayIdentity::load(&paths).unwrap().fingerprint(), identity.fingerprint());
//! assert!(RelayIdentity::create(&paths, false).is_err()); // never overwritten silently
//! let entry = identity.entry("127.0.0.1".parse().unwrap(), 3478.try_into().unwrap(), IceUfrag::default_relay());
//! assert_eq!(RelayEntry::decode(&entry.to_bytes()).unwrap(), entry); // signed by the node key
//! ```

mod atomic;
mod identity;

pub use atomic::{write_atomic, write_secret_atomic};
pub use identity::{
    IdentityError, IdentityPaths, RelayIdentity, CERT_FILE, ICE_PWD_FILE, KEY_FILE, NODE_KEY_FILE,
};
