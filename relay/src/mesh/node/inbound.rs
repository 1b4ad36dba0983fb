//! What other relays say: the checks of docs/federation.md "Validation" on each received
//! message, and what a valid one hands to the core.

use std::time::{Duration, Instant, SystemTime};

use bootstrap_codec::RelayEntry;

use super::{unix_ms, Federation, Gossip, Refusal, Verdict, ROOM_MESSAGE_MAX_AGE};
use crate::core::MeshInput;
use crate::mesh::directory::Offered;
use crate::mesh::wire::{DecodeError, MeshMessage, RoomBody};
use crate::protocol::{PeerAddr, PeerId, RelayTag, RoomId};

/// Whether `at_ms` lies within `[wall − max_age, wall + skew]`.
fn fresh(at_ms: u64, wall: SystemTime, max_age: Duration, skew: Duration) -> bool {
    let wall_ms = unix_ms(wall);
    let age = u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX);
    let skew = u64::try_from(skew.as_millis()).unwrap_or(u64::MAX);
    at_ms >= wall_ms.saturating_sub(age) && at_ms <= wall_ms.saturating_add(skew)
}

impl Refusal {
    /// The refusal for bytes that do not decode.
    fn of(error: &DecodeError) -> Self {
        match error {
            DecodeError::TooLarge { .. } | DecodeError::Oversized { .. } => Refusal::Oversized,
            _ => Refusal::Malformed,
        }
    }
}

impl Federation {
    /// Checks an announcement (docs/federation.md "Validation").
    pub(super) fn announcement(
        &mut self,
        now: Instant,
        wall: SystemTime,
        gossip: Gossip<'_>,
    ) -> Result<Verdict, Refusal> {
        let message = MeshMessage::decode(gossip.data).map_err(|e| Refusal::of(&e))?;
        let MeshMessage::Announce(announce) = message else {
            return Err(Refusal::Malformed);
        };
        if gossip.author == &self.own {
            return Ok(Verdict::Ignore);
        }
        let entry = RelayEntry::decode(announce.entry).map_err(|_| Refusal::Forged)?;
        if entry.node_key() != gossip.author {
            return Err(Refusal::WrongAuthor);
        }
        let (ttl, skew) = (self.config.entry_ttl, self.config.max_clock_skew);
        if !fresh(announce.issued_at_ms, wall, ttl, skew) {
            return Err(Refusal::Stale);
        }
        let tag = RelayTag::of(gossip.author);
        if self.peer_tags.get(&tag).is_some_and(|k| k != gossip.author) {
            return Err(Refusal::WrongAuthor);
        }
        match self
            .directory
            .offer(entry, announce.mesh_port, announce.issued_at_ms, now)
        {
            Offered::NotNewer => Ok(Verdict::Ignore),
            Offered::TagTaken => Err(Refusal::WrongAuthor),
            Offered::New | Offered::Renewed => {
                self.dial(now, *gossip.author);
                self.list_directory();
                Ok(Verdict::Accept)
            }
        }
    }

    /// Checks a room message and hands it to the core (docs/federation.md "Validation").
    pub(super) fn room_message(
        &mut self,
        now: Instant,
        wall: SystemTime,
        room: RoomId,
        gossip: Gossip<'_>,
    ) -> Result<Verdict, Refusal> {
        let message = MeshMessage::decode(gossip.data).map_err(|e| Refusal::of(&e))?;
        let MeshMessage::Room(message) = message else {
            return Err(Refusal::Malformed);
        };
        if message.room != room {
            return Err(Refusal::Malformed);
        }
        let author = *gossip.author;
        // Our own, something forwarded (room traffic travels one hop) or a room we left.
        if author == self.own || gossip.via != gossip.author || !self.rooms.contains_key(&room) {
            return Ok(Verdict::Ignore);
        }
        let tag = RelayTag::of(&author);
        if self.tag_holder(tag).is_some_and(|holder| holder != &author) {
            return Err(Refusal::WrongAuthor);
        }
        let skew = self.config.max_clock_skew;
        if !fresh(message.sent_at_ms, wall, ROOM_MESSAGE_MAX_AGE, skew) {
            return Err(Refusal::Stale);
        }
        // Membership is state: an older Joined/Left/Members must not undo a newer one. But a
        // message that overtook another (two connections between the relays, say) is no
        // attack, so it is dropped without penalty; a signal carries no state and always
        // goes through.
        let membership = !matches!(message.body, RoomBody::Signal { .. });
        let last = self.heard.get(&(author, room)).copied().unwrap_or(0);
        if membership && message.sent_at_ms < last {
            self.stats.out_of_order += 1;
            return Ok(Verdict::Ignore);
        }
        let mut arrival = self.arrivals.get(&author).copied();
        if arrival.is_none() && self.arrivals.len() >= self.config.max_relays {
            return Err(Refusal::RateLimited);
        }
        if !self.gate.pass(&mut arrival, now) {
            return Err(Refusal::RateLimited);
        }
        if let Some(arrival) = arrival {
            self.arrivals.insert(author, arrival);
        }
        if membership {
            self.heard.insert((author, room), message.sent_at_ms);
        }
        let addr = |session| PeerAddr {
            relay: tag,
            session,
        };
        let input = match message.body {
            RoomBody::Members(sessions) => {
                let mut sessions: Vec<PeerId> = sessions.iter().collect();
                sessions.sort_unstable();
                sessions.dedup();
                MeshInput::Members {
                    room,
                    relay: tag,
                    sessions,
                }
            }
            RoomBody::Joined(session) => MeshInput::Joined {
                room,
                peer: addr(session),
            },
            RoomBody::Left(session) => MeshInput::Left {
                room,
                peer: addr(session),
            },
            RoomBody::Signal { from, to, blob } => {
                if to.relay != self.own_tag {
                    return Ok(Verdict::Ignore);
                }
                self.stats.signals_in += 1;
                MeshInput::Signal {
                    room,
                    from: addr(from),
                    to: to.session,
                    blob: blob.to_vec(),
                }
            }
        };
        self.hand_to_core(input);
        Ok(Verdict::Ignore)
    }
}
