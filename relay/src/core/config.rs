//! What the core needs to know: its identity material, its address and its limits.

use std::net::SocketAddr;
use std::time::Duration;

use bootstrap_codec::{IcePwd, IceUfrag, RelayEntry};
use keystore::RelayIdentity;

use crate::protocol::{RelayTag, MAX_ENTRY_LEN, MAX_ROOM_SIZE_LIMIT};

/// Limits the relay enforces. [`Limits::default`] gives the production defaults.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sessions served at once (`MAX_SESSIONS`).
    pub max_sessions: usize,
    /// Extra sessions accepted only to tell them `Closing RelayFull`; beyond that, new STUN
    /// checks are dropped.
    pub overflow_sessions: usize,
    /// Members per room (`MAX_ROOM_SIZE`, 2..=1362), counted over the whole federation:
    /// this relay's members plus the ones other relays announced.
    pub max_room_size: u16,
    /// Rooms one session may be in at once.
    pub max_rooms_per_session: u8,
    /// Sustained frames per second per session.
    pub messages_per_sec: u16,
    /// Frames a session may send in a burst.
    pub message_burst: u16,
    /// Errors a session may accumulate before it is closed (refilled one per 10 s).
    pub error_strikes: u8,
    /// New sessions per second per source IP (`NEW_SESSIONS_PER_IP`).
    pub new_sessions_per_ip_per_sec: f32,
    /// New sessions a source IP may open in a burst (`NEW_SESSION_BURST_PER_IP`).
    pub new_session_burst_per_ip: f32,
    /// New sessions per second per source prefix, an IPv4 /24 or an IPv6 /64
    /// (`NEW_SESSIONS_PER_PREFIX`).
    pub new_sessions_per_prefix_per_sec: f32,
    /// New sessions a source prefix may open in a burst (`NEW_SESSION_BURST_PER_PREFIX`).
    pub new_session_burst_per_prefix: f32,
    /// Source IPs (and, separately, prefixes) the new-session limiters track at once.
    pub ip_table_capacity: usize,
    /// Sessions (handshaking, open or closing) one source IP may hold (`MAX_SESSIONS_PER_IP`).
    pub max_sessions_per_ip: usize,
    /// Sessions one source prefix may hold (`MAX_SESSIONS_PER_PREFIX`).
    pub max_sessions_per_prefix: usize,
    /// Handshakes one source IP may have running at once (`MAX_HANDSHAKING_PER_IP`).
    pub max_handshaking_per_ip: usize,
    /// Handshakes one source prefix may have running at once (`MAX_HANDSHAKING_PER_PREFIX`).
    pub max_handshaking_per_prefix: usize,
    /// Addresses one session may be reached from (a browser checks from each host candidate).
    pub max_addrs_per_session: usize,
    /// Sessions still handshaking at once (`MAX_HANDSHAKING`). Relay credentials are public,
    /// so anyone can start handshakes; this keeps them from taking every session slot, and
    /// the per-source caps keep one host from taking every handshake slot.
    pub max_handshaking: usize,
    /// Time from the first STUN check to an open DataChannel.
    pub handshake_timeout: Duration,
    /// A handshaking session that has received no DTLS datagram this long after its first
    /// STUN check is dropped (`HANDSHAKE_STALL_MS`).
    pub handshake_stall: Duration,
    /// Silence (no frame) after which an open session is dropped.
    pub idle_timeout: Duration,
    /// How long a closing session lingers so its `Closing` frame gets delivered.
    pub close_linger: Duration,
    /// Signals per second one member may have delivered to one other member
    /// (`FORWARD_SIGNALS_PER_SEC`).
    pub forward_signals_per_sec: f32,
    /// Signals one member may send one other member in a burst (`FORWARD_SIGNAL_BURST`).
    pub forward_signal_burst: f32,
    /// KiB of signal blobs per second one member may have delivered to one other member
    /// (`FORWARD_KIB_PER_SEC`); a blob costs one per started KiB.
    pub forward_kib_per_sec: f32,
    /// KiB of signal blobs one member may send one other member in a burst
    /// (`FORWARD_KIB_BURST`).
    pub forward_kib_burst: f32,
    /// Joins per minute one member may make in one room, once its burst is spent
    /// (`JOINS_PER_MIN`).
    pub joins_per_min: f32,
    /// Joins one member may make in one room in a burst (`JOIN_BURST`).
    pub join_burst: f32,
    /// Joins and leaves per second one room tells its members (`ROOM_CHURN_PER_SEC`): past
    /// that, rejoins are refused; first joins and leaves never are.
    pub room_churn_per_sec: f32,
    /// Joins and leaves one room tells in a burst (`ROOM_CHURN_BURST`).
    pub room_churn_burst: f32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_sessions: 1000,
            overflow_sessions: 64,
            max_room_size: 250,
            max_rooms_per_session: 8,
            messages_per_sec: 50,
            message_burst: 200,
            error_strikes: 8,
            new_sessions_per_ip_per_sec: 10.0,
            new_session_burst_per_ip: 20.0,
            new_sessions_per_prefix_per_sec: 20.0,
            new_session_burst_per_prefix: 40.0,
            ip_table_capacity: 65_536,
            max_sessions_per_ip: 50,
            max_sessions_per_prefix: 100,
            max_handshaking_per_ip: 16,
            max_handshaking_per_prefix: 32,
            max_addrs_per_session: 4,
            max_handshaking: 256,
            handshake_timeout: Duration::from_secs(10),
            handshake_stall: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(30),
            close_linger: Duration::from_millis(500),
            forward_signals_per_sec: 10.0,
            forward_signal_burst: 30.0,
            forward_kib_per_sec: 64.0,
            forward_kib_burst: 128.0,
            joins_per_min: 30.0,
            join_burst: 4.0,
            room_churn_per_sec: 10.0,
            room_churn_burst: 30.0,
        }
    }
}

/// Why a [`RelayConfig`] was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A limit is out of range.
    #[error("{name} must be {range}, got {value}")]
    Limit {
        /// The setting.
        name: &'static str,
        /// What is allowed.
        range: &'static str,
        /// What was given.
        value: String,
    },
    /// str0m could not set up DTLS with the certificate and key.
    #[error("the DTLS certificate or key is unusable")]
    Certificate,
    /// The signed entry is longer than a `Welcome` may carry.
    #[error("signed relay entry is {0} bytes, more than {MAX_ENTRY_LEN}")]
    EntryTooLong(usize),
}

/// Everything the sans-IO core needs.
#[derive(Clone)]
pub struct RelayConfig {
    /// The address browsers send to (the host candidate): public IP and UDP port.
    pub local_addr: SocketAddr,
    /// Local ICE ufrag shared by all sessions.
    pub ufrag: IceUfrag,
    /// Local ICE password shared by all sessions.
    pub pwd: IcePwd,
    /// DTLS certificate, DER.
    pub cert_der: Vec<u8>,
    /// DTLS private key, PKCS#8 DER.
    pub key_pkcs8_der: Vec<u8>,
    /// The relay's signed entry bytes, sent in `Welcome` and `Nodes`.
    pub entry_bytes: Vec<u8>,
    /// Limits.
    pub limits: Limits,
    /// This relay's tag in peer addresses (from its node key).
    pub tag: RelayTag,
    /// Whether the relay is part of a federation: only then does it queue
    /// [`MeshOutput`](super::MeshOutput)s.
    pub federated: bool,
    /// Set when this core is one shard of a relay running several
    /// ([`Shard`](super::Shard)): it then exchanges its members with the other shards
    /// through the federation interface (whether or not it is federated) and counts the
    /// relay-wide caps together with them.
    pub shard: Option<super::Shard>,
}

impl std::fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key or the password.
        f.debug_struct("RelayConfig")
            .field("local_addr", &self.local_addr)
            .field("ufrag", &self.ufrag)
            .field("limits", &self.limits)
            .field("federated", &self.federated)
            .field("shard", &self.shard)
            .finish_non_exhaustive()
    }
}

impl RelayConfig {
    /// Builds a config from an identity and the entry it published.
    pub fn new(identity: &RelayIdentity, entry: &RelayEntry, local_addr: SocketAddr) -> Self {
        Self {
            local_addr,
            ufrag: entry.ufrag().clone(),
            pwd: entry.pwd().clone(),
            cert_der: identity.cert_der().to_vec(),
            key_pkcs8_der: identity.key_pkcs8_der().to_vec(),
            entry_bytes: entry.to_bytes(),
            limits: Limits::default(),
            tag: RelayTag::of(entry.node_key()),
            federated: false,
            shard: None,
        }
    }

    /// Checks the limits and sizes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.limits.validate()?;
        if self.entry_bytes.len() > MAX_ENTRY_LEN {
            return Err(ConfigError::EntryTooLong(self.entry_bytes.len()));
        }
        Ok(())
    }
}

impl Limits {
    /// Checks every limit is in range; errors name the setting (environment variable names
    /// where there is one).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = self;
        let limit = |name, range, value: &dyn std::fmt::Display| ConfigError::Limit {
            name,
            range,
            value: value.to_string(),
        };
        if l.max_sessions == 0 || l.max_sessions > 1_000_000 {
            return Err(limit("MAX_SESSIONS", "1..=1000000", &l.max_sessions));
        }
        if l.max_room_size < 2 || l.max_room_size > MAX_ROOM_SIZE_LIMIT {
            return Err(limit("MAX_ROOM_SIZE", "2..=1362", &l.max_room_size));
        }
        for (name, value) in [
            ("MAX_HANDSHAKING", l.max_handshaking),
            ("MAX_SESSIONS_PER_IP", l.max_sessions_per_ip),
            ("MAX_SESSIONS_PER_PREFIX", l.max_sessions_per_prefix),
            ("MAX_HANDSHAKING_PER_IP", l.max_handshaking_per_ip),
            ("MAX_HANDSHAKING_PER_PREFIX", l.max_handshaking_per_prefix),
        ] {
            if value == 0 || value > 1_000_000 {
                return Err(limit(name, "1..=1000000", &value));
            }
        }
        if l.max_rooms_per_session == 0 {
            return Err(limit("max rooms per session", "at least 1", &0));
        }
        if l.messages_per_sec == 0 || l.message_burst == 0 {
            return Err(limit("message rate", "at least 1", &0));
        }
        for (name, value, least) in [
            ("NEW_SESSIONS_PER_IP", l.new_sessions_per_ip_per_sec, 0.001),
            ("NEW_SESSION_BURST_PER_IP", l.new_session_burst_per_ip, 1.0),
            (
                "NEW_SESSIONS_PER_PREFIX",
                l.new_sessions_per_prefix_per_sec,
                0.001,
            ),
            (
                "NEW_SESSION_BURST_PER_PREFIX",
                l.new_session_burst_per_prefix,
                1.0,
            ),
            ("FORWARD_SIGNALS_PER_SEC", l.forward_signals_per_sec, 0.001),
            ("FORWARD_SIGNAL_BURST", l.forward_signal_burst, 1.0),
            ("FORWARD_KIB_PER_SEC", l.forward_kib_per_sec, 0.001),
            // One blob of the largest size must fit.
            ("FORWARD_KIB_BURST", l.forward_kib_burst, 16.0),
            ("JOINS_PER_MIN", l.joins_per_min, 0.001),
            ("JOIN_BURST", l.join_burst, 1.0),
            ("ROOM_CHURN_PER_SEC", l.room_churn_per_sec, 0.001),
            ("ROOM_CHURN_BURST", l.room_churn_burst, 1.0),
        ] {
            // Written so that NaN fails too.
            if !(value >= least && value <= 1_000_000.0) {
                let range = if least < 1.0 {
                    "0.001..=1000000"
                } else if least > 1.0 {
                    "16..=1000000"
                } else {
                    "1..=1000000"
                };
                return Err(limit(name, range, &value));
            }
        }
        if l.handshake_stall < Duration::from_millis(100) || l.handshake_stall > l.handshake_timeout
        {
            return Err(limit(
                "HANDSHAKE_STALL_MS",
                "100 ms up to the handshake timeout (10000 ms)",
                &l.handshake_stall.as_millis(),
            ));
        }
        if l.idle_timeout.is_zero() || l.idle_timeout.as_secs() > u64::from(u16::MAX) {
            return Err(limit(
                "idle timeout",
                "1..=65535 s",
                &l.idle_timeout.as_secs(),
            ));
        }
        Ok(())
    }
}
