//! Joining and leaving rooms, and telling members about it in their protocol version.
//!
//! A version 1 session sees only this relay's members, by [`PeerId`]; a version 2 session
//! sees every member of the federation by [`PeerAddr`] (this relay's as its own tag plus the
//! session id). Room size is enforced over both.
//!
//! Two relays that admit joiners to a nearly full room within one gossip delay may each
//! admit one the other then has no place for: each relay still holds at most
//! `max_room_size` members, but their views differ until someone leaves (the refused member
//! is counted in `remote_members_refused`, and its signals are dropped as unknown).
//!
//! Each member's joins are told to everyone, so they are limited per member and room, and
//! each room's joins and leaves together by its churn budget ([`super::forward`]): a join
//! past either is refused with `RateLimited` (from another relay: not kept, counted in
//! `mesh_ignored`), and so is never told. Leaving is never refused; it follows a join that
//! was told.

use super::forward::JoinRefusal;
use super::{MeshOutput, Relay};
use crate::protocol::{
    AddrList, ErrorCode, PeerAddr, PeerId, PeerList, RelayMessage, RoomId, PROTOCOL_V1,
    PROTOCOL_VERSION,
};

impl Relay {
    /// This relay's address for its session `peer`.
    pub(super) fn local_addr_of(&self, peer: PeerId) -> PeerAddr {
        PeerAddr {
            relay: self.config.tag,
            session: peer,
        }
    }

    /// Queues an output for the federation (only a federated relay or a shard does).
    pub(super) fn queue_mesh(&mut self, output: MeshOutput) {
        if self.meshes() {
            self.mesh_out.push_back(output);
        }
    }

    pub(super) fn on_join(&mut self, key: usize, room: RoomId) -> Result<(), ErrorCode> {
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
        let (joiner, version, now) = (session.peer, session.version, session.last_activity);
        if self.rooms.get(&room).is_some_and(|r| r.len() >= max_size) {
            return Err(ErrorCode::RoomFull);
        }
        // A shard's room holds what it heard of the other shards' members, which may lag:
        // the relay-wide count decides.
        let shared = self.config.shard.as_ref().map(|s| s.shared());
        if shared.is_some_and(|shared| !shared.join_room(room, max_size)) {
            return Err(ErrorCode::RoomFull);
        }
        // The frame's time: the dispatcher stamps it as the session's last activity.
        let (addr, limits) = (self.local_addr_of(joiner), self.forward);
        let members = self.rooms.entry(room).or_default();
        if let Err(refusal) = members.forward.allow_join(&limits, now, addr, false) {
            if members.local.is_empty() {
                self.rooms.remove(&room);
            }
            if let Some(shard) = &self.config.shard {
                shard.shared().leave_room(room);
            }
            self.count_join_refusal(refusal);
            return Err(ErrorCode::RateLimited);
        }
        if let Some(session) = self.session(key) {
            session.rooms.push(room);
        }
        // Tell the joiner who is there.
        let tag = self.config.tag;
        let members = self.rooms.entry(room).or_default();
        let local_peers = members
            .local
            .iter()
            .filter_map(|&m| self.sessions.get(m).and_then(Option::as_ref))
            .map(|s| s.peer);
        self.peer_buf.clear();
        if version == PROTOCOL_V1 {
            PeerList::encode_into(local_peers, &mut self.peer_buf);
        } else {
            let local = local_peers.map(|session| PeerAddr {
                relay: tag,
                session,
            });
            AddrList::encode_into(local.chain(members.remote()), &mut self.peer_buf);
        }
        // The lists hold non-zero ids of whole length, so they always read back.
        let answer = if version == PROTOCOL_V1 {
            PeerList::from_wire(&self.peer_buf).map(|peers| RelayMessage::Room { room, peers })
        } else {
            AddrList::from_wire(&self.peer_buf).map(|peers| RelayMessage::Room2 { room, peers })
        };
        if let Some(answer) = answer {
            self.scratch.clear();
            answer.encode(&mut self.scratch);
            self.write_scratch(key);
        }
        // Tell everyone else, then count the joiner in.
        self.tell_room(
            room,
            Some(&RelayMessage::Joined { room, peer: joiner }),
            &RelayMessage::Joined2 { room, peer: addr },
        );
        if let Some(members) = self.rooms.get_mut(&room) {
            members.local.push(key);
        }
        self.queue_mesh(MeshOutput::Joined {
            room,
            session: joiner,
        });
        Ok(())
    }

    pub(super) fn on_leave(&mut self, key: usize, room: RoomId) -> Result<(), ErrorCode> {
        let session = self.session(key).ok_or(ErrorCode::NotInRoom)?;
        let Some(pos) = session.rooms.iter().position(|r| *r == room) else {
            return Err(ErrorCode::NotInRoom);
        };
        session.rooms.swap_remove(pos);
        let (peer, version) = (session.peer, session.version);
        let answer = if version == PROTOCOL_V1 {
            RelayMessage::Left { room, peer }
        } else {
            RelayMessage::Left2 {
                room,
                peer: self.local_addr_of(peer),
            }
        };
        self.send(key, &answer);
        self.remove_member(key, room);
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

    /// Takes `key` out of `room`'s members, tells the others (and the federation) and
    /// forgets the room, remote members included, once no local member is left. The caller
    /// has already removed `room` from the session's own list. The leave is charged to the
    /// room's churn at the session's last activity (a timeout's own time is not at hand).
    fn remove_member(&mut self, key: usize, room: RoomId) {
        let Some((peer, now)) = self.session(key).map(|s| (s.peer, s.last_activity)) else {
            return;
        };
        let Some(members) = self.rooms.get_mut(&room) else {
            return;
        };
        let Some(pos) = members.local.iter().position(|&m| m == key) else {
            return;
        };
        members.local.swap_remove(pos);
        if let Some(shard) = &self.config.shard {
            shard.shared().leave_room(room);
        }
        if members.local.is_empty() {
            self.rooms.remove(&room);
        } else {
            members.forward.note_leave(&self.forward, now);
            let addr = self.local_addr_of(peer);
            self.tell_room(
                room,
                Some(&RelayMessage::Left { room, peer }),
                &RelayMessage::Left2 { room, peer: addr },
            );
        }
        self.queue_mesh(MeshOutput::Left {
            room,
            session: peer,
        });
    }

    /// Counts a refused join under its reason.
    pub(super) fn count_join_refusal(&mut self, refusal: JoinRefusal) {
        match refusal {
            JoinRefusal::Member => self.stats.joins_limited += 1,
            JoinRefusal::RoomChurn => self.stats.room_churn_limited += 1,
        }
    }

    /// Sends a membership change to `room`'s local members: version 1 sessions get `v1`
    /// (`None` for a remote member, which they never see), version 2 sessions get `v2`.
    pub(super) fn tell_room(
        &mut self,
        room: RoomId,
        v1: Option<&RelayMessage<'_>>,
        v2: &RelayMessage<'_>,
    ) {
        let Some(members) = self.rooms.get_mut(&room) else {
            return;
        };
        // Taken out while writing (writing never touches rooms), put back after.
        let local = std::mem::take(&mut members.local);
        for (version, message) in [(PROTOCOL_V1, v1), (PROTOCOL_VERSION, Some(v2))] {
            let Some(message) = message else {
                continue;
            };
            self.scratch.clear();
            message.encode(&mut self.scratch);
            for &m in &local {
                if self.version_of(m) == Some(version) {
                    self.write_scratch(m);
                }
            }
        }
        if let Some(members) = self.rooms.get_mut(&room) {
            members.local = local;
        }
    }

    /// The protocol version session `key` speaks, if it exists.
    pub(super) fn version_of(&self, key: usize) -> Option<u8> {
        self.sessions
            .get(key)
            .and_then(Option::as_ref)
            .map(|s| s.version)
    }
}
