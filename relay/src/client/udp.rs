//! Drives a [`Connection`] over a tokio UDP socket (one socket per client).

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bootstrap_codec::RelayEntry;
use str0m::config::DtlsCert;
use tokio::net::UdpSocket;

use super::{ClientError, ClientOutput, Connection};
use crate::protocol::ClientMessage;

/// A connected native client.
pub struct UdpClient {
    socket: UdpSocket,
    conn: Connection,
    frames: VecDeque<Vec<u8>>,
    timeout: Instant,
    closed: bool,
    buf: Vec<u8>,
}

impl UdpClient {
    /// Connects to the relay in `entry` (at `relay` if given, else the entry's address) and
    /// waits until the DataChannel is open, at most `within`.
    pub async fn connect(
        entry: &RelayEntry,
        relay: Option<SocketAddr>,
        cert: Option<DtlsCert>,
        within: Duration,
    ) -> Result<Self, ClientError> {
        Self::connect_from(None, entry, relay, cert, within).await
    }

    /// Like [`Self::connect`], sending from `local_ip` (for example one of several
    /// 127.0.0.x addresses, to open more sessions than one address has ports, or to spread
    /// over the relay's per-IP limit); `None` lets the route choose.
    pub async fn connect_from(
        local_ip: Option<IpAddr>,
        entry: &RelayEntry,
        relay: Option<SocketAddr>,
        cert: Option<DtlsCert>,
        within: Duration,
    ) -> Result<Self, ClientError> {
        let relay = match relay {
            Some(addr) => addr,
            None => {
                let ip = entry
                    .address()
                    .ip()
                    .ok_or_else(|| ClientError::NoIp(entry.address().to_string()))?;
                SocketAddr::new(ip, entry.port())
            }
        };
        let bind = match local_ip {
            Some(ip) => SocketAddr::new(ip, 0),
            None if relay.is_ipv4() => ([0, 0, 0, 0], 0).into(),
            None => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(bind).await?;
        // Connecting a UDP socket picks the source address the route uses: our candidate.
        socket.connect(relay).await?;
        let local = socket.local_addr()?;
        let now = Instant::now();
        let conn = Connection::to_addr(entry, relay, local, cert, now)?;
        let mut client = Self {
            socket,
            conn,
            frames: VecDeque::new(),
            timeout: now,
            closed: false,
            buf: vec![0; 2048],
        };
        let deadline = now + within;
        client.flush().await?;
        while !client.conn.is_open() {
            client.step(deadline, "the data channel to open").await?;
        }
        Ok(client)
    }

    /// The local socket address.
    pub fn local_addr(&self) -> Result<SocketAddr, ClientError> {
        Ok(self.socket.local_addr()?)
    }

    /// Sends one protocol message.
    pub async fn send(&mut self, message: &ClientMessage<'_>) -> Result<(), ClientError> {
        self.conn.send(message)?;
        self.flush().await
    }

    /// Sends raw bytes as one frame.
    pub async fn send_raw(&mut self, frame: &[u8]) -> Result<(), ClientError> {
        self.conn.send_raw(frame)?;
        self.flush().await
    }

    /// Sends a raw UDP datagram to the relay, bypassing WebRTC (for robustness tests).
    pub async fn send_datagram(&self, datagram: &[u8]) -> Result<(), ClientError> {
        self.socket.send(datagram).await?;
        Ok(())
    }

    /// The next frame from the relay, waiting at most `within`.
    pub async fn recv(&mut self, within: Duration) -> Result<Vec<u8>, ClientError> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(frame) = self.frames.pop_front() {
                return Ok(frame);
            }
            if self.closed {
                return Err(ClientError::Closed);
            }
            self.step(deadline, "a frame").await?;
        }
    }

    /// Closes the connection and flushes what that sends.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.conn.close();
        self.flush().await
    }

    /// Sends everything pending and collects frames; returns at the connection's timeout.
    async fn flush(&mut self) -> Result<(), ClientError> {
        loop {
            match self.conn.poll() {
                ClientOutput::Transmit(t) => {
                    // Best effort, like any UDP sender; the transport retransmits.
                    let _ = self.socket.send(&t.contents).await;
                }
                ClientOutput::Open => {}
                ClientOutput::Frame(f) => self.frames.push_back(f),
                ClientOutput::Closed => {
                    self.closed = true;
                    return Ok(());
                }
                ClientOutput::Timeout(t) => {
                    self.timeout = t;
                    return Ok(());
                }
            }
        }
    }

    /// Waits for a datagram or the next timeout (or fails at `deadline`), then flushes. Every
    /// change to the connection is followed by a flush, so nothing is pending on entry.
    async fn step(&mut self, deadline: Instant, what: &'static str) -> Result<(), ClientError> {
        if self.closed {
            return Err(ClientError::Closed);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(ClientError::Timeout(what));
        }
        let wake = self.timeout.min(deadline).max(now);
        let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(wake));
        tokio::select! {
            received = self.socket.recv_from(&mut self.buf) => {
                let (len, source) = received?;
                self.conn.handle_receive(Instant::now(), source, &self.buf[..len]);
            }
            () = sleep => {
                self.conn.handle_timeout(Instant::now());
            }
        }
        self.flush().await
    }
}
