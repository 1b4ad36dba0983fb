//! Integration tests: the content server over a real socket, and Chromium
//! loading fixture pages from it.

mod browser;
mod check;
mod check_firefox;
mod firefox;
mod packets;
mod reveal;
mod server;

use std::path::PathBuf;

use bitcoin::hashes::Hash;
use harness::InscriptionId;

/// `fixtures/pages/<name>`.
pub fn fixture_page(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/pages")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A made-up id whose txid is `n` repeated.
pub fn id(n: u8, index: u32) -> InscriptionId {
    InscriptionId::new(bitcoin::Txid::from_byte_array([n; 32]), index)
}
