//! The relay's sans-IO core: UDP datagrams and time in, datagrams and wake-up times out.
//!
//! [`Relay`] owns one str0m [`Rtc`](str0m::Rtc) per session and the rooms. It never reads the
//! clock and never touches a socket: the driver calls [`Relay::handle_input`] with the current
//! time, then drains [`Relay::poll_output`] until it yields [`Output::Timeout`], and calls
//! `handle_input(now, Input::Timeout)` when that time comes.
//!
//! Routing is O(1): sessions sit in a slab indexed by key, found by source address, by browser
//! ufrag or by peer id through hash maps; timers live in a min-heap.

mod config;
mod dispatch;
mod federation;
mod forward;
mod gate;
mod lifecycle;
mod membership;
mod rate;
mod room;
mod session;
mod shard;
mod signal;
mod source;
mod stats;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use str0m::crypto::Sha1HmacProvider;
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState};
use tracing::{debug, warn};

pub use config::{ConfigError, Limits, RelayConfig};
pub use federation::{MeshInput, MeshOutput};
pub use session::RtcTemplate;
pub use shard::{Shard, Shared};
pub(crate) use source::prefix;
pub use stats::{Rejects, Stats};

use crate::protocol::{CloseCode, PeerAddr, PeerId, RoomId};
use forward::ForwardLimits;
use room::Room;
use session::{Phase, Session, Timeouts};
use shard::Gauge;
use source::Sources;

/// How long a new session keeps its handshake slot however full the relay is: time for a
/// browser's ClientHello, the relay's HelloVerifyRequest and the ClientHello returning its
/// cookie (two round trips). After that, a session that has not returned the cookie may be
/// dropped for a newcomer ([`Relay::evict_unproven`]). A spoofer must then create more than
/// `max_handshaking` sessions a second (256: 13 prefixes at their 20/s) to keep every slot,
/// instead of 26 a second while a session could hold a slot for the whole handshake timeout.
const EVICT_UNPROVEN_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Something that happened to the relay.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A UDP datagram arrived from `source`.
    Receive {
        /// The sender.
        source: SocketAddr,
        /// The datagram.
        contents: &'a [u8],
    },
    /// The time last returned in [`Output::Timeout`] has come (early calls are harmless).
    Timeout,
}

/// A UDP datagram to send.
#[derive(Debug)]
pub struct Transmit {
    /// Where to.
    pub destination: SocketAddr,
    /// The datagram.
    pub contents: Vec<u8>,
}

/// What the relay wants done.
#[derive(Debug)]
pub enum Output {
    /// Send this datagram.
    Transmit(Transmit),
    /// Nothing more to send; call `handle_input(_, Input::Timeout)` at this time.
    Timeout(Instant),
}

/// Why a session was removed (for stats and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Removal {
    /// ICE consent lost, handshake or idle timeout.
    TimedOut,
    /// The client closed its channel.
    ClientClosed,
    /// The relay closed it (after a `Closing` frame, or before the channel opened).
    RelayClosed,
    /// str0m reported an error.
    Failed,
}

/// The relay core. See the module docs for the driving loop.
pub struct Relay {
    config: RelayConfig,
    /// The forwarding part of the config's limits, read once.
    forward: ForwardLimits,
    template: RtcTemplate,
    hmac: &'static dyn Sha1HmacProvider,
    sessions: Vec<Option<Session>>,
    free: Vec<usize>,
    by_addr: HashMap<SocketAddr, usize>,
    by_ufrag: HashMap<String, usize>,
    by_peer: HashMap<PeerId, usize>,
    rooms: HashMap<RoomId, Room>,
    mesh_out: VecDeque<MeshOutput>,
    /// Other relays' entries for `Nodes` (bounded by [`MeshInput::Directory`] handling).
    directory: Vec<Vec<u8>>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    /// Handshaking sessions in creation order, for [`Relay::evict_unproven`] (entries of
    /// sessions proven or gone since are skipped).
    unproven: VecDeque<(usize, PeerId)>,
    dirty: Vec<usize>,
    events: VecDeque<(usize, Event)>,
    transmits: VecDeque<Transmit>,
    sources: Sources,
    next_prune: Instant,
    next_peer: u32,
    /// Sessions held (for a shard: also counted relay-wide).
    live: Gauge,
    /// Sessions handshaking (a shard counts its own, against its share of the cap).
    handshaking: Gauge,
    stats: Stats,
    scratch: Vec<u8>,
    peer_buf: Vec<u8>,
    shutting_down: bool,
}

impl Relay {
    /// Creates the core. Fails if the config's limits are out of range.
    pub fn new(config: RelayConfig, now: Instant) -> Result<Self, ConfigError> {
        config.validate()?;
        let provider = crate::dtls::crypto_provider();
        let template = RtcTemplate::new(&config, provider.clone());
        // str0m panics when it cannot use the certificate; find out now, not on the first
        // client. The probe session is dropped at once.
        let probe = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            template.build("probe", now).is_ok()
        }));
        if !matches!(probe, Ok(true)) {
            return Err(ConfigError::Certificate);
        }
        let sources = Sources::new(&config.limits);
        let live = match &config.shard {
            Some(shard) => shard.shared().sessions_gauge(),
            None => Gauge::default(),
        };
        Ok(Self {
            forward: ForwardLimits::of(&config.limits),
            template,
            hmac: provider.sha1_hmac_provider,
            sessions: Vec::new(),
            free: Vec::new(),
            by_addr: HashMap::new(),
            by_ufrag: HashMap::new(),
            by_peer: HashMap::new(),
            rooms: HashMap::new(),
            mesh_out: VecDeque::new(),
            directory: Vec::new(),
            timers: BinaryHeap::new(),
            unproven: VecDeque::new(),
            dirty: Vec::new(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            sources,
            next_prune: now + rate::PRUNE_INTERVAL,
            next_peer: 0,
            live,
            handshaking: Gauge::default(),
            stats: Stats::default(),
            scratch: Vec::with_capacity(crate::protocol::MAX_FRAME_LEN),
            peer_buf: Vec::new(),
            shutting_down: false,
            config,
        })
    }

    /// Feeds an input. Drain [`Self::poll_output`] afterwards.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Receive { source, contents } => self.receive(now, source, contents),
            Input::Timeout => self.timeout(now),
        }
        self.process(now);
    }

    /// The next datagram to send, or when to call again with [`Input::Timeout`].
    pub fn poll_output(&mut self) -> Output {
        if let Some(t) = self.transmits.pop_front() {
            return Output::Transmit(t);
        }
        while let Some(Reverse((at, key))) = self.timers.peek().copied() {
            if self.is_scheduled(key, at) {
                return Output::Timeout(at.min(self.next_prune));
            }
            self.timers.pop();
        }
        Output::Timeout(self.next_prune)
    }

    /// Starts a graceful shutdown: every session is told `Closing ShuttingDown` and new
    /// sessions are refused. [`Self::is_empty`] turns true once all sessions are gone.
    pub fn shutdown(&mut self, now: Instant) {
        self.shutting_down = true;
        for key in 0..self.sessions.len() {
            if self.sessions[key].is_some() {
                self.close_session(key, now, CloseCode::ShuttingDown);
            }
        }
        self.process(now);
    }

    /// Whether no session is left.
    pub fn is_empty(&self) -> bool {
        self.live.local() == 0
    }

    /// Counters and gauges.
    pub fn stats(&self) -> Stats {
        let mut stats = self.stats;
        stats.sessions = self.live.local() as u64;
        stats.sessions_handshaking = self.handshaking.local() as u64;
        stats.rooms = self.rooms.len() as u64;
        stats.remote_members = self.rooms.values().map(|r| r.remote_len() as u64).sum();
        stats
    }

    /// Feeds what the federation said (see [`MeshInput`]). Drain [`Self::poll_output`] and
    /// [`Self::poll_mesh`] afterwards.
    ///
    /// Input about a room with no local member, or naming this relay, is ignored; so is
    /// everything when the relay is not federated. Nothing here panics or grows without
    /// bound: rooms stay within `max_room_size` members in all.
    pub fn handle_mesh(&mut self, now: Instant, input: MeshInput) {
        self.on_mesh(now, input);
        self.process(now);
    }

    /// The next thing the federation must hear, or `None`. Only a federated relay
    /// ([`RelayConfig::federated`]) queues anything.
    pub fn poll_mesh(&mut self) -> Option<MeshOutput> {
        self.mesh_out.pop_front()
    }

    /// This relay's tag in peer addresses (protocol version 2).
    pub fn tag(&self) -> crate::protocol::RelayTag {
        self.config.tag
    }

    /// The signed entry this relay serves.
    pub fn entry_bytes(&self) -> &[u8] {
        &self.config.entry_bytes
    }

    fn is_scheduled(&self, key: usize, at: Instant) -> bool {
        matches!(self.sessions.get(key), Some(Some(s)) if s.scheduled == Some(at))
    }

    pub(super) fn session(&mut self, key: usize) -> Option<&mut Session> {
        self.sessions.get_mut(key).and_then(Option::as_mut)
    }

    fn receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8]) {
        self.stats.datagrams_in += 1;
        let key = match self.by_addr.get(&source) {
            Some(&key) => key,
            None => match self.admit(now, source, contents) {
                Some(key) => key,
                None => return,
            },
        };
        let destination = self.config.local_addr;
        let Some(session) = self.session(key) else {
            return;
        };
        let Ok(receive) = Receive::new(Protocol::Udp, source, destination, contents) else {
            return;
        };
        // RFC 7983: 20..=63 is DTLS. Its arrival is the handshake's progress.
        if contents.first().is_some_and(|b| (20..=63).contains(b)) {
            session.saw_dtls(now);
        }
        // A bad packet from a known address is dropped, not fatal: the source may be spoofed.
        if let Err(e) = session
            .rtc
            .handle_input(str0m::Input::Receive(now, receive))
        {
            debug!(%source, error = %e, "dropped packet");
        }
        self.mark_dirty(key);
    }

    /// Decides whether a packet from an unknown address may reach a session: only an
    /// authenticated binding request may, either for a known browser ufrag (a new candidate
    /// address, taken on only before the session's first DTLS datagram) or, within the
    /// limits, as a new session. The per-source limits come before the relay-wide ones, so a
    /// source over its share is refused without taking anyone else's slot.
    fn admit(&mut self, now: Instant, source: SocketAddr, packet: &[u8]) -> Option<usize> {
        let (ufrag, pwd) = (self.config.ufrag.as_str(), self.config.pwd.as_str());
        let Some(remote_ufrag) = gate::authenticate(packet, ufrag, pwd, self.hmac) else {
            self.stats.rejects.unauthenticated += 1;
            return None;
        };
        let limits = &self.config.limits;
        if let Some(&key) = self.by_ufrag.get(remote_ufrag) {
            let max_addrs = limits.max_addrs_per_session;
            let session = self.sessions.get_mut(key).and_then(Option::as_mut)?;
            // A browser checks from each of its host candidates before DTLS starts on the one
            // it nominates. Later, a binding request with the session's ufrag from elsewhere
            // is someone else (anyone who saw the ufrag): taking it on would let its
            // USE-CANDIDATE redirect the session.
            if session.phase != Phase::Handshaking
                || session.dtls_at.is_some()
                || session.addrs.len() >= max_addrs
            {
                self.stats.rejects.new_address += 1;
                return None;
            }
            session.addrs.push(source);
            self.by_addr.insert(source, key);
            return Some(key);
        }
        if self.shutting_down {
            self.stats.rejects.shutting_down += 1;
            return None;
        }
        if let Err(refusal) = self.sources.admit(source.ip(), now) {
            refusal.count(&mut self.stats.rejects);
            return None;
        }
        // Each cap is taken in one step that fails at the cap (for a shard: the sessions
        // relay-wide, the handshakes its share, see `Shard`), and given back if the session
        // is not created after all.
        let max_sessions = limits.max_sessions;
        let max_handshaking = match &self.config.shard {
            Some(shard) => shard.share(limits.max_handshaking),
            None => limits.max_handshaking,
        };
        let Some(held) = self.live.try_add(max_sessions + limits.overflow_sessions) else {
            self.stats.rejects.relay_full += 1;
            return None;
        };
        if self.handshaking.try_add(max_handshaking).is_none()
            && !(self.evict_unproven(now) && self.handshaking.try_add(max_handshaking).is_some())
        {
            self.live -= 1;
            self.stats.rejects.too_many_handshakes += 1;
            return None;
        }
        let rtc = match self.template.build(remote_ufrag, now) {
            Ok(rtc) => rtc,
            Err(e) => {
                self.live -= 1;
                self.handshaking -= 1;
                warn!(error = %e, "could not create session");
                return None;
            }
        };
        let peer = self.alloc_peer();
        let limits = &self.config.limits;
        let mut session = Session::new(rtc, peer, remote_ufrag, source, now);
        session.over_capacity = held >= max_sessions;
        session.messages = rate::TokenBucket::full(f32::from(limits.message_burst), now);
        session.strikes = rate::TokenBucket::full(f32::from(limits.error_strikes), now);
        let key = match self.free.pop() {
            Some(key) => {
                self.sessions[key] = Some(session);
                key
            }
            None => {
                self.sessions.push(Some(session));
                self.sessions.len() - 1
            }
        };
        self.by_addr.insert(source, key);
        self.by_ufrag.insert(remote_ufrag.to_owned(), key);
        self.by_peer.insert(peer, key);
        self.sources.opened(source.ip());
        self.note_unproven(key, peer);
        self.stats.sessions_created += 1;
        debug!(%source, %peer, "new session");
        Some(key)
    }

    /// Remembers a new session, in creation order, as one that has not yet proven its address.
    fn note_unproven(&mut self, key: usize, peer: PeerId) {
        // Entries for sessions proven or gone since leave from the front; every entry is
        // settled within the handshake timeout, so the queue holds at most the sessions
        // created in that time.
        while let Some(&(k, p)) = self.unproven.front() {
            if self.is_unproven(k, p) {
                break;
            }
            self.unproven.pop_front();
        }
        self.unproven.push_back((key, peer));
    }

    fn is_unproven(&self, key: usize, peer: PeerId) -> bool {
        self.sessions
            .get(key)
            .and_then(Option::as_ref)
            .is_some_and(|s| s.peer == peer && s.is_unproven())
    }

    /// With every handshake slot taken, drops the oldest session that has not yet returned
    /// its DTLS cookie and has had [`EVICT_UNPROVEN_AFTER`] to do so, so that sources which
    /// never receive (spoofed ones) cannot hold the slots against clients that do. Returns
    /// whether one was dropped.
    fn evict_unproven(&mut self, now: Instant) -> bool {
        while let Some(&(key, peer)) = self.unproven.front() {
            if !self.is_unproven(key, peer) {
                self.unproven.pop_front();
                continue;
            }
            let created = self.sessions[key].as_ref().map_or(now, |s| s.created);
            if created + EVICT_UNPROVEN_AFTER > now {
                return false;
            }
            self.unproven.pop_front();
            self.stats.handshakes_evicted += 1;
            self.remove_session(key, Removal::RelayClosed);
            return true;
        }
        false
    }

    /// A free peer id (for a shard, one of the ids it gives out, see [`Shard::owner`]).
    fn alloc_peer(&mut self) -> PeerId {
        // Terminates: there are far fewer sessions than u32 values.
        loop {
            self.next_peer = self.next_peer.wrapping_add(1);
            if let Some(peer) = PeerId::new(self.next_peer) {
                let ours = self.config.shard.as_ref().is_none_or(|s| s.owns(peer));
                if ours && !self.by_peer.contains_key(&peer) {
                    return peer;
                }
            }
        }
    }

    /// Whether `addr` is a session of this core (for a shard: of this relay and this shard;
    /// the other shards' sessions are members it hears of like another relay's).
    pub(super) fn is_own(&self, addr: PeerAddr) -> bool {
        addr.relay == self.config.tag
            && self
                .config
                .shard
                .as_ref()
                .is_none_or(|s| s.owns(addr.session))
    }

    /// Whether this core exchanges [`MeshInput`]/[`MeshOutput`]: a federated relay, or a
    /// shard (with the other shards).
    pub(super) fn meshes(&self) -> bool {
        self.config.federated || self.config.shard.is_some()
    }

    fn timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, key))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if !self.is_scheduled(key, at) {
                continue;
            }
            self.session_timeout(key, now);
        }
        if self.next_prune <= now {
            self.sources.prune(now);
            self.next_prune = now + rate::PRUNE_INTERVAL;
        }
    }

    pub(super) fn mark_dirty(&mut self, key: usize) {
        if let Some(session) = self.session(key) {
            if !session.dirty {
                session.dirty = true;
                self.dirty.push(key);
            }
        }
    }

    /// Drains dirty sessions and handles their events until nothing is left to do.
    fn process(&mut self, now: Instant) {
        loop {
            if let Some(key) = self.dirty.pop() {
                self.drain(key);
                continue;
            }
            if let Some((key, event)) = self.events.pop_front() {
                self.on_event(key, now, event);
                continue;
            }
            break;
        }
    }

    /// Polls one session's `Rtc` until it times out, queueing its datagrams and events.
    pub(super) fn drain(&mut self, key: usize) {
        let timeouts = Timeouts::of(&self.config.limits);
        let Some(session) = self.sessions.get_mut(key).and_then(Option::as_mut) else {
            return;
        };
        session.dirty = false;
        loop {
            match session.rtc.poll_output() {
                Ok(str0m::Output::Transmit(t)) => {
                    self.stats.datagrams_out += 1;
                    if !session.proven && gate::is_server_hello(&t.contents) {
                        session.proven = true;
                    }
                    self.transmits.push_back(Transmit {
                        destination: t.destination,
                        contents: t.contents.into(),
                    });
                }
                Ok(str0m::Output::Event(event)) => match event {
                    Event::ChannelOpen(..)
                    | Event::ChannelData(_)
                    | Event::ChannelClose(_)
                    | Event::Closed
                    | Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        self.events.push_back((key, event));
                    }
                    _ => {}
                },
                Ok(str0m::Output::Timeout(t)) => {
                    session.rtc_timeout = Some(t);
                    break;
                }
                Err(e) => {
                    debug!(error = %e, "session failed");
                    self.remove_session(key, Removal::Failed);
                    return;
                }
            }
        }
        let wake = session.wake(timeouts);
        if session.scheduled.is_none_or(|t| wake < t) {
            session.scheduled = Some(wake);
            self.timers.push(Reverse((wake, key)));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
