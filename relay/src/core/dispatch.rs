//! Layer-1 request handling: hello, rooms, signal forwarding, keepalive, errors.

use std::time::Instant;

use tracing::{debug, trace};

use super::Relay;
use crate::protocol::{
    ClientMessage, CloseCode, DecodeError, ErrorCode, NodeEntries, PeerId, RelayMessage, RoomId,
    Welcome, MAX_FRAME_LEN,
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
            // Version 2 routing lands with the federation (core part).
            ClientMessage::Signal2 { .. } => Err(ErrorCode::UnknownType),
            ClientMessage::GetNodes => {
                self.peer_buf.clear();
                NodeEntries::encode_into([self.config.entry_bytes.as_slice()], &mut self.peer_buf);
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

    fn on_join(&mut self, key: usize, room: RoomId) -> Result<(), ErrorCode> {
        let (max_rooms, max_size) = (
            usize::from(self.config.limits.max_rooms_per_session),
            usize::from(self.config.limits.max_room_size),
        );
        let session = self.session(key).ok_or(ErrorCode::NotInRoom)?;
        if session.rooms.contains(&room) {
            return Err(ErrorCode::AlreadyJoined);
        }
        if session.rooms.len() >= max_rooms {
            return Err(ErrorCode::TooManyRooms);
        }
        let joiner = session.peer;
        if self.rooms.get(&room).is_some_and(|m| m.len() >= max_size) {
            return Err(ErrorCode::RoomFull);
        }
        if let Some(session) = self.session(key) {
            session.rooms.push(room);
        }
        let members = self.rooms.entry(room).or_default();
        // Tell the joiner who is there.
        self.peer_buf.clear();
        for &m in members.iter() {
            if let Some(Some(s)) = self.sessions.get(m) {
                self.peer_buf.extend_from_slice(&s.peer.get().to_be_bytes());
            }
        }
        let others = members.clone();
        members.push(key);
        self.scratch.clear();
        if let Some(peers) = crate::protocol::PeerList::from_wire(&self.peer_buf) {
            RelayMessage::Room { room, peers }.encode(&mut self.scratch);
            self.write_scratch(key);
        }
        // Tell everyone else.
        self.scratch.clear();
        RelayMessage::Joined { room, peer: joiner }.encode(&mut self.scratch);
        for m in others {
            self.write_scratch(m);
        }
        Ok(())
    }

    fn on_leave(&mut self, key: usize, room: RoomId) -> Result<(), ErrorCode> {
        let session = self.session(key).ok_or(ErrorCode::NotInRoom)?;
        let Some(pos) = session.rooms.iter().position(|r| *r == room) else {
            return Err(ErrorCode::NotInRoom);
        };
        session.rooms.swap_remove(pos);
        let peer = session.peer;
        self.scratch.clear();
        RelayMessage::Left { room, peer }.encode(&mut self.scratch);
        self.write_scratch(key);
        self.remove_member(key, room);
        Ok(())
    }

    fn on_signal(
        &mut self,
        key: usize,
        room: RoomId,
        to: PeerId,
        blob: &[u8],
    ) -> Result<(), ErrorCode> {
        let session = self.session(key).ok_or(ErrorCode::NotInRoom)?;
        if !session.rooms.contains(&room) {
            return Err(ErrorCode::NotInRoom);
        }
        let from = session.peer;
        let target = self
            .by_peer
            .get(&to)
            .copied()
            .ok_or(ErrorCode::UnknownPeer)?;
        let in_room = matches!(
            self.sessions.get(target),
            Some(Some(t)) if t.is_open() && t.rooms.contains(&room)
        );
        if !in_room {
            return Err(ErrorCode::UnknownPeer);
        }
        self.scratch.clear();
        RelayMessage::Signal { room, from, blob }.encode(&mut self.scratch);
        self.write_scratch(target);
        self.stats.signals_forwarded += 1;
        Ok(())
    }

    /// Removes `key` from every room it is in, telling the remaining members.
    pub(super) fn leave_all_rooms(&mut self, key: usize) {
        let Some(session) = self.session(key) else {
            return;
        };
        let rooms = std::mem::take(&mut session.rooms);
        for room in rooms {
            self.remove_member(key, room);
        }
    }

    /// Takes `key` out of `room`'s member list, sends `Left` to the others and forgets the
    /// room once empty. The caller has already removed `room` from the session's own list.
    fn remove_member(&mut self, key: usize, room: RoomId) {
        let Some(peer) = self.session(key).map(|s| s.peer) else {
            return;
        };
        let Some(members) = self.rooms.get_mut(&room) else {
            return;
        };
        if let Some(pos) = members.iter().position(|&m| m == key) {
            members.swap_remove(pos);
        }
        if members.is_empty() {
            self.rooms.remove(&room);
            return;
        }
        let others = members.clone();
        self.scratch.clear();
        RelayMessage::Left { room, peer }.encode(&mut self.scratch);
        for m in others {
            self.write_scratch(m);
        }
    }

    /// Encodes `message` and writes it to `key`'s channel.
    pub(super) fn send(&mut self, key: usize, message: &RelayMessage<'_>) {
        self.scratch.clear();
        message.encode(&mut self.scratch);
        self.write_scratch(key);
    }

    /// Writes the frame in `self.scratch` to `key`'s channel (if open or closing).
    fn write_scratch(&mut self, key: usize) {
        let Some(session) = self.sessions.get_mut(key).and_then(Option::as_mut) else {
            return;
        };
        let Some(id) = session.channel else {
            return;
        };
        let written = session
            .rtc
            .channel(id)
            .map(|mut ch| ch.write(true, &self.scratch));
        match written {
            Some(Ok(true)) => {
                self.stats.messages_out += 1;
                self.stats.bytes_out += self.scratch.len() as u64;
            }
            // Buffer full, or the client is closing and str0m no longer takes writes.
            _ => self.stats.rejects.send_dropped += 1,
        }
        self.mark_dirty(key);
    }
}
