//! Lumamesh bootstrap codec: everything a browser or tool needs to reach a relay with no
//! signaling server.
//!
//! - [`RelayIdentity`]: a relay's four identity files (DTLS certificate and key, ICE
//!   password, Ed25519 node key), created with mode 0600 and never overwritten silently.
//! - [`RelayEntry`]: the signed, compact description of a relay (address, port, DTLS
//!   fingerprint, ICE credentials, node key), its binary form and its relay.txt line.
//! - [`static_answer`]: the SDP answer a page applies to open a DataChannel to the relay.
//!
//! This crate does no network I/O. Decoders never panic on any input; every error names the
//! field (and, in relay.txt, the line) it is about.
//!
//! ```
//! use bootstrap_codec::{static_answer, AnswerOptions, IceUfrag, RelayIdentity, RelayTxt};
//!
//! let identity = RelayIdentity::generate().unwrap();
//! let entry = identity.entry("127.0.0.1".parse().unwrap(), 3478.try_into().unwrap(), IceUfrag::default_relay());
//! let relay_txt = format!("# my relay\n{}\n", entry.to_line());
//! let parsed = RelayTxt::parse(&relay_txt);
//! assert!(parsed.errors.is_empty());
//! let sdp = static_answer(&parsed.entries[0].entry, &AnswerOptions::default()).unwrap();
//! assert!(sdp.contains("a=setup:passive"));
//! ```

mod address;
mod entry;
mod fingerprint;
mod ice;
mod identity;
mod node_key;
mod relay_txt;
mod sdp;
mod secret_file;

pub use address::{AddressError, HostName, RelayAddress};
pub use entry::{DecodeError, Field, RelayEntry, UnsignedEntry, ENTRY_VERSION, SIGNATURE_DOMAIN};
pub use fingerprint::{Fingerprint, ParseFingerprintError};
pub use ice::{IceCredentialError, IcePwd, IceUfrag, DEFAULT_UFRAG, GENERATED_PWD_LEN};
pub use identity::{
    IdentityError, IdentityPaths, RelayIdentity, CERT_FILE, ICE_PWD_FILE, KEY_FILE, NODE_KEY_FILE,
};
pub use node_key::{InvalidNodeKey, NodeKey, NodeSecret};
pub use relay_txt::{append_entry, LineEntry, LineError, RelayTxt};
pub use sdp::{static_answer, AnswerError, AnswerOptions, MAX_MESSAGE_SIZE, SCTP_PORT};
pub use secret_file::{write_atomic, write_secret_atomic};
