//! Where a run's UTXOs come from: a JSON file, a Bitcoin Core node, or both, each output
//! then checked with an ord server if one is given.

use std::path::Path;

use bitcoin::Network;

use crate::ord_api::{OrdError, OrdServer};
use crate::policy::merge_node_utxos;
use crate::wallet::rpc::{Reach, Rpc};
use crate::wallet::{load_utxos, RpcError, Utxo, UtxoError};

/// A Bitcoin Core node to ask for `listunspent`.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// `http://host:port[/wallet/NAME]`.
    pub url: &'a str,
    /// The node's `.cookie` file.
    pub cookie: &'a Path,
    /// Only outputs with at least this many confirmations.
    pub min_conf: u32,
    /// Whether the cookie may go to a node that is not on this machine.
    pub reach: Reach,
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
    /// The ord server could not be asked, or contradicts the list.
    #[error(transparent)]
    Ord(OrdError),
}

/// The UTXOs of `file` and of `node` together (a node whose chain is not `network`'s is
/// refused before it is asked for outputs), combined by [`merge_node_utxos`] (the file's
/// word wins), then each checked with `ord` if given ([`OrdServer::check`]). Which of them
/// may pay fees is [`crate::policy::may_pay_fees`]'s to say.
pub fn load_funding(
    file: Option<&Path>,
    node: Option<Node<'_>>,
    ord: Option<OrdServer<'_>>,
    network: Network,
) -> Result<Vec<Utxo>, FundingError> {
    let listed = match file {
        Some(path) => load_utxos(path, network).map_err(FundingError::File)?,
        None => Vec::new(),
    };
    let fetched = match node {
        Some(n) => {
            let rpc = Rpc::new(n.url, n.cookie, n.reach).map_err(FundingError::Node)?;
            // Testnet, testnet4 and signet share `tb1` addresses: only the node's own word
            // tells their outputs apart.
            rpc.check_chain(network).map_err(FundingError::Node)?;
            rpc.listunspent(network, n.min_conf)
                .map_err(FundingError::Node)?
        }
        None => Vec::new(),
    };
    let merged = merge_node_utxos(listed, fetched);
    match ord {
        Some(ord) => ord.check(merged).map_err(FundingError::Ord),
        None => Ok(merged),
    }
}

#[cfg(test)]
mod tests {
    use bitcoin::{Amount, Network};

    use super::{load_funding, FundingError, Node, Reach};
    use crate::policy::{fee_coins, set_aside, AsideReason};
    use crate::testing::wallet;
    use crate::wallet::rpc::tests::cookie;
    use crate::wallet::{Chain, Checked, RpcError, UtxoError};
    use fixtures::rpc::{chain_reply, serve};

    fn txid(n: u8) -> String {
        format!("{n:02x}").repeat(32)
    }

    #[test]
    fn a_file_and_a_node_together_the_file_first_and_small_node_outputs_kept_from_fees() {
        let tmp = tempfile::tempdir().unwrap();
        let address = wallet().receive_address(0).unwrap().to_string();
        let spk = wallet()
            .script_pubkey(Chain::Receive, 0)
            .unwrap()
            .to_hex_string();
        let parent = format!("{}i0", txid(9));
        let file = tmp.path().join("utxos.json");
        let listed = serde_json::json!([
            {"txid": txid(1), "vout": 0, "value": 10_000, "address": address,
             "inscriptions": [parent]},
        ]);
        std::fs::write(&file, listed.to_string()).unwrap();
        let entry = |n: u8, btc: &str| {
            format!(
                r#"{{"txid":"{}","vout":0,"address":"{address}","scriptPubKey":"{spk}","amount":{btc},"confirmations":6,"spendable":true,"solvable":true,"safe":true}}"#,
                txid(n)
            )
        };
        let result = format!(
            r#"{{"result":[{},{},{}],"error":null,"id":"lumamesh"}}"#,
            entry(1, "0.00010000"),
            entry(2, "0.00020000"),
            entry(3, "0.00020001")
        );
        let (url, server) = serve(
            vec![("200 OK", chain_reply("regtest")), ("200 OK", result)],
            false,
        );
        let node = Node {
            url: &url,
            cookie: &cookie(tmp.path()),
            min_conf: 1,
            reach: Reach::LoopbackOnly,
        };
        let utxos = load_funding(Some(&file), Some(node), None, Network::Regtest).unwrap();
        server.join().unwrap();
        assert_eq!(
            utxos.len(),
            3,
            "the node's copy of the listed output is dropped"
        );
        assert_eq!(utxos[0].inscriptions, [parent]);
        assert_eq!(utxos[0].checked, Checked::File);
        assert!(utxos[1].inscriptions.is_empty() && utxos[2].inscriptions.is_empty());
        assert_eq!(utxos[1].checked, Checked::No);
        let coins = fee_coins(&utxos);
        assert_eq!(coins.len(), 1);
        assert_eq!(coins[0].txout.value, Amount::from_sat(20_001));
        let aside = set_aside(&utxos);
        assert_eq!(aside.len(), 2);
        assert_eq!(aside[1].reason, AsideReason::Unchecked);
        assert_eq!(aside[1].value, Amount::from_sat(20_000));
    }

    #[test]
    fn a_bad_file_or_node_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("none.json");
        let err = load_funding(Some(&missing), None, None, Network::Regtest).unwrap_err();
        assert!(
            matches!(err, FundingError::File(UtxoError::Read { .. })),
            "{err}"
        );
        let truncated = tmp.path().join("cut.json");
        std::fs::write(&truncated, r#"[{"txid": "#).unwrap();
        let err = load_funding(Some(&truncated), None, None, Network::Regtest).unwrap_err();
        assert!(matches!(err, FundingError::File(_)), "{err}");
        let node = Node {
            url: "ftp://127.0.0.1:1",
            cookie: &missing,
            min_conf: 1,
            reach: Reach::LoopbackOnly,
        };
        let err = load_funding(None, Some(node), None, Network::Regtest).unwrap_err();
        assert!(
            matches!(err, FundingError::Node(RpcError::Url { .. })),
            "{err}"
        );
        assert!(load_funding(None, None, None, Network::Regtest)
            .unwrap()
            .is_empty());
    }

    /// A testnet node's outputs have the same `tb1` addresses as signet's: without asking
    /// the node which chain it follows, a signet run would take them as its own.
    #[test]
    fn a_node_on_another_chain_is_refused_before_its_outputs_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        for chain in ["test", "testnet4", "main"] {
            // One reply only: the node is asked which chain it follows, and nothing else.
            let (url, server) = serve(vec![("200 OK", chain_reply(chain))], false);
            let node = Node {
                url: &url,
                cookie: &cookie(tmp.path()),
                min_conf: 1,
                reach: Reach::LoopbackOnly,
            };
            let err = load_funding(None, Some(node), None, Network::Signet).unwrap_err();
            assert!(
                matches!(&err, FundingError::Node(RpcError::WrongChain { chain: c, .. }) if c == chain),
                "{chain}: {err}"
            );
            assert!(err.to_string().contains("signet"), "{err}");
            let asked = server.join().unwrap();
            assert!(asked[0].body.contains("\"getblockchaininfo\""), "{chain}");
        }
    }
}
