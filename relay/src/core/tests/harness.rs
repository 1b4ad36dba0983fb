//! An in-memory network: one relay core and str0m client connections, fake time, lossless
//! delivery. Time only moves when nothing is in flight, to the earliest timeout.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bootstrap_codec::{IceUfrag, RelayAddress, RelayEntry};
use keystore::RelayIdentity;

use crate::client::{ClientOutput, Connection};
use crate::core::{Input, Limits, Output, Relay, RelayConfig};
use crate::protocol::{ClientMessage, PeerId, RelayMessage, PROTOCOL_V1};

pub(super) const RELAY_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 3478);

/// One simulated client.
pub(super) struct Client {
    pub(super) conn: Connection,
    pub(super) addr: SocketAddr,
    pub(super) frames: VecDeque<Vec<u8>>,
    pub(super) open: bool,
    pub(super) closed: bool,
    /// A silent client stops sending (its host vanished) but still receives.
    pub(super) silent: bool,
    timeout: Option<Instant>,
}

pub(super) struct Net {
    pub(super) relay: Relay,
    pub(super) entry: RelayEntry,
    pub(super) clients: Vec<Client>,
    pub(super) now: Instant,
    /// Datagrams the relay sent to addresses no client has (spoofed sources, victims).
    pub(super) strays: Vec<(SocketAddr, usize)>,
    relay_timeout: Option<Instant>,
}

impl Net {
    pub(super) fn new(limits: Limits) -> Self {
        Self::with(limits, false)
    }

    /// A relay whose config says whether it is federated.
    pub(super) fn with(limits: Limits, federated: bool) -> Self {
        let identity = RelayIdentity::generate().expect("identity generation");
        let port = RELAY_ADDR.port().try_into().expect("non-zero port");
        let entry = identity.entry(
            RelayAddress::from_ip(RELAY_ADDR.ip()).expect("ip address"),
            port,
            IceUfrag::default_relay(),
        );
        let mut config = RelayConfig::new(&identity, &entry, RELAY_ADDR);
        config.limits = limits;
        config.federated = federated;
        let now = Instant::now();
        let relay = Relay::new(config, now).expect("valid config");
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
    pub(super) fn add_client_on(&mut self, ip_byte: u8) -> usize {
        let n = self.clients.len();
        self.add_client_at(SocketAddr::from((
            Ipv4Addr::new(10, 0, ip_byte, 1),
            5000 + n as u16,
        )))
    }

    /// Adds a client at `addr`; returns its index.
    pub(super) fn add_client_at(&mut self, addr: SocketAddr) -> usize {
        let n = self.clients.len();
        let conn = Connection::new(&self.entry, addr, None, self.now).expect("client");
        self.clients.push(Client {
            conn,
            addr,
            frames: VecDeque::new(),
            open: false,
            closed: false,
            silent: false,
            timeout: None,
        });
        n
    }

    pub(super) fn add_client(&mut self) -> usize {
        let n = self.clients.len() as u8;
        self.add_client_on(n + 1)
    }

    /// Delivers everything in flight; returns whether anything moved.
    pub(super) fn pump(&mut self) -> bool {
        let mut moved = false;
        loop {
            match self.relay.poll_output() {
                Output::Transmit(t) => {
                    moved = true;
                    match self.clients.iter_mut().find(|c| c.addr == t.destination) {
                        Some(c) => c.conn.handle_receive(self.now, RELAY_ADDR, &t.contents),
                        None => self.strays.push((t.destination, t.contents.len())),
                    }
                }
                Output::Timeout(t) => {
                    self.relay_timeout = Some(t);
                    break;
                }
            }
        }
        for c in &mut self.clients {
            if c.closed {
                continue;
            }
            loop {
                match c.conn.poll() {
                    ClientOutput::Transmit(t) => {
                        moved = true;
                        if !c.silent {
                            let input = Input::Receive {
                                source: c.addr,
                                contents: &t.contents,
                            };
                            self.relay.handle_input(self.now, input);
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
    pub(super) fn step(&mut self) {
        if self.pump() {
            return;
        }
        let next = self.next_wake();
        self.advance(next);
    }

    /// The earliest time the relay or a client wants to be woken.
    pub(super) fn next_wake(&self) -> Instant {
        self.clients
            .iter()
            .filter(|c| !c.closed)
            .filter_map(|c| c.timeout)
            .chain(self.relay_timeout)
            .min()
            .unwrap_or(self.now + Duration::from_millis(10))
    }

    /// Moves time to `next` (at least 1 ms on) and wakes whoever asked for it.
    pub(super) fn advance(&mut self, next: Instant) {
        // Never stand still: str0m may ask for "now" repeatedly.
        self.now = next.max(self.now + Duration::from_millis(1));
        if self.relay_timeout.is_some_and(|t| t <= self.now) {
            self.relay.handle_input(self.now, Input::Timeout);
        }
        let now = self.now;
        for c in self.clients.iter_mut().filter(|c| !c.closed) {
            if c.timeout.is_some_and(|t| t <= now) {
                c.conn.handle_timeout(now);
            }
        }
    }

    /// Steps until `done` holds; panics after a generous bound of simulated time.
    pub(super) fn run_until(&mut self, what: &str, mut done: impl FnMut(&mut Net) -> bool) {
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
    pub(super) fn run_for(&mut self, d: Duration) {
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
    pub(super) fn run_exactly(&mut self, d: Duration) {
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

    pub(super) fn connect(&mut self, i: usize) {
        self.run_until("channel open", |n| n.clients[i].open);
    }

    pub(super) fn send(&mut self, i: usize, message: ClientMessage<'_>) {
        self.clients[i].conn.send(&message).expect("send");
    }

    pub(super) fn send_raw(&mut self, i: usize, frame: &[u8]) {
        self.clients[i].conn.send_raw(frame).expect("send");
    }

    /// Waits for client `i`'s next frame and returns it (owned bytes).
    pub(super) fn next_frame(&mut self, i: usize) -> Vec<u8> {
        self.run_until("a frame", |n| !n.clients[i].frames.is_empty());
        self.clients[i]
            .frames
            .pop_front()
            .expect("checked non-empty")
    }

    /// Connects client `i` and completes a version 1 hello; returns its peer id.
    pub(super) fn hello(&mut self, i: usize) -> PeerId {
        self.hello_as(i, PROTOCOL_V1)
    }

    /// Connects client `i` and completes a hello for `version`; returns its peer id.
    pub(super) fn hello_as(&mut self, i: usize, version: u8) -> PeerId {
        self.connect(i);
        self.send(i, ClientMessage::Hello { version });
        let frame = self.next_frame(i);
        self.welcomed(&frame, version)
    }

    /// Checks `frame` is this relay's `Welcome` for `version`; returns the peer id.
    pub(super) fn welcomed(&self, frame: &[u8], version: u8) -> PeerId {
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
