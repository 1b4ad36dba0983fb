//! Network names, the BIP86 coin type, and addresses checked against a network.

use bitcoin::address::{Address, NetworkUnchecked};
use bitcoin::Network;

/// Every network the wallet knows, in the order they are listed in messages.
pub const NETWORKS: [Network; 5] = [
    Network::Bitcoin,
    Network::Testnet,
    Network::Testnet4,
    Network::Signet,
    Network::Regtest,
];

/// The names [`parse_network`] accepts, for help texts and messages.
pub const NETWORK_NAMES: &str = "mainnet (or bitcoin, main), testnet (or testnet3), testnet4, \
                                 signet, regtest";

/// A network name that is none of [`NETWORK_NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network {0:?}; use one of: {NETWORK_NAMES}")]
pub struct UnknownNetwork(pub String);

/// An address that does not parse, or belongs to another network.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    /// Not a Bitcoin address at all.
    #[error("{address:?} is not a Bitcoin address: {error}")]
    Parse {
        address: String,
        error: bitcoin::address::ParseError,
    },
    /// A valid address, but for another network.
    #[error("{address} is a {found} address, not one for {wanted}")]
    WrongNetwork {
        address: String,
        /// The networks the address is valid for, e.g. `testnet/testnet4/signet`.
        found: String,
        /// The network that was asked for.
        wanted: &'static str,
    },
}

/// Parses a network name (case-insensitive): `mainnet`|`bitcoin`|`main`, `testnet`|`testnet3`,
/// `testnet4`, `signet`, `regtest`.
///
/// bitcoin 0.32 has [`Network::Testnet4`] (with its own genesis and magic), so it is used as is.
pub fn parse_network(s: &str) -> Result<Network, UnknownNetwork> {
    match s.trim().to_ascii_lowercase().as_str() {
        "mainnet" | "bitcoin" | "main" => Ok(Network::Bitcoin),
        "testnet" | "testnet3" => Ok(Network::Testnet),
        "testnet4" => Ok(Network::Testnet4),
        "signet" => Ok(Network::Signet),
        "regtest" => Ok(Network::Regtest),
        _ => Err(UnknownNetwork(s.to_owned())),
    }
}

/// The name this tool prints and stores for a network (accepted back by [`parse_network`]).
pub fn network_name(network: Network) -> &'static str {
    match network {
        Network::Bitcoin => "mainnet",
        Network::Testnet => "testnet",
        Network::Testnet4 => "testnet4",
        Network::Signet => "signet",
        Network::Regtest => "regtest",
    }
}

/// The BIP44/BIP86 coin type: 0 on mainnet, 1 on every test network.
pub fn coin_type(network: Network) -> u32 {
    match network {
        Network::Bitcoin => 0,
        _ => 1,
    }
}

/// Parses `s` and checks it is an address for `network`.
///
/// Testnet, testnet4 and signet share the `tb1`/`m`/`n`/`2` forms, so an address of one is
/// accepted for the others; regtest has its own `bcrt1` HRP (but shares the base58 forms).
pub fn check_address(s: &str, network: Network) -> Result<Address, AddressError> {
    let s = s.trim();
    let unchecked: Address<NetworkUnchecked> = s.parse().map_err(|error| AddressError::Parse {
        address: s.to_owned(),
        error,
    })?;
    if unchecked.is_valid_for_network(network) {
        return Ok(unchecked.assume_checked());
    }
    let found: Vec<&str> = NETWORKS
        .iter()
        .filter(|n| unchecked.is_valid_for_network(**n))
        .map(|n| network_name(*n))
        .collect();
    Err(AddressError::WrongNetwork {
        address: s.to_owned(),
        found: found.join("/"),
        wanted: network_name(network),
    })
}

#[cfg(test)]
mod tests {
    use bitcoin::Network;

    use super::{check_address, coin_type, network_name, parse_network, AddressError, NETWORKS};

    #[test]
    fn names_parse_and_round_trip() {
        for (name, network) in [
            ("mainnet", Network::Bitcoin),
            ("bitcoin", Network::Bitcoin),
            ("Main", Network::Bitcoin),
            ("testnet", Network::Testnet),
            ("testnet3", Network::Testnet),
            ("testnet4", Network::Testnet4),
            ("signet", Network::Signet),
            ("REGTEST", Network::Regtest),
        ] {
            assert_eq!(parse_network(name), Ok(network), "{name}");
        }
        for network in NETWORKS {
            assert_eq!(parse_network(network_name(network)), Ok(network));
        }
        let err = parse_network("litecoin").unwrap_err().to_string();
        assert!(
            err.contains("\"litecoin\"") && err.contains("testnet4"),
            "{err}"
        );
    }

    #[test]
    fn coin_types() {
        assert_eq!(coin_type(Network::Bitcoin), 0);
        for network in &NETWORKS[1..] {
            assert_eq!(coin_type(*network), 1);
        }
    }

    #[test]
    fn addresses_are_checked_against_the_network() {
        let main = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr";
        assert!(check_address(main, Network::Bitcoin).is_ok());
        let err = check_address(main, Network::Regtest)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("{main} is a mainnet address, not one for regtest")
        );

        // tb1 is shared by testnet, testnet4 and signet.
        let tb = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx";
        for network in [Network::Testnet, Network::Testnet4, Network::Signet] {
            assert!(check_address(tb, network).is_ok());
        }
        let err = check_address(tb, Network::Bitcoin).unwrap_err().to_string();
        assert!(err.contains("testnet/testnet4/signet"), "{err}");
        let err = check_address(tb, Network::Regtest).unwrap_err().to_string();
        assert!(err.contains("not one for regtest"), "{err}");

        let err = check_address("bc1qnotanaddress", Network::Bitcoin).unwrap_err();
        assert!(matches!(err, AddressError::Parse { .. }), "{err}");
    }
}
