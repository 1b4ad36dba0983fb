//! Where a run's UTXOs come from: a JSON file, a Bitcoin Core node, or both.

use std::path::Path;

use bitcoin::Network;

use crate::policy::merge_node_utxos;
use crate::wallet::{fetch_listunspent, load_utxos, RpcError, Utxo, UtxoError};

/// A Bitcoin Core node to ask for `listunspent`.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// `http://host:port[/wallet/NAME]`.
    pub url: &'a str,
    /// The node's `.cookie` file.
    pub cookie: &'a Path,
    /// Only outputs with at least this many confirmations.
    pub min_conf: u32,
}

/// Why the funding UTXOs could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FundingError {
    /// The UTXO file is missing or malformed, or lists outputs of another network.
    #[error(transparent)]
    File(UtxoError),
    /// The node could not be asked, or answered with an error.
    #[error(transparent)]
    Node(RpcError),
}

/// The UTXOs of `file` and of `node` together, combined by [`merge_node_utxos`]: the file's
/// word wins, and the node's small outputs never pay fees.
pub fn load_funding(
    file: Option<&Path>,
    node: Option<Node<'_>>,
    network: Network,
) -> Result<Vec<Utxo>, FundingError> {
    let listed = match file {
        Some(path) => load_utxos(path, network).map_err(FundingError::File)?,
        None => Vec::new(),
    };
    let fetched = match node {
        Some(n) => {
            fetch_listunspent(n.url, n.cookie, network, n.min_conf).map_err(FundingError::Node)?
        }
        None => Vec::new(),
    };
    Ok(merge_node_utxos(listed, fetched))
}
