//! The libp2p engine on its own ([`MeshSwarm`]), several in one process on loopback TCP:
//! same salt → connected and gossiping; another salt → nothing, either way round; the
//! PeerId is the node key; a restarted peer is redialled; a relay scored down is graylisted.

use std::net::SocketAddr;
use std::time::Duration;

use bootstrap_codec::{NodeKey, NodeSecret};
use futures_util::future::select_all;
use futures_util::FutureExt as _;
use lumamesh_relay::mesh::node::{Topic, Verdict};
use lumamesh_relay::mesh::swarm::{identity, MeshSettings, MeshSwarm, Notice, TestSettings};

use super::WAIT;

fn settings(salt: &str, listen: Option<&str>, peers: &[SocketAddr]) -> MeshSettings {
    let mut settings = MeshSettings::parse(listen, None, Some(salt)).expect("settings");
    settings.peers = peers.iter().map(|&p| p.into()).collect();
    settings.tests = TestSettings::loopback();
    settings
}

/// One engine with its key.
struct Node {
    swarm: MeshSwarm,
    nk: NodeKey,
    secret: NodeSecret,
}

impl Node {
    async fn start(salt: &str, peers: &[SocketAddr]) -> Self {
        let secret = NodeSecret::generate().expect("random key");
        Self::start_as(secret, salt, "127.0.0.1:0", peers).await
    }

    async fn start_as(secret: NodeSecret, salt: &str, listen: &str, peers: &[SocketAddr]) -> Self {
        let swarm = MeshSwarm::start(&settings(salt, Some(listen), peers), &secret)
            .await
            .expect("engine starts");
        Self {
            swarm,
            nk: secret.public(),
            secret,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.swarm.listen_addr().expect("listening")
    }
}

/// Drives every node until `done` (called after each event, with the notice if any, and
/// the index of the node it came from) returns `Some`. Messages are reported `Ignore` unless
/// `done` reports them itself.
async fn drive<T>(
    nodes: &mut [&mut Node],
    mut done: impl FnMut(&mut [&mut Node], usize, Option<&Notice>) -> Option<T>,
) -> T {
    let run = async {
        loop {
            let (input, index) = {
                let waits = nodes
                    .iter_mut()
                    .map(|n| n.swarm.next_event().boxed())
                    .collect::<Vec<_>>();
                let (input, index, _) = select_all(waits).await;
                (input, index)
            };
            let notice = nodes[index].swarm.handle(input);
            if let Some(Notice::Message(message)) = &notice {
                nodes[index].swarm.report(message, Verdict::Ignore);
            }
            if let Some(found) = done(nodes, index, notice.as_ref()) {
                return found;
            }
        }
    };
    tokio::time::timeout(WAIT, run).await.expect("in time")
}

/// Drives the nodes for `time`, returning every notice.
async fn drive_for(nodes: &mut [&mut Node], time: Duration) -> Vec<(usize, String)> {
    let mut seen = Vec::new();
    let until = tokio::time::Instant::now() + time;
    let _ = tokio::time::timeout_at(
        until,
        drive(nodes, |_, i, notice| {
            if let Some(n) = notice {
                seen.push((i, format!("{n:?}")));
            }
            None::<()>
        }),
    )
    .await;
    seen
}

/// Drives until node `to` has received a message on `topic`; gives its author and data.
async fn received(nodes: &mut [&mut Node], to: usize, topic: &str) -> (NodeKey, Vec<u8>) {
    drive(nodes, |_, i, notice| match notice {
        Some(Notice::Message(m)) if i == to && m.topic == topic => Some((m.author, m.data.clone())),
        _ => None,
    })
    .await
}

/// Drives until every listed (node, relay, topic) subscription has been seen.
async fn subscriptions(nodes: &mut [&mut Node], mut want: Vec<(usize, NodeKey, String)>) {
    drive(nodes, |_, i, notice| {
        if let Some(Notice::Subscribed(relay, topic)) = notice {
            want.retain(|(n, r, t)| !(*n == i && r == relay && t == topic));
        }
        want.is_empty().then_some(())
    })
    .await
}

#[tokio::test]
async fn same_salt_connects_and_gossips_and_the_peer_id_is_the_node_key() {
    let mut a = Node::start("salt one", &[]).await;
    let mut b = Node::start("salt one", &[a.addr()]).await;
    assert_eq!(a.swarm.peer_id(), identity::peer_id(&a.nk));
    assert_eq!(identity::node_key(&b.swarm.peer_id()), Some(b.nk));
    assert_eq!(b.secret.public(), b.nk);

    // Each side names the other by its node key.
    let (ank, bnk) = (a.nk, b.nk);
    let mut connected = (false, false);
    drive(&mut [&mut a, &mut b], |_, i, notice| {
        match (i, notice) {
            (0, Some(Notice::Connected(nk))) => connected.0 = *nk == bnk,
            (1, Some(Notice::Connected(nk))) => connected.1 = *nk == ank,
            _ => {}
        }
        (connected.0 && connected.1).then_some(())
    })
    .await;

    let topic = Topic::Relays.name();
    a.swarm.subscribe(&topic);
    b.swarm.subscribe(&topic);
    subscriptions(
        &mut [&mut a, &mut b],
        vec![(0, bnk, topic.clone()), (1, ank, topic.clone())],
    )
    .await;

    // The largest message we gossip, both ways.
    let big = vec![0xa5; 16_396];
    a.swarm.publish(&topic, big.clone());
    assert_eq!(received(&mut [&mut a, &mut b], 1, &topic).await, (ank, big));
    b.swarm.publish(&topic, b"hello a".to_vec());
    assert_eq!(
        received(&mut [&mut a, &mut b], 0, &topic).await,
        (bnk, b"hello a".to_vec())
    );

    // Nobody listens on a room topic: counted, not an error.
    let room = Topic::Room(lumamesh_relay::protocol::RoomId::from_bytes([1; 32])).name();
    a.swarm.publish(&room, b"nobody".to_vec());
    assert_eq!(a.swarm.stats().publish_unheard, 1);
    // Larger than any RPC may be: refused before it leaves.
    a.swarm.publish(&topic, vec![0; 1 << 20]);
    assert_eq!(a.swarm.stats().publish_failed, 1);
}

#[tokio::test]
async fn different_salts_never_connect_either_way() {
    for round in 0..2 {
        let mut a = Node::start("salt one", &[]).await;
        let mut b = Node::start("salt two", &[a.addr()]).await;
        // And A dials B too: a third engine with A's key and salt, listening elsewhere.
        let mut a2 = Node::start_as(a.secret.clone(), "salt one", "127.0.0.1:0", &[b.addr()]).await;
        let topic = Topic::Relays.name();
        for node in [&mut a, &mut b, &mut a2] {
            node.swarm.subscribe(&topic);
        }
        // Wait until a dial has failed in both directions (a relay with another salt cannot
        // finish the handshake: the far end reads noise and gives up, or the upgrade times
        // out).
        drive(&mut [&mut a, &mut b, &mut a2], |nodes, _, notice| {
            assert!(
                !matches!(notice, Some(Notice::Connected(_) | Notice::Message(_))),
                "round {round}: {notice:?}"
            );
            (nodes[1].swarm.stats().dial_failures >= 1 && nodes[2].swarm.stats().dial_failures >= 1)
                .then_some(())
        })
        .await;
        for node in [&mut a, &mut b, &mut a2] {
            node.swarm.publish(&topic, b"anyone?".to_vec());
        }
        let seen = drive_for(&mut [&mut a, &mut b, &mut a2], Duration::from_secs(1)).await;
        assert!(seen.is_empty(), "round {round}: {seen:?}");
        for node in [&a, &b, &a2] {
            assert_eq!(node.swarm.stats().publish_unheard, 1, "nobody heard it");
        }
    }
}

#[tokio::test]
async fn a_restarted_peer_on_the_same_port_is_redialled() {
    let mut a = Node::start("salt", &[]).await;
    let port = a.addr().port();
    let secret = a.secret.clone();
    let mut b = Node::start("salt", &[a.addr()]).await;
    let ank = a.nk;
    drive(&mut [&mut a, &mut b], |_, i, n| {
        matches!((i, n), (1, Some(Notice::Connected(nk))) if *nk == ank).then_some(())
    })
    .await;

    drop(a);
    drive(&mut [&mut b], |_, _, n| {
        matches!(n, Some(Notice::Disconnected(nk)) if *nk == ank).then_some(())
    })
    .await;
    // Down for a while: B keeps trying (and failing).
    drive(&mut [&mut b], |nodes, _, _| {
        (nodes[0].swarm.stats().dial_failures >= 2).then_some(())
    })
    .await;

    let listen = format!("127.0.0.1:{port}");
    let mut a = Node::start_as(secret, "salt", &listen, &[]).await;
    drive(&mut [&mut a, &mut b], |_, i, n| {
        matches!((i, n), (1, Some(Notice::Connected(nk))) if *nk == ank).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_relay_scored_down_is_graylisted() {
    let mut a = Node::start("salt", &[]).await;
    let mut b = Node::start("salt", &[a.addr()]).await;
    let mut c = Node::start("salt", &[a.addr(), b.addr()]).await;
    let (ank, bnk, cnk) = (a.nk, b.nk, c.nk);
    let topic = Topic::Relays.name();
    for node in [&mut a, &mut b, &mut c] {
        node.swarm.subscribe(&topic);
    }
    subscriptions(
        &mut [&mut a, &mut b, &mut c],
        vec![
            (0, bnk, topic.clone()),
            (0, cnk, topic.clone()),
            (1, cnk, topic.clone()),
            (2, ank, topic.clone()),
            (2, bnk, topic.clone()),
        ],
    )
    .await;

    // What the node does after a few refused messages from B.
    a.swarm.set_score(&bnk, -100.0);
    assert!(a.swarm.score(&bnk).is_some_and(|s| s <= -80.0));
    b.swarm.publish(&topic, b"from a graylisted relay".to_vec());
    // C hears B's message (B is fine by C), then speaks: A hears C but never B.
    let (author, _) = received(&mut [&mut a, &mut b, &mut c], 2, &topic).await;
    assert_eq!(author, bnk);
    c.swarm.publish(&topic, b"from c".to_vec());
    let heard = drive(&mut [&mut a, &mut b, &mut c], |_, i, n| match (i, n) {
        (0, Some(Notice::Message(m))) => Some((m.author, m.data.clone())),
        _ => None,
    })
    .await;
    assert_eq!(
        heard,
        (cnk, b"from c".to_vec()),
        "A heard the graylisted relay"
    );
}

#[tokio::test]
async fn a_relay_cannot_make_us_track_unbounded_topics() {
    let mut settings_a = settings("salt", Some("127.0.0.1:0"), &[]);
    settings_a.tests.max_topics_per_relay = 5;
    let secret = NodeSecret::generate().expect("random key");
    let mut a = Node {
        swarm: MeshSwarm::start(&settings_a, &secret)
            .await
            .expect("starts"),
        nk: secret.public(),
        secret,
    };
    let mut b = Node::start("salt", &[a.addr()]).await;
    let room = |i: u8| Topic::Room(lumamesh_relay::protocol::RoomId::from_bytes([i; 32])).name();
    a.swarm.subscribe(&room(1));
    let bnk = b.nk;
    drive(&mut [&mut a, &mut b], |_, i, n| {
        matches!((i, n), (1, Some(Notice::Subscribed(..)))).then_some(())
    })
    .await;
    // B floods subscriptions (and one topic that is not ours), then speaks in room 1: by the
    // time A hears that, it has read every subscription before it.
    b.swarm.subscribe("someone/else/topic");
    for i in 1..=12 {
        b.swarm.subscribe(&room(i));
    }
    b.swarm.publish(&room(1), b"after the flood".to_vec());
    let mut topics = Vec::new();
    drive(&mut [&mut a, &mut b], |_, i, n| match (i, n) {
        (0, Some(Notice::Subscribed(relay, topic))) => {
            assert_eq!(*relay, bnk);
            topics.push(topic.clone());
            None
        }
        (0, Some(Notice::Message(m))) => Some(m.data.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        topics.len(),
        5,
        "A tracks at most 5 of B's topics: {topics:?}"
    );
    assert!(
        topics.iter().all(|t| t.starts_with("lumamesh/1/room/")),
        "{topics:?}"
    );
}
