//! A native relay client: connects from a relay entry exactly as a browser does (controlling
//! ICE agent, DTLS client checking the relay's fingerprint, SCTP client opening one
//! DataChannel over DCEP), then speaks the Layer-1 protocol.
//!
//! [`Connection`] is sans-IO like the relay core; [`UdpClient`] drives it over a tokio UDP
//! socket. The load generator and the integration tests use both.

mod udp;

use std::net::SocketAddr;
use std::time::Instant;

use bootstrap_codec::RelayEntry;
use str0m::channel::{ChannelConfig, ChannelId};
use str0m::config::{DtlsCert, Fingerprint};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, IceCreds, Rtc, RtcConfig, RtcError};

pub use udp::UdpClient;

use crate::core::Transmit;
use crate::protocol::ClientMessage;

/// Label of the DataChannel the client opens (the relay accepts any label).
pub const CHANNEL_LABEL: &str = "lumamesh";

/// Why the client failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The entry names a host name; the native client needs an IP address.
    #[error("relay entry has no IP address (host name {0}); resolve it first")]
    NoIp(String),
    /// str0m refused something.
    #[error("webrtc: {0}")]
    Rtc(#[from] RtcError),
    /// The channel is not open (yet, or any more).
    #[error("data channel is not open")]
    NotOpen,
    /// The channel's send buffer is full.
    #[error("send buffer full")]
    BufferFull,
    /// Socket error.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The relay closed the connection or ICE was lost.
    #[error("connection closed")]
    Closed,
    /// Nothing arrived in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
}

/// What the connection wants done, or has received.
#[derive(Debug)]
pub enum ClientOutput {
    /// Send this datagram.
    Transmit(Transmit),
    /// The DataChannel opened.
    Open,
    /// A frame from the relay (decode with `RelayMessage::decode`).
    Frame(Vec<u8>),
    /// The connection is gone.
    Closed,
    /// Call [`Connection::handle_timeout`] at this time.
    Timeout(Instant),
}

/// A sans-IO client connection to one relay.
pub struct Connection {
    rtc: Rtc,
    local: SocketAddr,
    relay: SocketAddr,
    channel: ChannelId,
    open: bool,
    closed: bool,
}

impl Connection {
    /// Starts connecting from `local` to the relay described by `entry`. Pass a certificate
    /// to reuse one across many connections (generation dominates a client's CPU cost).
    pub fn new(
        entry: &RelayEntry,
        local: SocketAddr,
        cert: Option<DtlsCert>,
        now: Instant,
    ) -> Result<Self, ClientError> {
        let ip = entry
            .address()
            .ip()
            .ok_or_else(|| ClientError::NoIp(entry.address().to_string()))?;
        Self::to_addr(entry, SocketAddr::new(ip, entry.port()), local, cert, now)
    }

    /// Like [`Self::new`] but sends to `relay` instead of the entry's address.
    pub fn to_addr(
        entry: &RelayEntry,
        relay: SocketAddr,
        local: SocketAddr,
        cert: Option<DtlsCert>,
        now: Instant,
    ) -> Result<Self, ClientError> {
        let mut config = RtcConfig::new().set_crypto_provider(crate::dtls::crypto_provider());
        if let Some(cert) = cert {
            config = config.set_dtls_cert(cert);
        }
        let mut rtc = config.build(now);
        rtc.add_local_candidate(Candidate::host(local, "udp").map_err(RtcError::from)?);
        rtc.add_remote_candidate(Candidate::host(relay, "udp").map_err(RtcError::from)?);
        let mut api = rtc.direct_api();
        api.set_ice_controlling(true);
        api.set_remote_ice_credentials(IceCreds {
            ufrag: entry.ufrag().as_str().to_owned(),
            pass: entry.pwd().as_str().to_owned(),
        });
        api.set_remote_fingerprint(Fingerprint {
            hash_func: "sha-256".to_owned(),
            bytes: entry.fingerprint().as_bytes().to_vec(),
        });
        api.start_dtls(true)?;
        api.start_sctp(true);
        let channel = api.create_data_channel(ChannelConfig {
            label: CHANNEL_LABEL.to_owned(),
            ..ChannelConfig::default()
        });
        Ok(Self {
            rtc,
            local,
            relay,
            channel,
            open: false,
            closed: false,
        })
    }

    /// The relay address datagrams go to.
    pub fn relay_addr(&self) -> SocketAddr {
        self.relay
    }

    /// Whether the DataChannel is open.
    pub fn is_open(&self) -> bool {
        self.open && !self.closed
    }

    /// Feeds a datagram received from `source`.
    pub fn handle_receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8]) {
        let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, contents) else {
            return;
        };
        // A packet str0m rejects is dropped; the connection goes on.
        let _ = self.rtc.handle_input(str0m::Input::Receive(now, receive));
    }

    /// Advances time.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.rtc.handle_input(str0m::Input::Timeout(now)).is_err() {
            self.closed = true;
        }
    }

    /// Encodes and sends a protocol message.
    pub fn send(&mut self, message: &ClientMessage<'_>) -> Result<(), ClientError> {
        self.send_raw(&message.to_vec())
    }

    /// Sends raw bytes as one frame (for tests of malformed input).
    pub fn send_raw(&mut self, frame: &[u8]) -> Result<(), ClientError> {
        if !self.is_open() {
            return Err(ClientError::NotOpen);
        }
        let mut channel = self.rtc.channel(self.channel).ok_or(ClientError::NotOpen)?;
        if channel.write(true, frame)? {
            Ok(())
        } else {
            Err(ClientError::BufferFull)
        }
    }

    /// Closes the connection (DTLS close_notify, SCTP shutdown); keep polling to flush.
    pub fn close(&mut self) {
        let _ = self.rtc.close();
    }

    /// The next thing to do or report.
    pub fn poll(&mut self) -> ClientOutput {
        loop {
            match self.rtc.poll_output() {
                Ok(str0m::Output::Transmit(t)) => {
                    return ClientOutput::Transmit(Transmit {
                        destination: t.destination,
                        contents: t.contents.into(),
                    })
                }
                Ok(str0m::Output::Timeout(t)) => {
                    if self.closed || !self.rtc.is_alive() {
                        self.closed = true;
                        return ClientOutput::Closed;
                    }
                    return ClientOutput::Timeout(t);
                }
                Ok(str0m::Output::Event(event)) => match event {
                    Event::ChannelOpen(id, _) if id == self.channel => {
                        self.open = true;
                        return ClientOutput::Open;
                    }
                    Event::ChannelData(data) if data.id == self.channel => {
                        return ClientOutput::Frame(data.data);
                    }
                    Event::ChannelClose(id) if id == self.channel => {
                        self.closed = true;
                        return ClientOutput::Closed;
                    }
                    Event::Closed
                    | Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        self.closed = true;
                        return ClientOutput::Closed;
                    }
                    _ => {}
                },
                Err(_) => {
                    self.closed = true;
                    return ClientOutput::Closed;
                }
            }
        }
    }
}
