//! One client session: its str0m `Rtc`, its addresses and its protocol state.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::channel::ChannelId;
use str0m::config::{CryptoProvider, DtlsCert, Fingerprint};
use str0m::{Candidate, IceCreds, Rtc, RtcConfig, RtcError};

use super::config::{Limits, RelayConfig};
use super::rate::TokenBucket;
use crate::protocol::{PeerId, RoomId};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// ICE/DTLS/SCTP running, no DataChannel yet.
    Handshaking,
    /// DataChannel open.
    Open,
    /// Told `Closing`; removed at the deadline.
    Closing(Instant),
}

/// State kept per session.
pub(crate) struct Session {
    pub(crate) rtc: Rtc,
    pub(crate) peer: PeerId,
    pub(crate) remote_ufrag: String,
    /// The addresses it is reached from; the first created it and is what the per-source
    /// limits count.
    pub(crate) addrs: Vec<SocketAddr>,
    /// When its first DTLS datagram arrived (`None`: none yet).
    pub(crate) dtls_at: Option<Instant>,
    /// Whether the relay has sent its ServerHello: the source returned the DTLS cookie the
    /// relay sent it, so it receives at its address (a spoofed source never can).
    pub(crate) proven: bool,
    pub(crate) channel: Option<ChannelId>,
    pub(crate) phase: Phase,
    pub(crate) hello: bool,
    /// The protocol version its `Hello` named (1 until then).
    pub(crate) version: u8,
    /// Accepted over MAX_SESSIONS only to be told `Closing RelayFull`.
    pub(crate) over_capacity: bool,
    pub(crate) rooms: Vec<RoomId>,
    pub(crate) created: Instant,
    pub(crate) last_activity: Instant,
    pub(crate) messages: TokenBucket,
    pub(crate) strikes: TokenBucket,
    /// The `Rtc`'s own next timeout.
    pub(crate) rtc_timeout: Option<Instant>,
    /// The wake-up time last pushed to the timer heap.
    pub(crate) scheduled: Option<Instant>,
    /// Queued for draining.
    pub(crate) dirty: bool,
}

/// What is shared by every session's `Rtc`: the core builds each session's with it.
///
/// Public for benches only (`examples/handshake_cpu.rs` measures bare str0m sessions built
/// exactly as the core builds them, so the two cannot drift apart).
pub struct RtcTemplate {
    local_addr: SocketAddr,
    creds: IceCreds,
    cert: DtlsCert,
    provider: Arc<CryptoProvider>,
}

impl std::fmt::Debug for RtcTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtcTemplate")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl RtcTemplate {
    /// The template of a relay with `config`, whose `Rtc`s use `provider`.
    pub fn new(config: &RelayConfig, provider: Arc<CryptoProvider>) -> Self {
        Self {
            local_addr: config.local_addr,
            creds: IceCreds {
                ufrag: config.ufrag.as_str().to_owned(),
                pass: config.pwd.as_str().to_owned(),
            },
            cert: DtlsCert {
                certificate: config.cert_der.clone(),
                private_key: config.key_pkcs8_der.clone(),
            },
            provider,
        }
    }

    /// Builds the `Rtc` for a browser whose ICE ufrag is `remote_ufrag`: ICE-lite, controlled,
    /// DTLS server, SCTP server, with the browser's fingerprint unchecked (the relay never
    /// sees the offer; the browser authenticates the relay instead).
    pub fn build(&self, remote_ufrag: &str, now: Instant) -> Result<Rtc, RtcError> {
        let mut rtc = RtcConfig::new()
            .set_ice_lite(true)
            .set_local_ice_credentials(self.creds.clone())
            .set_dtls_cert(self.cert.clone())
            .set_fingerprint_verification(false)
            .set_crypto_provider(self.provider.clone())
            .build(now);
        let candidate = Candidate::host(self.local_addr, "udp")?;
        rtc.add_local_candidate(candidate);
        let mut api = rtc.direct_api();
        api.set_ice_controlling(false);
        // Without remote credentials str0m queues binding requests and never answers. The
        // password is never used: a lite agent signs responses with its own password.
        api.set_remote_ice_credentials(IceCreds {
            ufrag: remote_ufrag.to_owned(),
            pass: "unusedunusedunusedunused".to_owned(),
        });
        // str0m refuses to start DTLS without a remote fingerprint; verification is off.
        api.set_remote_fingerprint(Fingerprint {
            hash_func: "sha-256".to_owned(),
            bytes: vec![0; 32],
        });
        api.start_dtls(false)?;
        api.start_sctp(false);
        Ok(rtc)
    }
}

impl Session {
    pub(crate) fn new(
        rtc: Rtc,
        peer: PeerId,
        remote_ufrag: &str,
        addr: SocketAddr,
        now: Instant,
    ) -> Self {
        Self {
            rtc,
            peer,
            remote_ufrag: remote_ufrag.to_owned(),
            addrs: vec![addr],
            dtls_at: None,
            proven: false,
            channel: None,
            phase: Phase::Handshaking,
            hello: false,
            version: crate::protocol::PROTOCOL_V1,
            over_capacity: false,
            rooms: Vec::new(),
            created: now,
            last_activity: now,
            // Filled by the caller from the limits.
            messages: TokenBucket::full(0.0, now),
            strikes: TokenBucket::full(0.0, now),
            rtc_timeout: None,
            scheduled: None,
            dirty: false,
        }
    }

    /// Whether the DataChannel is open and the session not closing.
    pub(crate) fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// The address the per-source limits count it under.
    pub(crate) fn origin(&self) -> IpAddr {
        // A session is created with one address and only ever gains more.
        self.addrs[0].ip()
    }

    /// Notes a DTLS datagram: the handshake has started.
    pub(crate) fn saw_dtls(&mut self, now: Instant) {
        self.dtls_at.get_or_insert(now);
    }

    /// Whether a handshaking session has gone `stall` since its first check without proving
    /// its address (no DTLS at all, or no ClientHello returning the cookie). Dropping it then
    /// costs a browser nothing (its next check and ClientHello start over); once the cookie
    /// came back, only the handshake timeout applies, since a session lost mid-handshake
    /// cannot be resumed.
    pub(crate) fn is_stalled(&self, stall: Duration, now: Instant) -> bool {
        self.is_unproven() && self.created + stall <= now
    }

    /// Handshaking and not yet proven to receive at its address: what a spoofed source
    /// can hold, and what the relay evicts first when its handshake slots are full.
    pub(crate) fn is_unproven(&self) -> bool {
        self.phase == Phase::Handshaking && !self.proven
    }

    /// When the relay itself must act on this session (timeouts), ignoring the `Rtc`.
    pub(crate) fn deadline(&self, t: Timeouts) -> Instant {
        match self.phase {
            Phase::Handshaking if !self.proven => self.created + t.handshake.min(t.stall),
            Phase::Handshaking => self.created + t.handshake,
            Phase::Open => self.last_activity + t.idle,
            Phase::Closing(at) => at,
        }
    }

    /// The earliest of the relay's deadline and the `Rtc`'s timeout.
    pub(crate) fn wake(&self, t: Timeouts) -> Instant {
        let deadline = self.deadline(t);
        match self.rtc_timeout {
            Some(at) if at < deadline => at,
            _ => deadline,
        }
    }
}

/// The relay's own deadlines for a session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    handshake: Duration,
    pub(crate) stall: Duration,
    idle: Duration,
}

impl Timeouts {
    pub(crate) fn of(limits: &Limits) -> Self {
        Self {
            handshake: limits.handshake_timeout,
            stall: limits.handshake_stall,
            idle: limits.idle_timeout,
        }
    }
}
