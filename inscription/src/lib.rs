//! ord's inscription rules, byte for byte as ord applies them: envelopes, ids, curses,
//! ord's brotli, its media table, and reading a reveal transaction.
//!
//! An inscription lives in the tapscript of a reveal input:
//! `OP_FALSE OP_IF "ord" (<tag> <value>)* [OP_0 <body pushes>] OP_ENDIF`.
//! [`Inscription`] holds the fields and writes the envelope; [`Envelope::from_transaction`]
//! reads every envelope of a transaction back, with the flags ord turns into curses;
//! [`Reveal`] is a transaction read that way, with ids, and [`parse_transaction`] reads
//! one from hex or raw bytes. [`compress_brotli_for`] is ord's `--compress`, with the
//! encoder mode from ord's media table ([`BrotliMode`], [`content_type_for_extension`]).
//!
//! ```
//! use inscription::{Envelope, Inscription};
//!
//! let hello = Inscription::new("text/plain;charset=utf-8", b"Hello, world!".to_vec());
//! let script = hello.envelope_script();
//! // The known-good hex from ord's own tests.
//! assert_eq!(
//!     script.to_hex_string(),
//!     "0063036f7264010118746578742f706c61696e3b636861727365743d7574662d38000d48656c6c6f2c20776f726c642168"
//! );
//! let envelopes = Envelope::from_tapscript(&script, 0).unwrap();
//! assert_eq!(envelopes[0].inscription, hello);
//! ```
//!
//! The crate does no I/O. Errors are typed per concept ([`RevealError`], [`ScriptError`],
//! [`ParseIdError`], [`CompressError`]); nothing panics on malformed input.

mod compress;
mod curse;
mod envelope;
mod id;
mod inscription;
mod media;
mod metadata;
mod reveal;
mod tag;

pub use compress::{
    compress_brotli, compress_brotli_for, decompress_brotli, decompress_brotli_limited,
    CompressError, Compressed, MAX_DECOMPRESSED,
};
pub use curse::{jubilee_height, Curse};
pub use envelope::{Envelope, ScriptError};
pub use id::{InscriptionId, ParseIdError};
pub use inscription::Inscription;
pub use media::{content_type_for_extension, supported_extensions, BrotliMode, Media};
pub use metadata::{metadata_from_cbor, metadata_from_json, MetadataError};
pub use reveal::{parse_transaction, Reveal, RevealError};
pub use tag::Tag;

/// The protocol marker pushed right after `OP_FALSE OP_IF`.
pub const PROTOCOL_ID: [u8; 3] = *b"ord";

/// Largest data push a tapscript allows (MAX_SCRIPT_ELEMENT_SIZE); bodies and chunked
/// fields are split into pushes of at most this many bytes.
pub const MAX_PUSH: usize = 520;
