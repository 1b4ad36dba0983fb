//! Layer-1 request handling: decoding, rate limits and errors, hello, keepalive, nodes;
//! rooms are in `membership`, signals in `signal`.

use std::time::Instant;

use tracing::{debug, trace};

use super::Relay;
use crate::protocol::{
    ClientMessage, CloseCode, DecodeError, ErrorCode, NodeEntries, RelayMessage, Welcome,
    MAX_FRAME_LEN,
};

/// Strikes refill at one per this many seconds.
const STRIKE_REFILL_PER_SEC: f32 = 0.1;

impl Relay {
    /// Handles one frame from an open session.
    pub(super) fn on_frame(&mut self, key: usize, now: Instant, frame: &[u8]) {
        let limits = &self.config.limits;
        let (rate, burst) = (
            f32::from(limits.messages_per_sec),
            f32::from(limits.message_burst),
        );
        self.stats.messages_in += 1;
        self.stats.bytes_in += frame.len() as u64;
        let Some(session) = self.session(key) else {
            return;
        };
        session.last_activity = now;
        // What the relay is given to read; tests use it to prove room names and SDP never
        // reach it in the clear.
        trace!(peer = %session.peer, frame = %hex::encode(frame), "frame in");
        let request = frame.first().copied().unwrap_or(0);
        if !session.messages.take(now, rate, burst) {
            self.stats.rejects.message_rate_limited += 1;
            self.strike(key, now, ErrorCode::RateLimited, request);
            return;
        }
        let hello = session.hello;
        let message = match ClientMessage::decode(frame) {
            Ok(message) => message,
            Err(e) => {
                self.stats.rejects.malformed += 1;
                let code = match e {
                    DecodeError::TooLarge { .. } => ErrorCode::TooLarge,
                    DecodeError::UnknownType(_) => ErrorCode::UnknownType,
                    _ => ErrorCode::Malformed,
                };
                self.strike(key, now, code, request);
                return;
            }
        };
        let result = match message {
            ClientMessage::Hello { version } => self.on_hello(key, now, hello, version),
            _ if !hello => Err(ErrorCode::HelloRequired),
            ClientMessage::Join { room } => self.on_join(key, room),
            ClientMessage::Leave { room } => self.on_leave(key, room),
            ClientMessage::Signal { room, to, blob } => self.on_signal(key, room, to, blob),
            ClientMessage::Ping { nonce } => {
                self.send(key, &RelayMessage::Pong { nonce });
                Ok(())
            }
            ClientMessage::Signal2 { room, to, blob } => self.on_signal2(key, room, to, blob),
            ClientMessage::GetNodes => {
                self.peer_buf.clear();
                let own = std::iter::once(self.config.entry_bytes.as_slice());
                let others = self.directory.iter().map(Vec::as_slice);
                NodeEntries::encode_into(own.chain(others), &mut self.peer_buf);
                self.scratch.clear();
                let nodes = NodeEntries::from_wire(&self.peer_buf);
                if let Some(nodes) = nodes {
                    RelayMessage::Nodes(nodes).encode(&mut self.scratch);
                    self.write_scratch(key);
                }
                Ok(())
            }
        };
        if let Err(code) = result {
            self.stats.rejects.refused += 1;
            self.strike(key, now, code, request);
        }
    }

    /// Answers an error and charges a strike; out of strikes, the session is closed.
    fn strike(&mut self, key: usize, now: Instant, code: ErrorCode, request: u8) {
        let burst = f32::from(self.config.limits.error_strikes);
        let Some(session) = self.session(key) else {
            return;
        };
        if session.strikes.take(now, STRIKE_REFILL_PER_SEC, burst) {
            self.send(key, &RelayMessage::Error { code, request });
        } else {
            debug!(peer = %session.peer, "too many errors, closing session");
            self.stats.sessions_kicked += 1;
            self.close_session(key, now, CloseCode::TooManyErrors);
        }
    }

    fn on_hello(
        &mut self,
        key: usize,
        now: Instant,
        hello: bool,
        version: u8,
    ) -> Result<(), ErrorCode> {
        if hello {
            return Err(ErrorCode::DuplicateHello);
        }
        if !crate::protocol::is_supported(version) {
            self.send(
                key,
                &RelayMessage::Error {
                    code: ErrorCode::UnsupportedVersion,
                    request: crate::protocol::msg_type::HELLO,
                },
            );
            self.close_session(key, now, CloseCode::UnsupportedVersion);
            return Ok(());
        }
        let Some(session) = self.sessions.get_mut(key).and_then(Option::as_mut) else {
            return Ok(());
        };
        session.hello = true;
        session.version = version;
        let l = &self.config.limits;
        let welcome = Welcome {
            version,
            peer: session.peer,
            // MAX_FRAME_LEN is 16384, which fits in u16.
            max_frame: MAX_FRAME_LEN as u16,
            max_room_size: l.max_room_size,
            max_rooms: l.max_rooms_per_session,
            rate_per_sec: l.messages_per_sec,
            // Validated to fit in u16 by RelayConfig::validate.
            idle_timeout_secs: l.idle_timeout.as_secs() as u16,
            entry: &self.config.entry_bytes,
        };
        self.scratch.clear();
        RelayMessage::Welcome(welcome).encode(&mut self.scratch);
        self.write_scratch(key);
        Ok(())
    }

    /// Encodes `message` and writes it to `key`'s channel; whether it was queued.
    pub(super) fn send(&mut self, key: usize, message: &RelayMessage<'_>) -> bool {
        self.scratch.clear();
        message.encode(&mut self.scratch);
        self.write_scratch(key)
    }

    /// Writes the frame in `self.scratch` to `key`'s channel (if open or closing); whether
    /// it was queued.
    pub(super) fn write_scratch(&mut self, key: usize) -> bool {
        let Some(session) = self.sessions.get_mut(key).and_then(Option::as_mut) else {
            return false;
        };
        let Some(id) = session.channel else {
            return false;
        };
        let written = session
            .rtc
            .channel(id)
            .map(|mut ch| ch.write(true, &self.scratch));
        let queued = matches!(written, Some(Ok(true)));
        if queued {
            self.stats.messages_out += 1;
            self.stats.bytes_out += self.scratch.len() as u64;
        } else {
            // Buffer full, or the client is closing and str0m no longer takes writes.
            self.stats.rejects.send_dropped += 1;
        }
        self.mark_dirty(key);
        queued
    }
}
