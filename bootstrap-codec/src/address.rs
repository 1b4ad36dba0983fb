//! Where a relay listens: an IP address or a DNS host name.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A relay's public address. Only addresses a browser can send unicast UDP to exist:
/// unspecified, multicast, broadcast and IPv4-mapped IPv6 addresses are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RelayAddress {
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address (never IPv4-mapped: those are written as [`RelayAddress::V4`]).
    V6(Ipv6Addr),
    /// A DNS host name the browser resolves itself.
    Host(HostName),
}

/// A lower-case DNS host name: dot-separated labels of `[a-z0-9-]`, 1–63 characters each,
/// not starting or ending with `-`, at most 253 characters, last label not all digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostName(String);

/// Why an address cannot be a relay address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// `0.0.0.0` or `::`.
    #[error("{0} is the unspecified address; give the address browsers reach the relay at")]
    Unspecified(IpAddr),
    /// A multicast group.
    #[error("{0} is a multicast address")]
    Multicast(IpAddr),
    /// `255.255.255.255`.
    #[error("{0} is the broadcast address")]
    Broadcast(IpAddr),
    /// `::ffff:a.b.c.d`.
    #[error("{0} is an IPv4-mapped IPv6 address; write it as IPv4")]
    V4Mapped(Ipv6Addr),
    /// Not a valid DNS name.
    #[error("{0:?} is not a DNS host name (labels of a-z 0-9 -, at most 253 characters)")]
    HostName(String),
}

impl RelayAddress {
    /// Validates an IP address.
    pub fn from_ip(ip: IpAddr) -> Result<Self, AddressError> {
        if ip.is_unspecified() {
            return Err(AddressError::Unspecified(ip));
        }
        if ip.is_multicast() {
            return Err(AddressError::Multicast(ip));
        }
        match ip {
            IpAddr::V4(v4) if v4.is_broadcast() => Err(AddressError::Broadcast(ip)),
            IpAddr::V4(v4) => Ok(RelayAddress::V4(v4)),
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => Err(AddressError::V4Mapped(v6)),
            IpAddr::V6(v6) => Ok(RelayAddress::V6(v6)),
        }
    }

    /// The IP address, unless this is a host name.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            RelayAddress::V4(v4) => Some(IpAddr::V4(*v4)),
            RelayAddress::V6(v6) => Some(IpAddr::V6(*v6)),
            RelayAddress::Host(_) => None,
        }
    }
}

impl fmt::Display for RelayAddress {
    /// IPv4 and host names as they are; IPv6 in brackets, as in a URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelayAddress::V4(v4) => write!(f, "{v4}"),
            RelayAddress::V6(v6) => write!(f, "[{v6}]"),
            RelayAddress::Host(h) => write!(f, "{h}"),
        }
    }
}

impl FromStr for RelayAddress {
    type Err = AddressError;

    /// Parses an IP address (IPv6 with or without brackets) or else a host name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unbracketed = s
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(s);
        match unbracketed.parse::<IpAddr>() {
            Ok(ip) => RelayAddress::from_ip(ip),
            Err(_) => HostName::new(s).map(RelayAddress::Host),
        }
    }
}

impl serde::Serialize for RelayAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RelayAddress::V4(v4) => s.collect_str(v4),
            RelayAddress::V6(v6) => s.collect_str(v6),
            RelayAddress::Host(h) => s.serialize_str(h.as_str()),
        }
    }
}

impl HostName {
    /// Longest host name, in characters.
    pub const MAX_LEN: usize = 253;

    /// What browsers do with a host-name candidate in a static answer, as tested
    /// (docs/relay-txt.md, "Host names"). Tools print it whenever they publish a host-name
    /// entry, because a page whose only relays are host names cannot connect in Firefox.
    pub const BROWSER_SUPPORT: &'static str = "Firefox cannot reach a relay by host name \
        (Firefox ESR 153 drops host-name candidates); Chromium resolves them. \
        Publish an IP entry for this relay too";

    /// Validates a host name. Upper-case letters are refused (not folded) so that every
    /// name has exactly one encoding; [`HostName::parse_lenient`] folds them.
    pub fn new(s: &str) -> Result<Self, AddressError> {
        let err = || AddressError::HostName(s.to_owned());
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(err());
        }
        let mut last = "";
        for label in s.split('.') {
            let ok = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(err());
            }
            last = label;
        }
        if last.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        Ok(HostName(s.to_owned()))
    }

    /// Like [`HostName::new`], after folding ASCII upper case to lower case.
    pub fn parse_lenient(s: &str) -> Result<Self, AddressError> {
        Self::new(&s.to_ascii_lowercase())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_rules() {
        assert!("127.0.0.1".parse::<RelayAddress>().is_ok());
        assert!("::1".parse::<RelayAddress>().is_ok());
        assert!("[2001:db8::1]".parse::<RelayAddress>().is_ok());
        assert!(matches!(
            "0.0.0.0".parse::<RelayAddress>(),
            Err(AddressError::Unspecified(_))
        ));
        assert!(matches!(
            "::".parse::<RelayAddress>(),
            Err(AddressError::Unspecified(_))
        ));
        assert!(matches!(
            "224.0.0.1".parse::<RelayAddress>(),
            Err(AddressError::Multicast(_))
        ));
        assert!(matches!(
            "ff02::1".parse::<RelayAddress>(),
            Err(AddressError::Multicast(_))
        ));
        assert!(matches!(
            "255.255.255.255".parse::<RelayAddress>(),
            Err(AddressError::Broadcast(_))
        ));
        assert!(matches!(
            "::ffff:1.2.3.4".parse::<RelayAddress>(),
            Err(AddressError::V4Mapped(_))
        ));
    }

    #[test]
    fn host_rules() {
        assert!(HostName::new("relay.example.org").is_ok());
        assert!(HostName::new("localhost").is_ok());
        assert!(HostName::new("a-b.c1").is_ok());
        for bad in [
            "",
            "Relay.org",
            "-a.org",
            "a-.org",
            "a..org",
            "a.org.",
            "a_b.org",
            "1.2.3",
        ] {
            assert!(HostName::new(bad).is_err(), "{bad}");
        }
        assert!(HostName::new(&"a".repeat(64)).is_err());
        let long = vec!["a".repeat(63); 4].join(".");
        assert_eq!(long.len(), 255);
        assert!(HostName::new(&long).is_err());
        assert_eq!(
            HostName::parse_lenient("Relay.Example.ORG")
                .unwrap()
                .as_str(),
            "relay.example.org"
        );
    }

    #[test]
    fn display() {
        assert_eq!("::1".parse::<RelayAddress>().unwrap().to_string(), "[::1]");
        assert_eq!(
            "10.0.0.1".parse::<RelayAddress>().unwrap().to_string(),
            "10.0.0.1"
        );
    }
}
