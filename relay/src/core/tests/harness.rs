//! An in-memory network: str0m client connections and a relay side — one relay core, or
//! several behind a router ([`Side`]; the shards' tests) — with fake time and lossless
//! delivery. Time only moves when nothing is in flight, to the earliest timeout.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bootstrap_codec::{IceUfrag, RelayAddress, RelayEntry};
use keystore::RelayIdentity;

use crate::client::{ClientOutput, Connection};
use crate::core::{Input, Limits, Output, Relay, RelayConfig};
use crate::protocol::{ClientMessage, PeerAddr, PeerId, RelayMessage, RoomId, PROTOCOL_V1};

pub(crate) const RELAY_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 3478);

/// One simulated client.
pub(crate) struct Client {
    pub(crate) conn: Connection,
    pub(crate) addr: SocketAddr,
    pub(crate) frames: VecDeque<Vec<u8>>,
    pub(crate) open: bool,
    pub(crate) closed: bool,
    /// A silent client stops sending (its host vanished) but still receives.
    pub(crate) silent: bool,
    /// Its address, once a test has worked it out from its Welcome.
    pub(crate) me: Option<PeerAddr>,
    /// The members it was told of, per room, as a test reads them.
    pub(crate) views: HashMap<RoomId, HashSet<PeerAddr>>,
    timeout: Option<Instant>,
}

/// What the clients talk to: one relay core, or several behind a router.
pub(crate) trait Side {
    /// Hands every datagram the side has to send to `deliver`; returns whether anything
    /// moved and when the side next wants [`Side::wake`].
    fn drain(
        &mut self,
        now: Instant,
        deliver: &mut dyn FnMut(SocketAddr, &[u8]),
    ) -> (bool, Option<Instant>);
    /// A datagram from `source`.
    fn receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8]);
    /// The time [`Side::drain`] last asked for has come.
    fn wake(&mut self, now: Instant);
}

impl Side for Relay {
    fn drain(
        &mut self,
        _: Instant,
        deliver: &mut dyn FnMut(SocketAddr, &[u8]),
    ) -> (bool, Option<Instant>) {
        let mut moved = false;
        loop {
            match self.poll_output() {
                Output::Transmit(t) => {
                    moved = true;
                    deliver(t.destination, &t.contents);
                }
                Output::Timeout(t) => return (moved, Some(t)),
            }
        }
    }

    fn receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8]) {
        self.handle_input(now, Input::Receive { source, contents });
    }

    fn wake(&mut self, now: Instant) {
        self.handle_input(now, Input::Timeout);
    }
}

/// A relay config for tests on [`RELAY_ADDR`] with `limits`, and its entry.
pub(crate) fn test_config(limits: Limits) -> (RelayConfig, RelayEntry) {
    let identity = RelayIdentity::generate().expect("identity generation");
    let port = RELAY_ADDR.port().try_into().expect("non-zero port");
    let entry = identity.entry(
        RelayAddress::from_ip(RELAY_ADDR.ip()).expect("ip address"),
        port,
        IceUfrag::default_relay(),
    );
    let mut config = RelayConfig::new(&identity, &entry, RELAY_ADDR);
    config.limits = limits;
    (config, entry)
}

pub(crate) struct Net<S: Side = Relay> {
    /// The relay side: one core (the core's tests), or the shards.
    pub(crate) relay: S,
    pub(crate) entry: RelayEntry,
    pub(crate) clients: Vec<Client>,
    pub(crate) now: Instant,
    /// Datagrams the relay sent to addresses no client has (spoofed sources, victims).
    pub(crate) strays: Vec<(SocketAddr, usize)>,
    relay_timeout: Option<Instant>,
}

impl Net {
    pub(crate) fn new(limits: Limits) -> Self {
        Self::with(limits, false)
    }

    /// A relay whose config says whether it is federated.
    pub(crate) fn with(limits: Limits, federated: bool) -> Self {
        let (mut config, entry) = test_config(limits);
        config.federated = federated;
        let now = Instant::now();
        let relay = Relay::new(config, now).expect("valid config");
        Net::on(relay, entry, now)
    }
}

impl<S: Side> Net<S> {
    /// Clients of `relay`, whose entry is `entry`, at `now`.
    pub(crate) fn on(relay: S, entry: RelayEntry, now: Instant) -> Self {
        Self {
            relay,
            entry,
            clients: Vec::new(),
            now,
            strays: Vec::new(),
            relay_timeout: None,
        }
    }

    /// Adds a client at 10.0.<ip_byte>.1:5000+n, n being its index, which it returns.
    pub(crate) fn add_client_on(&mut self, ip_byte: u8) -> usize {
        let n = self.clients.len();
        self.add_client_at(SocketAddr::from((
            Ipv4Addr::new(10, 0, ip_byte, 1),
            5000 + n as u16,
        )))
    }

    /// Adds a client at `addr`; returns its index.
    pub(crate) fn add_client_at(&mut self, addr: SocketAddr) -> usize {
        let n = self.clients.len();
        let conn = Connection::new(&self.entry, addr, None, self.now).expect("client");
        self.clients.push(Client {
            conn,
            addr,
            frames: VecDeque::new(),
            open: false,
            closed: false,
            silent: false,
            me: None,
            views: HashMap::new(),
            timeout: None,
        });
        n
    }

    pub(crate) fn add_client(&mut self) -> usize {
        let n = self.clients.len() as u8;
        self.add_client_on(n + 1)
    }

    /// Delivers everything in flight; returns whether anything moved.
    pub(crate) fn pump(&mut self) -> bool {
        let (clients, strays, now) = (&mut self.clients, &mut self.strays, self.now);
        let (mut moved, timeout) = self.relay.drain(now, &mut |to, contents| match clients
            .iter_mut()
            .find(|c| c.addr == to)
        {
            Some(c) => c.conn.handle_receive(now, RELAY_ADDR, contents),
            None => strays.push((to, contents.len())),
        });
        self.relay_timeout = timeout;
        for c in &mut self.clients {
            if c.closed {
                continue;
            }
            loop {
                match c.conn.poll() {
                    ClientOutput::Transmit(t) => {
                        moved = true;
                        if !c.silent {
                            self.relay.receive(self.now, c.addr, &t.contents);
                        }
                    }
                    ClientOutput::Open => c.open = true,
                    ClientOutput::Frame(f) => c.frames.push_back(f),
                    ClientOutput::Closed => {
                        c.closed = true;
                        break;
                    }
                    ClientOutput::Timeout(t) => {
                        c.timeout = Some(t);
                        break;
                    }
                }
            }
        }
        moved
    }

    /// One step: deliver, and if nothing moved advance time to the earliest timeout.
    pub(crate) fn step(&mut self) {
        if self.pump() {
            return;
        }
        let next = self.next_wake();
        self.advance(next);
    }

    /// The earliest time the relay or a client wants to be woken.
    pub(crate) fn next_wake(&self) -> Instant {
        self.clients
            .iter()
            .filter(|c| !c.closed)
            .filter_map(|c| c.timeout)
            .chain(self.relay_timeout)
            .min()
            .unwrap_or(self.now + Duration::from_millis(10))
    }

    /// Moves time to `next` (at least 1 ms on) and wakes whoever asked for it.
    pub(crate) fn advance(&mut self, next: Instant) {
        // Never stand still: str0m may ask for "now" repeatedly.
        self.now = next.max(self.now + Duration::from_millis(1));
        if self.relay_timeout.is_some_and(|t| t <= self.now) {
            self.relay.wake(self.now);
        }
        let now = self.now;
        for c in self.clients.iter_mut().filter(|c| !c.closed) {
            if c.timeout.is_some_and(|t| t <= now) {
                c.conn.handle_timeout(now);
            }
        }
    }

    /// Steps until `done` holds; panics after a generous bound of simulated time.
    pub(crate) fn run_until(&mut self, what: &str, mut done: impl FnMut(&mut Self) -> bool) {
        let start = self.now;
        for _ in 0..200_000 {
            if done(self) {
                return;
            }
            self.step();
            if self.now.duration_since(start) > Duration::from_secs(600) {
                break;
            }
        }
        panic!("gave up waiting for {what}");
    }

    /// Runs for `d` of simulated time.
    pub(crate) fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..200_000 {
            if self.now >= end {
                return;
            }
            self.step();
        }
    }

    /// Runs for exactly `d` of simulated time: unlike [`Self::run_for`], never jumps past its
    /// end to a later timeout (for tests that inject traffic at a steady rate).
    pub(crate) fn run_exactly(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..200_000 {
            if self.now >= end {
                return;
            }
            if !self.pump() {
                let next = self.next_wake().min(end);
                self.advance(next);
            }
        }
    }

    pub(crate) fn connect(&mut self, i: usize) {
        self.run_until("channel open", |n| n.clients[i].open);
    }

    pub(crate) fn send(&mut self, i: usize, message: ClientMessage<'_>) {
        self.clients[i].conn.send(&message).expect("send");
    }

    pub(crate) fn send_raw(&mut self, i: usize, frame: &[u8]) {
        self.clients[i].conn.send_raw(frame).expect("send");
    }

    /// Waits for client `i`'s next frame and returns it (owned bytes).
    pub(crate) fn next_frame(&mut self, i: usize) -> Vec<u8> {
        self.run_until("a frame", |n| !n.clients[i].frames.is_empty());
        self.clients[i]
            .frames
            .pop_front()
            .expect("checked non-empty")
    }

    /// Connects client `i` and completes a version 1 hello; returns its peer id.
    pub(crate) fn hello(&mut self, i: usize) -> PeerId {
        self.hello_as(i, PROTOCOL_V1)
    }

    /// Connects client `i` and completes a hello for `version`; returns its peer id.
    pub(crate) fn hello_as(&mut self, i: usize, version: u8) -> PeerId {
        self.connect(i);
        self.send(i, ClientMessage::Hello { version });
        let frame = self.next_frame(i);
        self.welcomed(&frame, version)
    }

    /// Checks `frame` is this relay's `Welcome` for `version`; returns the peer id.
    pub(crate) fn welcomed(&self, frame: &[u8], version: u8) -> PeerId {
        match RelayMessage::decode(frame) {
            Ok(RelayMessage::Welcome(w)) => {
                assert_eq!(w.entry, self.entry.to_bytes().as_slice());
                assert_eq!(w.version, version, "Welcome echoes the session's version");
                w.peer
            }
            other => panic!("expected welcome, got {other:?}"),
        }
    }
}
