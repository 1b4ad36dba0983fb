//! What this relay says: announcements, its sessions' room traffic, the directory for the
//! core and dials of relays the directory learns.

use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::time::{Instant, SystemTime};

use bootstrap_codec::NodeKey;
use tracing::debug;

use super::{unix_ms, Action, Federation, Topic};
use crate::core::MeshInput;
use crate::mesh::wire::{Announce, MeshMessage, RoomBody, RoomMessage};
use crate::protocol::{RoomId, MAX_NODES};

impl Federation {
    pub(super) fn publish(&mut self, topic: Topic, message: MeshMessage<'_>) {
        let data = message.to_vec();
        self.stats.gossip_messages_out += 1;
        self.stats.gossip_bytes_out += data.len() as u64;
        self.actions.push_back(Action::Publish { topic, data });
    }

    pub(super) fn announce(&mut self, now: Instant, wall: SystemTime) {
        // Strictly increasing: receivers ignore an announcement not newer than the last.
        let issued_at_ms = unix_ms(wall).max(self.last_issued_ms + 1);
        self.last_issued_ms = issued_at_ms;
        self.announce_due = None;
        self.next_announce = now + self.config.announce_every;
        let entry = std::mem::take(&mut self.entry_bytes);
        let message = MeshMessage::Announce(Announce {
            issued_at_ms,
            mesh_port: self.config.mesh_port.and_then(NonZeroU16::new),
            entry: &entry,
        });
        self.publish(Topic::Relays, message);
        self.entry_bytes = entry;
    }

    pub(super) fn publish_room(&mut self, room: RoomId, wall: SystemTime, body: RoomBody<'_>) {
        // Never backwards: receivers refuse a message older than the author's last.
        let sent_at_ms = unix_ms(wall).max(self.last_sent_ms);
        self.last_sent_ms = sent_at_ms;
        let message = MeshMessage::Room(RoomMessage {
            room,
            sent_at_ms,
            body,
        });
        self.publish(Topic::Room(room), message);
    }

    /// Hands the directory to the core if it changed since the last time.
    pub(super) fn list_directory(&mut self) {
        let listed: Vec<Vec<u8>> = self
            .directory
            .freshest_first()
            .into_iter()
            .take(MAX_NODES - 1)
            .map(|known| known.entry_bytes.clone())
            .collect();
        if listed != self.listed {
            self.listed = listed.clone();
            self.hand_to_core(MeshInput::Directory(listed));
        }
    }

    /// Dials a relay the directory just accepted, if it can be reached and was not dialled
    /// recently.
    pub(super) fn dial(&mut self, now: Instant, relay: NodeKey) {
        if !self.config.dial_directory
            || self.peers.contains(&relay)
            || self.dialled.contains_key(&relay)
        {
            return;
        }
        let Some(known) = self.directory.get(&relay) else {
            return;
        };
        let Some(port) = known.mesh_port else {
            return;
        };
        // A relay announced by host name is not resolved here (sans-IO): it is reached only
        // if it dials us or is in MESH_PEERS.
        let Some(ip) = known.entry.address().ip() else {
            debug!(%relay, "mesh: not dialling a relay announced by host name");
            return;
        };
        self.dialled.insert(relay, now);
        let addr = SocketAddr::new(ip, port.get());
        self.actions.push_back(Action::Dial { relay, addr });
    }
}
