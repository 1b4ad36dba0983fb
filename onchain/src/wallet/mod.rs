//! The wallet behind `lumamesh` inscriptions: a BIP39 mnemonic, BIP86 taproot keys
//! (`m/86'/coin'/0'/chain/index`), funding UTXOs from a JSON file, and descriptors for
//! Bitcoin Core.
//!
//! - [`network`]: network names, the coin type, addresses checked against a network.
//! - [`mnemonic`]: creating, reading and safely writing BIP39 mnemonics.
//! - [`keys`]: the [`Wallet`]: addresses, finding its outputs, key-path signing, PSBT origins.
//! - [`descriptor`]: the BIP-380 checksum and ord's `rawtr(WIF)` recovery descriptor.
//! - [`utxos`]: funding UTXOs from JSON (`bitcoin-cli listunspent` output loads as is).
//! - [`rpc`]: the same UTXOs from Bitcoin Core's `listunspent` (JSON-RPC, cookie auth).
//! - [`wallet_dir`]: `DIR/mnemonic`, `DIR/passphrase`, `DIR/wallet.json`.
//! - [`addresses`]: `DIR/addresses.json`, the next unused index of each chain.
//!
//! Secrets are written with mode 0600 by temp file + rename and are never printed or logged
//! by this module; [`Wallet`]'s `Debug` shows no key.

pub mod addresses;
pub mod descriptor;
pub mod keys;
pub mod mnemonic;
pub mod network;
pub mod rpc;
pub mod utxos;
pub mod wallet_dir;

pub use addresses::{NextIndices, ADDRESSES_FILE};
pub use descriptor::{checksum, rawtr_descriptor, with_checksum, DescriptorError};
pub use keys::{Chain, KeyError, SignError, Wallet, DEFAULT_GAP};
pub use network::{check_address, coin_type, network_name, parse_network, AddressError};
pub use rpc::{fetch_listunspent, RpcError};
pub use utxos::{load_utxos, parse_utxos, Checked, EntryError, Utxo, UtxoError};
pub use wallet_dir::{WalletDir, WalletDirError, WalletMeta};
