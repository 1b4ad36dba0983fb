//! Property tests of the mesh codec: `decode(encode(m)) == m` for every message within the
//! limits, and any bytes at all either decode to a message that re-encodes to exactly those
//! bytes or are refused (never a panic); and a node given any gossip on any topic answers
//! with a verdict, never forwarding room traffic.

use std::num::NonZeroU16;

use proptest::collection::vec;
use proptest::prelude::*;

use super::fake_swarm::{secret, FakeSwarm};
use crate::core::MeshOutput;
use crate::mesh::node::{Topic, Verdict};
use crate::mesh::wire::{
    Announce, MeshMessage, RoomBody, RoomMessage, MAX_MEMBERS, MAX_MESSAGE_LEN, MAX_SIGNAL_BLOB_LEN,
};
use crate::protocol::{PeerAddr, PeerId, PeerList, RelayTag, RoomId, MAX_ENTRY_LEN};

/// A message's variable data, owned (the codec borrows).
#[derive(Debug, Clone)]
enum Owned {
    Announce(u64, u16, Vec<u8>),
    Members(RoomId, u64, Vec<u8>),
    Joined(RoomId, u64, PeerId),
    Left(RoomId, u64, PeerId),
    Signal(RoomId, u64, PeerId, PeerAddr, Vec<u8>),
}

impl Owned {
    fn message(&self) -> MeshMessage<'_> {
        let room = |room: &RoomId, sent_at_ms: &u64, body| {
            MeshMessage::Room(RoomMessage {
                room: *room,
                sent_at_ms: *sent_at_ms,
                body,
            })
        };
        match self {
            Owned::Announce(at, port, entry) => MeshMessage::Announce(Announce {
                issued_at_ms: *at,
                mesh_port: NonZeroU16::new(*port),
                entry,
            }),
            Owned::Members(r, at, list) => {
                let list = PeerList::from_wire(list).expect("generated non-zero ids");
                room(r, at, RoomBody::Members(list))
            }
            Owned::Joined(r, at, s) => room(r, at, RoomBody::Joined(*s)),
            Owned::Left(r, at, s) => room(r, at, RoomBody::Left(*s)),
            Owned::Signal(r, at, from, to, blob) => room(
                r,
                at,
                RoomBody::Signal {
                    from: *from,
                    to: *to,
                    blob,
                },
            ),
        }
    }
}

fn session() -> impl Strategy<Value = PeerId> {
    (1u32..).prop_map(|v| PeerId::new(v).expect("non-zero"))
}

fn room() -> impl Strategy<Value = RoomId> {
    any::<[u8; 32]>().prop_map(RoomId::from_bytes)
}

fn owned() -> impl Strategy<Value = Owned> {
    let addr = (any::<[u8; 8]>(), session()).prop_map(|(tag, session)| PeerAddr {
        relay: RelayTag::from_bytes(tag),
        session,
    });
    let members = vec(session(), 0..=MAX_MEMBERS).prop_map(|ids| {
        let mut list = Vec::new();
        PeerList::encode_into(ids, &mut list);
        list
    });
    prop_oneof![
        (
            any::<u64>(),
            any::<u16>(),
            vec(any::<u8>(), 1..=MAX_ENTRY_LEN)
        )
            .prop_map(|(at, port, entry)| Owned::Announce(at, port, entry)),
        (room(), any::<u64>(), members).prop_map(|(r, at, l)| Owned::Members(r, at, l)),
        (room(), any::<u64>(), session()).prop_map(|(r, at, s)| Owned::Joined(r, at, s)),
        (room(), any::<u64>(), session()).prop_map(|(r, at, s)| Owned::Left(r, at, s)),
        (
            room(),
            any::<u64>(),
            session(),
            addr,
            vec(any::<u8>(), 0..=MAX_SIGNAL_BLOB_LEN)
        )
            .prop_map(|(r, at, from, to, blob)| Owned::Signal(r, at, from, to, blob)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_message_round_trips(owned in owned()) {
        let message = owned.message();
        let data = message.to_vec();
        prop_assert!(data.len() <= MAX_MESSAGE_LEN);
        prop_assert_eq!(MeshMessage::decode(&data), Ok(message));
    }

    #[test]
    fn any_bytes_decode_canonically_or_are_refused(data in vec(any::<u8>(), 0..2_048)) {
        if let Ok(message) = MeshMessage::decode(&data) {
            prop_assert_eq!(message.to_vec(), data);
        }
    }

    #[test]
    fn a_message_with_any_type_byte_never_panics(
        message_type in any::<u8>(),
        body in vec(any::<u8>(), 0..64),
    ) {
        let mut data = vec![message_type];
        data.extend_from_slice(&body);
        if let Ok(message) = MeshMessage::decode(&data) {
            prop_assert_eq!(message.message_type(), message_type);
            prop_assert_eq!(message.to_vec(), data);
        }
    }
}

/// A room every relay of [`node_never_panics_on_any_gossip`] serves.
const ROOM: RoomId = RoomId::from_bytes([0xab; 32]);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever a connected relay sends on whichever topic, the node answers with a verdict,
    /// never accepts room traffic (it travels one hop) and keeps counting.
    #[test]
    fn node_never_panics_on_any_gossip(
        messages in vec((0u8..3, any::<bool>(), vec(any::<u8>(), 0..256)), 1..32),
    ) {
        let mut swarm = FakeSwarm::of(1);
        let session = PeerId::new(1).expect("non-zero");
        swarm.core(0, MeshOutput::Joined { room: ROOM, session });
        let evil = secret(9).public();
        swarm.nodes[0].fed.connected(swarm.now, evil);
        let count = messages.len() as u64;
        for (topic, room_type, mut data) in messages {
            // Give the bytes a chance to look like a room message of the right room.
            if room_type && data.len() > 41 {
                data[0] = 0x10 + data[0] % 4;
                data[1..33].copy_from_slice(ROOM.as_bytes());
            }
            let topic = match topic {
                0 => Topic::Relays.name(),
                1 => Topic::Room(ROOM).name(),
                _ => "lumamesh/1/room/zz".to_owned(),
            };
            let verdict = swarm.inject(0, &evil, &evil, &topic, &data);
            if topic != Topic::Relays.name() {
                prop_assert_ne!(verdict, Verdict::Accept);
            }
        }
        prop_assert_eq!(swarm.nodes[0].fed.stats().gossip_messages_in, count);
    }
}
