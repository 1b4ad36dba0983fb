//! Lumamesh bootstrap codec: everything a browser or tool needs to reach a relay with no
//! signaling server.
//!
//! - [`NodeSecret`] / [`NodeKey`]: the relay's Ed25519 node key, which signs its entry.
//! - [`RelayEntry`]: the signed, compact description of a relay (address, port, DTLS
//!   fingerprint, ICE credentials, node key), its binary form and its relay.txt line.
//! - [`static_answer`]: the SDP answer a page applies to open a DataChannel to the relay.
//!
//! This crate does no I/O: no files, no network (a relay's identity files are the
//! `keystore` crate's). Decoders never panic on any input; every error names the
//! field (and, in relay.txt, the line) it is about.
//!
//! ```
//! use bootstrap_codec::{
//!     static_answer, AnswerOptions, Fingerprint, IcePwd, IceUfrag, NodeSecret, RelayTxt,
//!     UnsignedEntry,
//! };
//!
//! let node = NodeSecret::from_seed(&[7; 32]);
//! let fingerprint = Fingerprint::of_certificate(b"the relay's DTLS certificate, DER");
//! let entry = UnsignedEntry {
//!     address: "127.0.0.1".parse().unwrap(),
//!     port: 3478.try_into().unwrap(),
//!     pwd: IcePwd::derived(&node.public(), &fingerprint),
//!     fingerprint,
//!     ufrag: IceUfrag::default_relay(),
//! }
//! .sign(&node);
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
mod node_key;
mod relay_txt;
mod sdp;

pub use address::{AddressError, HostName, RelayAddress};
pub use entry::{DecodeError, Field, RelayEntry, UnsignedEntry, ENTRY_VERSION, SIGNATURE_DOMAIN};
pub use fingerprint::{Fingerprint, ParseFingerprintError};
pub use ice::{IceCredentialError, IcePwd, IceUfrag, DEFAULT_UFRAG, GENERATED_PWD_LEN};
pub use node_key::{InvalidNodeKey, NodeKey, NodeSecret};
pub use relay_txt::{append_entry, LineEntry, LineError, RelayTxt};
pub use sdp::{static_answer, AnswerError, AnswerOptions, MAX_MESSAGE_SIZE, SCTP_PORT};
