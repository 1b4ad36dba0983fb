//! Signal forwarding: between sessions of this relay, to other relays and from them.
//!
//! A recipient gets a signal in its own protocol version: `Signal` (sender by id) for a
//! version 1 session, `Signal2` (sender by address) for a version 2 session. Signals from
//! other relays reach only version 2 sessions. Every signal is charged to its sender→target
//! pair in the room ([`super::forward`]); one over the pair's budget is refused
//! (`RateLimited`) or, from another relay, dropped and counted.

use std::time::Instant;

use super::{MeshOutput, Relay};
use crate::protocol::{
    msg_type, ErrorCode, PeerAddr, PeerId, RelayMessage, RoomId, MAX_BLOB2_LEN, PROTOCOL_V1,
    PROTOCOL_VERSION,
};

impl Relay {
    /// `Signal` (0x04): to a session of this relay, by id; sessions of either version may
    /// send it.
    pub(super) fn on_signal(
        &mut self,
        key: usize,
        room: RoomId,
        to: PeerId,
        blob: &[u8],
    ) -> Result<(), ErrorCode> {
        let (from, now) = self.sender_in(key, room)?;
        self.signal_local(now, (room, msg_type::SIGNAL), from, to, blob)
    }

    /// `Signal2` (0x07, version 2 sessions only): to a session of this relay or, through the
    /// federation, to a member another relay serves.
    pub(super) fn on_signal2(
        &mut self,
        key: usize,
        room: RoomId,
        to: PeerAddr,
        blob: &[u8],
    ) -> Result<(), ErrorCode> {
        if self.version_of(key) != Some(PROTOCOL_VERSION) {
            return Err(ErrorCode::UnknownType);
        }
        let (from, now) = self.sender_in(key, room)?;
        if self.is_own(to) {
            return self.signal_local(now, (room, msg_type::SIGNAL2), from, to.session, blob);
        }
        let known = self.rooms.get(&room).is_some_and(|r| r.has_remote(&to));
        if !known || !self.meshes() {
            return Err(ErrorCode::UnknownPeer);
        }
        if !self.charge(room, now, self.local_addr_of(from), to, blob.len()) {
            return Err(ErrorCode::RateLimited);
        }
        self.queue_mesh(MeshOutput::Signal {
            room,
            from,
            to,
            blob: blob.to_vec(),
        });
        self.stats.signals_to_relays += 1;
        Ok(())
    }

    /// A signal another relay's session sent to our session `to`. Delivered only if the
    /// sender is a member that relay announced in `room` and `to` is an open version 2
    /// session in `room`; anything else is dropped and counted.
    pub(super) fn signal_from_mesh(
        &mut self,
        now: Instant,
        room: RoomId,
        from: PeerAddr,
        to: PeerId,
        blob: &[u8],
    ) {
        let known =
            !self.is_own(from) && self.rooms.get(&room).is_some_and(|r| r.has_remote(&from));
        let target = self
            .member_key(room, to)
            .filter(|&t| self.version_of(t) == Some(PROTOCOL_VERSION));
        let fits = known && blob.len() <= MAX_BLOB2_LEN;
        match target {
            Some(target)
                if fits && self.charge(room, now, from, self.local_addr_of(to), blob.len()) =>
            {
                self.send(target, &RelayMessage::Signal2 { room, from, blob });
                self.stats.signals_from_relays += 1;
            }
            _ => self.stats.mesh_signals_dropped += 1,
        }
    }

    /// The sender's id, if it is in `room`, and the time of the frame being handled (the
    /// dispatcher stamps it as the session's last activity before handling it).
    fn sender_in(&mut self, key: usize, room: RoomId) -> Result<(PeerId, Instant), ErrorCode> {
        let session = self.session(key).ok_or(ErrorCode::NotInRoom)?;
        if session.rooms.contains(&room) {
            Ok((session.peer, session.last_activity))
        } else {
            Err(ErrorCode::NotInRoom)
        }
    }

    /// Charges a `len`-byte signal to `from`→`to` in `room` at `now`; whether it is within
    /// the budget (a room with no local member charges nothing: nothing is delivered).
    fn charge(
        &mut self,
        room: RoomId,
        now: Instant,
        from: PeerAddr,
        to: PeerAddr,
        len: usize,
    ) -> bool {
        let limits = self.forward;
        let Some(members) = self.rooms.get_mut(&room) else {
            return true;
        };
        let allowed = members.forward.allow_signal(&limits, now, from, to, len);
        self.stats.signals_limited += u64::from(!allowed);
        allowed
    }

    /// Delivers a signal between two sessions of this relay. One the target's channel
    /// cannot take (its send buffer is full, or it is closing) is answered `Error
    /// RateLimited` to the sender, without a strike (the target's congestion is not the
    /// sender's fault), so no signal to a member in the room vanishes unexplained.
    fn signal_local(
        &mut self,
        now: Instant,
        (room, request): (RoomId, u8),
        from: PeerId,
        to: PeerId,
        blob: &[u8],
    ) -> Result<(), ErrorCode> {
        let target = self.member_key(room, to).ok_or(ErrorCode::UnknownPeer)?;
        let v1 = self.version_of(target) == Some(PROTOCOL_V1);
        // A version 1 blob may be 8 bytes longer than a `Signal2` frame can carry.
        if !v1 && blob.len() > MAX_BLOB2_LEN {
            return Err(ErrorCode::TooLarge);
        }
        let (from_addr, to_addr) = (self.local_addr_of(from), self.local_addr_of(to));
        if !self.charge(room, now, from_addr, to_addr, blob.len()) {
            return Err(ErrorCode::RateLimited);
        }
        let queued = if v1 {
            self.send(target, &RelayMessage::Signal { room, from, blob })
        } else {
            let message = RelayMessage::Signal2 {
                room,
                from: from_addr,
                blob,
            };
            self.send(target, &message)
        };
        if queued {
            self.stats.signals_forwarded += 1;
        } else if let Some(&sender) = self.by_peer.get(&from) {
            self.stats.signals_unqueued += 1;
            let code = ErrorCode::RateLimited;
            self.send(sender, &RelayMessage::Error { code, request });
        }
        Ok(())
    }

    /// The key of session `peer` if it is open and in `room`.
    fn member_key(&self, room: RoomId, peer: PeerId) -> Option<usize> {
        let key = *self.by_peer.get(&peer)?;
        let member = matches!(
            self.sessions.get(key),
            Some(Some(s)) if s.is_open() && s.rooms.contains(&room)
        );
        member.then_some(key)
    }
}
