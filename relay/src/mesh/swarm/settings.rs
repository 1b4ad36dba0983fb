//! The operator's `MESH_*` settings, parsed: where to listen, whom to dial, the salt's key.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use libp2p::pnet::PreSharedKey;
use sha2::{Digest, Sha256};

use super::throttle::InboundLimit;
use super::MeshError;

/// Domain separation of the salt → pre-shared key derivation (docs/federation.md).
const SALT_DOMAIN: &[u8] = b"lumamesh/mesh-salt/v1\0";

/// What one mesh connection may read in production: 1 MiB/s after a first 1 MiB
/// (docs/federation.md "Flood limits" says why).
const INBOUND_LIMIT: InboundLimit = InboundLimit {
    bytes_per_sec: 1 << 20,
    burst: 1 << 20,
};

/// A `host:port` pair as operators write it: `10.0.0.2:4001`, `[2001:db8::1]:4001` or
/// `relay-b.example:4001`. Host names are resolved when dialled, so a peer whose name does
/// not resolve yet (a container still starting) is simply retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    host: Host,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(String),
}

/// Why a string is not `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostPortError {
    /// No `:port` at the end.
    #[error("`{0}` has no :port (expected host:port)")]
    NoPort(String),
    /// The port is not a number from 0 to 65535.
    #[error("`{0}` has no valid port (expected host:port, port 0..=65535)")]
    BadPort(String),
    /// The host is empty or not a valid host name or IP address.
    #[error("`{0}` has no valid host (expected an IP address or a DNS name before :port)")]
    BadHost(String),
}

impl HostPort {
    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The socket address, if the host is an IP address (no resolution needed).
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match &self.host {
            Host::Ip(ip) => Some(SocketAddr::new(*ip, self.port)),
            Host::Name(_) => None,
        }
    }

    /// The same host with another port.
    pub fn with_port(&self, port: u16) -> Self {
        Self {
            host: self.host.clone(),
            port,
        }
    }
}

impl From<SocketAddr> for HostPort {
    fn from(addr: SocketAddr) -> Self {
        Self {
            host: Host::Ip(addr.ip()),
            port: addr.port(),
        }
    }
}

impl FromStr for HostPort {
    type Err = HostPortError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(addr.into());
        }
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| HostPortError::NoPort(s.to_owned()))?;
        let port = port
            .parse::<u16>()
            .map_err(|_| HostPortError::BadPort(s.to_owned()))?;
        if let Ok(ip) = host.parse::<IpAddr>() {
            // An IPv6 address must be bracketed, which SocketAddr parsing accepted above.
            return match ip {
                IpAddr::V4(_) => Ok(Self {
                    host: Host::Ip(ip),
                    port,
                }),
                IpAddr::V6(_) => Err(HostPortError::BadHost(s.to_owned())),
            };
        }
        if !is_dns_name(host) {
            return Err(HostPortError::BadHost(s.to_owned()));
        }
        Ok(Self {
            host: Host::Name(host.to_ascii_lowercase()),
            port,
        })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(ip) => SocketAddr::new(*ip, self.port).fmt(f),
            Host::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

/// Letters, digits and hyphens in dot-separated labels of 1..=63 bytes, at most 253 in all.
fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `MESH_SALT`: relays with the same salt form one federation. Its `Debug` hides the value;
/// it is never printed.
#[derive(Clone, Default)]
pub struct MeshSalt(String);

impl MeshSalt {
    /// Wraps the operator's salt (any string; the empty salt is a valid salt).
    pub fn new(salt: impl Into<String>) -> Self {
        Self(salt.into())
    }

    /// The libp2p pnet key: SHA-256(`lumamesh/mesh-salt/v1\0` ‖ salt).
    pub(super) fn pre_shared_key(&self) -> PreSharedKey {
        let digest = Sha256::new()
            .chain_update(SALT_DOMAIN)
            .chain_update(self.0.as_bytes())
            .finalize();
        PreSharedKey::new(digest.into())
    }
}

impl FromStr for MeshSalt {
    type Err = std::convert::Infallible;

    /// Any string is a salt.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

impl fmt::Debug for MeshSalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MeshSalt(..)")
    }
}

/// Settings that only tests may change: production code uses [`TestSettings::default`].
#[derive(Debug, Clone)]
pub struct TestSettings {
    /// Whether gossipsub penalises many relays behind one IP address (on in production;
    /// every relay of a loopback test shares 127.0.0.1).
    pub colocation_penalty: bool,
    /// The gossipsub heartbeat (1 s in production).
    pub heartbeat: Duration,
    /// How often the relay re-announces itself, if not the production value.
    pub announce_every: Option<Duration>,
    /// Most topics one relay may be subscribed to (the directory and 10,000 rooms).
    pub max_topics_per_relay: usize,
    /// Room messages per second one relay may send us, and in a burst, if not the
    /// production values ([`FederationConfig`](crate::mesh::node::FederationConfig)).
    pub room_rate: Option<(f32, f32)>,
    /// What each mesh connection may read, before any decryption or signature check.
    pub inbound: InboundLimit,
}

impl Default for TestSettings {
    fn default() -> Self {
        Self {
            colocation_penalty: true,
            heartbeat: Duration::from_secs(1),
            announce_every: None,
            max_topics_per_relay: super::behaviour::MAX_TOPICS_PER_RELAY,
            room_rate: None,
            inbound: INBOUND_LIMIT,
        }
    }
}

impl TestSettings {
    /// Quick timings and no colocation penalty, for relays that all run on loopback.
    pub fn loopback() -> Self {
        Self {
            colocation_penalty: false,
            heartbeat: Duration::from_millis(200),
            announce_every: Some(Duration::from_secs(2)),
            ..Self::default()
        }
    }
}

/// Everything the federation engine is configured with.
#[derive(Debug, Clone, Default)]
pub struct MeshSettings {
    /// `MESH_LISTEN`: where other relays reach this one (`None`: dial out only).
    pub listen: Option<HostPort>,
    /// `MESH_PEERS`: relays to dial and keep dialling.
    pub peers: Vec<HostPort>,
    /// `MESH_SALT`.
    pub salt: MeshSalt,
    /// Test-only settings.
    pub tests: TestSettings,
}

impl MeshSettings {
    /// Parses the operator's strings; an error names the setting at fault.
    pub fn parse(
        listen: Option<&str>,
        peers: Option<&str>,
        salt: Option<&str>,
    ) -> Result<Self, MeshError> {
        let listen = listen
            .map(|value| {
                value.trim().parse().map_err(|problem| MeshError::Setting {
                    setting: "MESH_LISTEN",
                    problem,
                })
            })
            .transpose()?;
        let peers = parse_peers(peers.unwrap_or(""))?;
        Ok(Self {
            listen,
            peers,
            salt: MeshSalt::new(salt.unwrap_or("")),
            tests: TestSettings::default(),
        })
    }
}

/// `MESH_PEERS`: comma-separated `host:port`; blanks around items and empty items are
/// skipped, port 0 is refused (nothing listens there).
fn parse_peers(value: &str) -> Result<Vec<HostPort>, MeshError> {
    let setting = "MESH_PEERS";
    let mut peers = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let peer: HostPort = item
            .parse()
            .map_err(|problem| MeshError::Setting { setting, problem })?;
        if peer.port == 0 {
            return Err(MeshError::Setting {
                setting,
                problem: HostPortError::BadPort(item.to_owned()),
            });
        }
        if !peers.contains(&peer) {
            peers.push(peer);
        }
    }
    Ok(peers)
}

/// Resolves a host name (or takes the IP address) off the driver's thread.
pub(super) async fn resolve(target: &HostPort) -> std::io::Result<SocketAddr> {
    if let Some(addr) = target.socket_addr() {
        return Ok(addr);
    }
    let Host::Name(name) = &target.host else {
        unreachable!("socket_addr is None only for names");
    };
    let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), target.port))
        .await?
        .collect();
    // Prefer IPv4: relays are usually reached over it, and one address is dialled per try.
    addrs.sort_by_key(|a| !a.is_ipv4());
    addrs.into_iter().next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{name} has no address"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::{HostPort, HostPortError, MeshSalt, MeshSettings};
    use crate::mesh::swarm::MeshError;

    #[test]
    fn host_port_forms() {
        let v4: HostPort = "10.0.0.2:4001".parse().unwrap();
        assert_eq!(v4.socket_addr(), Some("10.0.0.2:4001".parse().unwrap()));
        let v6: HostPort = "[::1]:4001".parse().unwrap();
        assert_eq!(v6.to_string(), "[::1]:4001");
        let name: HostPort = "Relay-B.example:4001".parse().unwrap();
        assert_eq!(name.to_string(), "relay-b.example:4001");
        assert_eq!(name.socket_addr(), None);
        assert_eq!(name.with_port(7).port(), 7);
    }

    #[test]
    fn careless_values_are_refused() {
        for bad in [
            "",
            "4001",
            "host",
            "host:",
            "host:99999",
            "host:-1",
            "[::1]",
        ] {
            assert!(bad.parse::<HostPort>().is_err(), "{bad:?}");
        }
        for bad in [
            ":4001",
            "::1:4001",
            "ho st:1",
            "-x.example:1",
            "a..b:1",
            "x_y:1",
        ] {
            assert!(
                matches!(bad.parse::<HostPort>(), Err(HostPortError::BadHost(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            "a:b".parse::<HostPort>(),
            Err(HostPortError::BadPort("a:b".into()))
        );
    }

    #[test]
    fn settings_name_the_variable_at_fault() {
        let err = MeshSettings::parse(Some("nonsense"), None, None).unwrap_err();
        assert!(matches!(
            err,
            MeshError::Setting {
                setting: "MESH_LISTEN",
                ..
            }
        ));
        assert!(err.to_string().starts_with("MESH_LISTEN: "), "{err}");
        assert!(
            std::error::Error::source(&err).is_none(),
            "the problem is in the message"
        );
        let err = MeshSettings::parse(None, Some("127.0.0.1:1, bad"), None).unwrap_err();
        assert!(err.to_string().starts_with("MESH_PEERS: "), "{err}");
        assert!(err.to_string().contains("`bad`"), "{err}");
        let err = MeshSettings::parse(None, Some("127.0.0.1:0"), None).unwrap_err();
        assert!(err.to_string().starts_with("MESH_PEERS: "), "{err}");
    }

    #[test]
    fn peers_list_is_trimmed_and_deduplicated() {
        let settings =
            MeshSettings::parse(Some("0.0.0.0:0"), Some(" a:1, b:2,,a:1, "), Some("s")).unwrap();
        let peers: Vec<String> = settings.peers.iter().map(|p| p.to_string()).collect();
        assert_eq!(peers, ["a:1", "b:2"]);
        assert_eq!(settings.listen.unwrap().port(), 0);
    }

    #[test]
    fn salt_is_hidden_and_keys_differ() {
        let salt = MeshSalt::new("hunter2");
        assert!(!format!("{salt:?}").contains("hunter2"));
        let key = |s: &str| MeshSalt::new(s).pre_shared_key();
        assert_eq!(key("a"), key("a"));
        assert_ne!(key("a"), key("b"));
        assert_ne!(key(""), key("a"));
        assert_eq!(MeshSalt::default().pre_shared_key(), key(""));
    }
}
