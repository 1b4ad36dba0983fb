//! The money behind Lumamesh inscriptions: everything that decides what a commit/reveal
//! pair spends, builds and leaves on disk, with no printing and no argument parsing.
//!
//! - [`wallet`]: the BIP39/BIP86 taproot wallet, its directory, networks, descriptors and
//!   the UTXO sources (a JSON file, Bitcoin Core's `listunspent`).
//! - [`reveal`]: commit/reveal transactions as `ord wallet inscribe` builds them, coin
//!   selection, and verification by Bitcoin Core's consensus code and standardness rules.
//! - [`policy`]: fee caps, ord's content limit on test networks, which coins may pay fees
//!   (never one carrying inscriptions or runes, nor an unchecked output of 20,000 sat or
//!   less, whether from a UTXO file or a node).
//! - [`ord_api`]: asking an ord server (`/output/<outpoint>`, JSON) what each UTXO carries.
//! - [`Session`]: a wallet opened for one run; [`Session::finish`] checks the fee cap and
//!   signs and writes the run, the recovery descriptors first ([`recovery_text`]), then each
//!   commit as a PSBT ([`commit_psbt`]), the signed transactions and a [`Summary`].
//! - [`plan_publish`]: a library and relay list, and a page importing the library by id, in
//!   two pairs; [`estimate`]: a reveal's vsize before it is built.
//!
//! Errors are typed: [`Error`] for a run, [`FundingError`] for loading UTXOs, and the
//! wallet's own ([`wallet::WalletDirError`], [`wallet::RpcError`]…). Each says whether the
//! caller can fix it (see [`Error`]). Progress is reported through [`Event`]s to a callback
//! given with [`Session::with_progress`]. Nothing panics on input; the `expect`s that remain
//! state invariants.
//!
//! ```
//! use bitcoin::{Amount, Network, OutPoint, Txid};
//! use bitcoin::hashes::Hash;
//! use onchain::reveal::FeeRate;
//! use onchain::wallet::{Chain, Checked, Utxo, Wallet};
//! use onchain::{Output, Session, Spending, Stage, ContentSummary};
//!
//! let mnemonic = format!("{}about", "abandon ".repeat(11)).parse().unwrap();
//! let wallet = Wallet::from_mnemonic(&mnemonic, "", Network::Regtest).unwrap();
//! let coin = Utxo {
//!     outpoint: OutPoint::new(Txid::from_byte_array([1; 32]), 0),
//!     value: Amount::from_sat(100_000),
//!     script_pubkey: wallet.script_pubkey(Chain::Receive, 0).unwrap(),
//!     inscriptions: vec![],
//!     runes: vec![],
//!     checked: Checked::File,
//! };
//! let spending = Spending::at(FeeRate::from_sat_per_vb(2.0).unwrap());
//! let session = Session::new(wallet, vec![coin], None, spending).unwrap();
//! let content = session
//!     .content("hello.txt", "text/plain;charset=utf-8", b"hello".to_vec(), false)
//!     .unwrap();
//! let prepared = session.prepare(&session.plan(vec![content.inscription.clone()], vec![])).unwrap();
//! let stage = Stage { name: "", prepared, contents: vec![ContentSummary::of(&content)] };
//! let summary = session.finish(vec![stage], Output::DryRun).unwrap();
//! assert_eq!(summary.inscriptions.len(), 1);
//! assert_eq!(summary.total_cost, summary.fees + 10_000);
//! ```

pub mod broadcast;
pub mod estimate;
pub mod ord_api;
pub mod policy;
pub mod reveal;
pub mod wallet;

mod content;
mod error;
mod files;
mod funding;
mod psbt;
mod publish;
mod recovery;
mod run;
mod session;
mod summary;
#[cfg(test)]
mod testing;

pub use content::{Content, ContentError, ContentSummary};
pub use error::Error;
pub use files::{RECOVERY_FILE, SUMMARY_FILE};
pub use funding::{load_funding, FundingError, Node};
pub use ord_api::{OrdError, OrdServer};
pub use policy::{FeeCaps, PolicyError, SetAside};
pub use psbt::commit_psbt;
pub use publish::{plan_publish, stand_in_id, LIBRARY_STAGE, PAGE_SLACK_VB, PAGE_STAGE};
pub use recovery::recovery_text;
pub use run::Output;
pub use session::{Event, Session, Spending};
pub use summary::{FileListing, InscriptionSummary, Stage, Summary, TxSummary};
