//! A rogue relay against a real federation: two honest federated [`LocalRelay`]s and a rogue
//! [`MeshSwarm`] with the same salt and its own key, connected to both, publishing what an
//! attacker would (forged, foreign, stale and future entries, oversized messages, garbage,
//! room messages naming another room or dated wrong, floods over the per-relay rate, replays).
//! Each honest relay counts every refusal by reason, graylists the rogue, and keeps serving
//! its clients, whose `Nodes` never list anything but the two honest relays.

use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bootstrap_codec::{IceUfrag, NodeKey, RelayAddress, RelayEntry};
use futures_util::FutureExt as _;
use keystore::RelayIdentity;
use lumamesh_relay::client::UdpClient;
use lumamesh_relay::health::Snapshot;
use lumamesh_relay::local::{LocalOptions, LocalRelay};
use lumamesh_relay::mesh::node::{MeshRefusals, MeshStats, Topic, Verdict};
use lumamesh_relay::mesh::swarm::{
    InboundLimit, MeshSettings, MeshSwarm, Notice, Received, TestSettings,
};
use lumamesh_relay::mesh::wire::{Announce, MeshMessage, RoomBody, RoomMessage};
use lumamesh_relay::protocol::{ClientMessage, PeerAddr, PeerId, RelayMessage, RelayTag, RoomId};
use tokio::sync::{mpsc, oneshot};

use super::common_mesh::{hello2, until};
use super::WAIT;

const SALT: &str = "rogue federation";
const HOUR_MS: u64 = 3_600_000;

fn mesh_settings(listen: Option<&str>, peers: &[SocketAddr], tests: TestSettings) -> MeshSettings {
    let mut mesh = MeshSettings::parse(listen, None, Some(SALT)).expect("settings");
    mesh.peers = peers.iter().map(|&p| p.into()).collect();
    mesh.tests = tests;
    mesh
}

/// Two honest relays, B dialling A, once each knows the other.
async fn honest_pair() -> (LocalRelay, LocalRelay) {
    honest_pair_with(TestSettings::loopback()).await
}

/// [`honest_pair`] with other test settings.
async fn honest_pair_with(tests: TestSettings) -> (LocalRelay, LocalRelay) {
    let start = |peers: Vec<SocketAddr>| {
        let options = LocalOptions {
            mesh: Some(mesh_settings(Some("127.0.0.1:0"), &peers, tests.clone())),
            ..LocalOptions::default()
        };
        async move {
            LocalRelay::start_with("127.0.0.1".parse().unwrap(), options)
                .await
                .expect("honest relay starts")
        }
    };
    let a = start(vec![]).await;
    let b = start(vec![a.mesh_addr().expect("listening")]).await;
    for relay in [&a, &b] {
        wait_for(relay, "the other honest relay", |m| {
            m.mesh_peers >= 1 && m.known_relays == 1
        })
        .await;
    }
    (a, b)
}

fn node(s: &Snapshot) -> MeshStats {
    s.mesh.expect("federated").node
}

fn stats(relay: &LocalRelay) -> MeshStats {
    relay.mesh_report().expect("federated").node
}

fn refused_total(r: &MeshRefusals) -> u64 {
    r.malformed
        + r.oversized
        + r.forged
        + r.wrong_author
        + r.stale
        + r.rate_limited
        + r.unknown_topic
}

/// Waits until the relay's federation stats satisfy `check`.
async fn wait_for(relay: &LocalRelay, what: &str, check: impl Fn(&MeshStats) -> bool) {
    let mut watch = relay.watch();
    tokio::time::timeout(
        WAIT,
        watch.wait_for(|s| s.mesh.is_some() && check(&node(s))),
    )
    .await
    .unwrap_or_else(|_| panic!("never saw {what}: {:?}", relay.mesh_report()))
    .expect("driver is running");
}

fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    u64::try_from(since.as_millis()).expect("fits")
}

fn announce(issued_at_ms: u64, entry: &[u8]) -> Vec<u8> {
    MeshMessage::Announce(Announce {
        issued_at_ms,
        mesh_port: None,
        entry,
    })
    .to_vec()
}

fn room_message(room: RoomId, sent_at_ms: u64, body: RoomBody<'_>) -> Vec<u8> {
    MeshMessage::Room(RoomMessage {
        room,
        sent_at_ms,
        body,
    })
    .to_vec()
}

fn session(id: u32) -> PeerId {
    PeerId::new(id).expect("non-zero")
}

/// A signal to a relay that does not exist: the receivers rate-check it and drop it.
fn signal_to_nowhere(room: RoomId, sent_at_ms: u64) -> Vec<u8> {
    let to = PeerAddr {
        relay: RelayTag::from_bytes([0xee; 8]),
        session: session(1),
    };
    let body = RoomBody::Signal {
        from: session(1),
        to,
        blob: b"flood",
    };
    room_message(room, sent_at_ms, body)
}

/// What the rogue's task is told to do.
enum Command {
    Publish(String, Vec<u8>),
    Subscribe(String),
    /// Publish `count` messages made by `make(i)` as fast as the queues take them.
    Flood {
        topic: String,
        count: u64,
        make: Box<dyn FnMut(u64) -> Vec<u8> + Send>,
        done: oneshot::Sender<()>,
    },
    /// Hold back the verdict on messages of this topic (instead of `Ignore` at once) …
    Hold(String),
    /// … and now `Accept` them, so that gossipsub forwards them to the rogue's mesh peers.
    Release,
}

/// What the rogue heard.
#[derive(Debug)]
enum Heard {
    Subscribed(NodeKey, String),
    Message(NodeKey, String, Vec<u8>),
}

/// A relay with the federation's salt and its own key, driven by a task of its own, that
/// publishes whatever it is told.
struct Rogue {
    identity: RelayIdentity,
    commands: mpsc::UnboundedSender<Command>,
    heard: mpsc::UnboundedReceiver<Heard>,
    /// Every subscription heard so far.
    subscribed: Vec<(NodeKey, String)>,
    /// Messages heard and not yet asked for.
    messages: Vec<(NodeKey, String, Vec<u8>)>,
    task: tokio::task::JoinHandle<()>,
}

impl Rogue {
    async fn start(relays: &[&LocalRelay]) -> Self {
        let identity = RelayIdentity::generate().expect("rogue key");
        let peers: Vec<SocketAddr> = relays.iter().map(|r| r.mesh_addr().unwrap()).collect();
        let swarm = MeshSwarm::start(
            &mesh_settings(None, &peers, TestSettings::loopback()),
            identity.node_secret(),
        )
        .await
        .expect("rogue engine starts");
        let (commands, rx) = mpsc::unbounded_channel();
        let (tx, heard) = mpsc::unbounded_channel();
        let task = tokio::spawn(run_rogue(swarm, rx, tx));
        let mut rogue = Self {
            identity,
            commands,
            heard,
            subscribed: Vec::new(),
            messages: Vec::new(),
            task,
        };
        let want = relays
            .iter()
            .map(|r| (*r.entry().node_key(), Topic::Relays.name()))
            .collect();
        rogue.subscriptions(want).await;
        rogue
    }

    fn nk(&self) -> NodeKey {
        self.identity.node_secret().public()
    }

    fn tag(&self) -> RelayTag {
        RelayTag::of(&self.nk())
    }

    /// Its own validly signed entry.
    fn entry(&self) -> RelayEntry {
        let address = RelayAddress::from_ip("127.0.0.1".parse().unwrap()).expect("address");
        let port = NonZeroU16::new(9).expect("non-zero");
        self.identity
            .entry(address, port, IceUfrag::default_relay())
    }

    fn publish(&self, topic: Topic, data: Vec<u8>) {
        self.send(Command::Publish(topic.name(), data));
    }

    fn send(&self, command: Command) {
        assert!(self.commands.send(command).is_ok(), "rogue task is running");
    }

    /// Starts a flood; the receiver fires when every message went out.
    fn flood(
        &self,
        topic: Topic,
        count: u64,
        make: impl FnMut(u64) -> Vec<u8> + Send + 'static,
    ) -> oneshot::Receiver<()> {
        let (done, finished) = oneshot::channel();
        self.send(Command::Flood {
            topic: topic.name(),
            count,
            make: Box::new(make),
            done,
        });
        finished
    }

    /// Waits until the rogue has seen each (relay, topic) subscription.
    async fn subscriptions(&mut self, want: Vec<(NodeKey, String)>) {
        while !want.iter().all(|w| self.subscribed.contains(w)) {
            self.next().await;
        }
    }

    /// The first message by `author` on `topic` not asked for yet.
    async fn message(&mut self, author: &NodeKey, topic: &str) -> Vec<u8> {
        loop {
            let found = self
                .messages
                .iter()
                .position(|(by, on, _)| by == author && on == topic);
            if let Some(i) = found {
                return self.messages.remove(i).2;
            }
            self.next().await;
        }
    }

    /// Waits for the next thing the rogue hears and records it.
    async fn next(&mut self) {
        let heard = tokio::time::timeout(WAIT, self.heard.recv())
            .await
            .expect("the rogue hears something in time")
            .expect("rogue task is running");
        match heard {
            Heard::Subscribed(relay, topic) => self.subscribed.push((relay, topic)),
            Heard::Message(by, on, data) => self.messages.push((by, on, data)),
        }
    }
}

impl Drop for Rogue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Tells the test what the rogue heard; a message is reported `Ignore` at once unless its
/// topic is held, then it is handed back to be held.
fn on_notice(
    swarm: &mut MeshSwarm,
    notice: Option<Notice>,
    hold: Option<&str>,
    heard: &mpsc::UnboundedSender<Heard>,
) -> Option<Box<Received>> {
    match notice? {
        Notice::Subscribed(relay, topic) => {
            let _ = heard.send(Heard::Subscribed(relay, topic));
            None
        }
        Notice::Message(message) => {
            let copy = Heard::Message(message.author, message.topic.clone(), message.data.clone());
            let _ = heard.send(copy);
            if hold == Some(message.topic.as_str()) {
                return Some(message);
            }
            swarm.report(&message, Verdict::Ignore);
            None
        }
        _ => None,
    }
}

async fn run_rogue(
    mut swarm: MeshSwarm,
    mut commands: mpsc::UnboundedReceiver<Command>,
    heard: mpsc::UnboundedSender<Heard>,
) {
    let mut hold: Option<String> = None;
    let mut held: Vec<Box<Received>> = Vec::new();
    loop {
        let command = tokio::select! {
            command = commands.recv() => match command {
                Some(command) => command,
                None => return,
            },
            input = swarm.next_event() => {
                let notice = swarm.handle(input);
                held.extend(on_notice(&mut swarm, notice, hold.as_deref(), &heard));
                continue;
            }
        };
        match command {
            Command::Publish(topic, data) => swarm.publish(&topic, data),
            Command::Subscribe(topic) => swarm.subscribe(&topic),
            Command::Hold(topic) => hold = Some(topic),
            Command::Release => {
                hold = None;
                for message in held.drain(..) {
                    swarm.report(&message, Verdict::Accept);
                }
            }
            Command::Flood {
                topic,
                count,
                mut make,
                done,
            } => {
                let mut sent = 0;
                while sent < count {
                    let failed = swarm.stats().publish_failed;
                    swarm.publish(&topic, make(sent));
                    if swarm.stats().publish_failed == failed {
                        sent += 1;
                    } else {
                        // Queues full: let the connections drain.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    if sent.is_multiple_of(64) {
                        while let Some(input) = swarm.next_event().now_or_never() {
                            let notice = swarm.handle(input);
                            held.extend(on_notice(&mut swarm, notice, hold.as_deref(), &heard));
                        }
                        tokio::task::yield_now().await;
                    }
                }
                let _ = done.send(());
            }
        }
    }
}

/// A version 2 client of an honest relay, in one room.
struct Member {
    client: UdpClient,
    addr: PeerAddr,
}

impl Member {
    /// Connects to `relay`, says `Hello` v2, joins `room` and gives the members it was shown.
    async fn join(relay: &LocalRelay, room: RoomId) -> (Self, Vec<PeerAddr>) {
        let mut client = UdpClient::connect(relay.entry(), None, None, WAIT)
            .await
            .expect("client connects");
        let addr = hello2(&mut client, relay.entry()).await;
        client
            .send(&ClientMessage::Join { room })
            .await
            .expect("join");
        let peers = until(&mut client, "Room2", |m| match m {
            RelayMessage::Room2 { peers, .. } => Some(peers.iter().collect()),
            _ => None,
        })
        .await;
        (Self { client, addr }, peers)
    }

    async fn signal(&mut self, room: RoomId, to: PeerAddr, blob: &[u8]) {
        let signal = ClientMessage::Signal2 { room, to, blob };
        self.client.send(&signal).await.expect("signal");
    }

    /// Waits for a `Signal2` from `from` carrying `blob`.
    async fn signalled(&mut self, from: PeerAddr, blob: &[u8]) {
        until(&mut self.client, "the signal", |m| match m {
            RelayMessage::Signal2 {
                from: f, blob: b, ..
            } if f == from && b == blob => Some(()),
            _ => None,
        })
        .await;
    }

    /// Waits for `Joined2` of `peer`; panics on a `Joined2` of anyone in `never`.
    async fn joined(&mut self, peer: PeerAddr, never: &[PeerAddr]) {
        until(&mut self.client, "Joined2", |m| match m {
            RelayMessage::Joined2 { peer: p, .. } => {
                assert!(!never.contains(&p), "{p:?} joined again");
                (p == peer).then_some(())
            }
            _ => None,
        })
        .await;
    }

    async fn left(&mut self, peer: PeerAddr) {
        until(&mut self.client, "Left2", |m| match m {
            RelayMessage::Left2 { peer: p, .. } => (p == peer).then_some(()),
            _ => None,
        })
        .await;
    }

    /// The entries `Nodes` lists.
    async fn nodes(&mut self) -> Vec<Vec<u8>> {
        self.client
            .send(&ClientMessage::GetNodes)
            .await
            .expect("nodes");
        until(&mut self.client, "Nodes", |m| match m {
            RelayMessage::Nodes(n) => Some(n.iter().map(<[u8]>::to_vec).collect()),
            _ => None,
        })
        .await
    }
}

/// One member on each honest relay in `room`, seeing each other.
async fn members(a: &LocalRelay, b: &LocalRelay, room: RoomId) -> (Member, Member) {
    let (mut ma, _) = Member::join(a, room).await;
    let (mut mb, _) = Member::join(b, room).await;
    let (pa, pb) = (ma.addr, mb.addr);
    mb.joined(pa, &[]).await;
    ma.joined(pb, &[]).await;
    (ma, mb)
}

/// The two members signal each other both ways, `round` in the blob.
async fn still_talking(ma: &mut Member, mb: &mut Member, room: RoomId, round: u8) {
    let blob = [b'a', round];
    ma.signal(room, mb.addr, &blob).await;
    mb.signalled(ma.addr, &blob).await;
    let blob = [b'b', round];
    mb.signal(room, ma.addr, &blob).await;
    ma.signalled(mb.addr, &blob).await;
}

/// `Nodes` on each honest relay lists exactly the two of them, own entry first.
async fn lists_only_the_honest(a: &LocalRelay, ma: &mut Member, b: &LocalRelay, mb: &mut Member) {
    let (ea, eb) = (a.entry().to_bytes(), b.entry().to_bytes());
    assert_eq!(ma.nodes().await, vec![ea.clone(), eb.clone()]);
    assert_eq!(mb.nodes().await, vec![eb, ea]);
}

/// The rogue is graylisted by both honest relays: what it publishes now — garbage, its own
/// valid entry, a valid member of `room` — is neither counted nor delivered. The proof that
/// time passed: each honest relay hears several of the other's announcements (every 2 s)
/// meanwhile, and the two members exchange signals.
async fn graylisted(
    rogue: &Rogue,
    relays: [&LocalRelay; 2],
    room: RoomId,
    members: (&mut Member, &mut Member),
) {
    const PROBES: u64 = 100;
    // Let what the rogue sent before settle: the other relay is heard from once more.
    for relay in relays {
        let heard = stats(relay).gossip_messages_in;
        wait_for(relay, "one more message", |m| m.gossip_messages_in > heard).await;
    }
    let before: Vec<MeshStats> = relays.iter().map(|r| stats(r)).collect();
    for i in 0..PROBES {
        rogue.publish(Topic::Relays, vec![0xee, i as u8, 1, 2, 3]);
    }
    let entry = rogue.entry().to_bytes();
    rogue.publish(Topic::Relays, announce(now_ms(), &entry));
    let phantom = RoomBody::Joined(session(4242));
    rogue.publish(Topic::Room(room), room_message(room, now_ms(), phantom));
    let (ma, mb) = members;
    still_talking(ma, mb, room, 200).await;
    for (relay, before) in relays.iter().zip(&before) {
        let heard = before.gossip_messages_in;
        wait_for(relay, "three more messages of the other relay", |m| {
            m.gossip_messages_in >= heard + 3
        })
        .await;
    }
    let phantom = PeerAddr {
        relay: rogue.tag(),
        session: session(4242),
    };
    for (relay, before) in relays.iter().zip(&before) {
        let after = stats(relay);
        let counted = refused_total(&after.refused) - refused_total(&before.refused);
        // At most a message or two, if the penalty decayed across the threshold meanwhile
        // (then one more refusal puts it back under).
        assert!(counted <= 3, "{counted} of {PROBES} counted: {after:?}");
        assert!(
            after.gossip_messages_in - before.gossip_messages_in < PROBES / 2,
            "the rogue's messages reached the node: {before:?} → {after:?}"
        );
        assert_eq!(after.known_relays, 1, "the rogue got listed: {after:?}");
    }
    // A new member sees the honest member and not the rogue's phantom.
    let (_, shown) = Member::join(relays[0], room).await;
    assert!(!shown.contains(&phantom), "{shown:?}");
}

/// Keeps `member`'s session alive (idle timeout 30 s) until `deadline`, and fails on a
/// `Joined2` of `never`.
async fn idle_until(member: &mut Member, deadline: tokio::time::Instant, never: PeerAddr) {
    let mut nonce = 0;
    while tokio::time::Instant::now() < deadline {
        nonce += 1;
        let ping = ClientMessage::Ping { nonce };
        member.client.send(&ping).await.expect("ping");
        until(&mut member.client, "Pong", |m| match m {
            RelayMessage::Joined2 { peer, .. } if peer == never => panic!("{peer:?} came back"),
            RelayMessage::Pong { nonce: n } => (n == nonce).then_some(()),
            _ => None,
        })
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_foreign_stale_oversized_and_garbage_announcements_are_refused() {
    let (a, b) = honest_pair().await;
    let room = RoomId::from_bytes([0x71; 32]);
    let (mut ma, mut mb) = members(&a, &b, room).await;
    let rogue = Rogue::start(&[&a, &b]).await;

    let own = rogue.entry().to_bytes();
    let mut forged = own.clone();
    *forged.last_mut().expect("signed") ^= 0x01;
    let other = RelayIdentity::generate().expect("another key");
    let foreign = other
        .entry(
            RelayAddress::from_ip("127.0.0.1".parse().unwrap()).expect("address"),
            NonZeroU16::new(10).expect("non-zero"),
            IceUfrag::default_relay(),
        )
        .to_bytes();
    let now = now_ms();
    for data in [
        announce(now, &forged),           // forged
        announce(now, &foreign),          // wrong author
        announce(now - HOUR_MS, &own),    // stale
        announce(now + HOUR_MS, &own),    // stale (from the future)
        vec![0x01; 20_000],               // oversized message
        announce(now, &vec![0x01; 1025]), // oversized entry
        vec![0xee; 100],                  // garbage: unknown type
        vec![0x01, 0, 0],                 // garbage: truncated
    ] {
        rogue.publish(Topic::Relays, data);
    }
    // Eight refusals: 80 points, a score of −80, not yet under the graylist threshold.
    for relay in [&a, &b] {
        wait_for(relay, "every refusal counted by reason", |m| {
            let r = m.refused;
            (r.forged, r.wrong_author, r.stale, r.oversized, r.malformed) == (1, 1, 2, 2, 2)
        })
        .await;
        let r = stats(relay).refused;
        assert_eq!((r.rate_limited, r.unknown_topic), (0, 0), "{r:?}");
    }
    lists_only_the_honest(&a, &mut ma, &b, &mut mb).await;
    still_talking(&mut ma, &mut mb, room, 1).await;

    // It keeps going: the ninth refusal graylists it.
    for i in 0..20u8 {
        rogue.publish(Topic::Relays, vec![0xee, i]);
    }
    for relay in [&a, &b] {
        wait_for(relay, "the ninth refusal", |m| m.refused.malformed >= 3).await;
    }
    graylisted(&rogue, [&a, &b], room, (&mut ma, &mut mb)).await;
    lists_only_the_honest(&a, &mut ma, &b, &mut mb).await;
    assert!(
        stats(&a).refused.malformed < 2 + 20,
        "graylisting stopped the count: {:?}",
        stats(&a)
    );
}

/// How hard the rogues flood a room. The honest relays read each mesh connection at
/// [`FLOOD_INBOUND`] (about 220 of these small signals a second), so that a debug build on a
/// shared box reaches the limits.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Flood {
    /// 1,000 valid messages each, past the per-relay burst (500) but, held to the
    /// connection's inbound cap, never over the rate (250/s): every message is read and
    /// checked, none refused, and the honest relays' own traffic is not held up meanwhile.
    PastTheBurst,
    /// 400 each against a rate of 20/s (burst 20): rate-limited, and the rogue graylisted.
    OverTheRate,
}

/// What each mesh connection of an honest relay reads in the flood tests.
const FLOOD_INBOUND: InboundLimit = InboundLimit {
    bytes_per_sec: 64 * 1024,
    burst: 64 * 1024,
};

impl Flood {
    fn count(self) -> u64 {
        match self {
            Flood::PastTheBurst => 1_000,
            Flood::OverTheRate => 400,
        }
    }

    fn settings(self) -> TestSettings {
        let room_rate = match self {
            Flood::PastTheBurst => (250.0, 500.0),
            Flood::OverTheRate => (20.0, 20.0),
        };
        TestSettings {
            room_rate: Some(room_rate),
            inbound: FLOOD_INBOUND,
            ..TestSettings::loopback()
        }
    }
}

/// Room messages naming another room, stale, from the future, older than the rogue's last;
/// then a flood from `flooders` rogues at once, while the honest members meet and signal.
async fn room_attacks_and_a_flood(flooders: usize, flood: Flood) {
    let (a, b) = honest_pair_with(flood.settings()).await;
    let room = RoomId::from_bytes([0x72; 32]);
    let topic = Topic::Room(room);
    let (mut ma, mut mb) = members(&a, &b, room).await;
    let mut rogues = Vec::new();
    for _ in 0..flooders {
        rogues.push(Rogue::start(&[&a, &b]).await);
    }
    let rogue = &rogues[0];
    let now = now_ms();
    for data in [
        signal_to_nowhere(RoomId::from_bytes([0x73; 32]), now), // names another room
        signal_to_nowhere(room, now - HOUR_MS),                 // stale
        signal_to_nowhere(room, now + HOUR_MS),                 // from the future
        room_message(room, now, RoomBody::Joined(session(77))), // fine
        room_message(room, now - 10_000, RoomBody::Left(session(77))), // older than its last
    ] {
        rogue.publish(topic, data);
    }
    // The late `Left` is no attack (it may have been overtaken): ignored without penalty.
    for relay in [&a, &b] {
        wait_for(relay, "the room refusals", |m| {
            (m.refused.malformed, m.refused.stale, m.out_of_order) == (1, 2, 1)
        })
        .await;
    }

    let start: Vec<u64> = [&a, &b]
        .iter()
        .map(|r| stats(r).gossip_messages_in)
        .collect();
    let count = flood.count();
    let floods: Vec<_> = rogues
        .iter()
        .map(|r| r.flood(topic, count, move |_| signal_to_nowhere(room, now_ms())))
        .collect();
    // Meanwhile the federation works: a newcomer on B is seen from A, and they signal.
    let (mut newcomer, shown) = Member::join(&b, room).await;
    assert!(
        shown.contains(&ma.addr) && shown.contains(&mb.addr),
        "{shown:?}"
    );
    ma.joined(newcomer.addr, &[]).await;
    still_talking(&mut ma, &mut newcomer, room, 1).await;
    for done in floods {
        tokio::time::timeout(WAIT, done)
            .await
            .expect("the flood went out in time")
            .expect("rogue task is running");
    }
    still_talking(&mut ma, &mut mb, room, 2).await;
    // Within the rate every flood message is read and checked, and none refused; over it
    // the gate stops the flood.
    let total = count * flooders as u64;
    for (relay, start) in [&a, &b].into_iter().zip(start) {
        wait_for(relay, "the flood read or rate-limited", |m| match flood {
            Flood::PastTheBurst => m.gossip_messages_in >= start + total,
            Flood::OverTheRate => m.refused.rate_limited > 0,
        })
        .await;
        let r = stats(relay).refused;
        assert_eq!(
            (r.malformed, r.stale),
            (1, 2),
            "only the gate refuses a flood"
        );
        if flood == Flood::PastTheBurst {
            assert_eq!(r.rate_limited, 0, "held below the rate: {r:?}");
        }
    }
    lists_only_the_honest(&a, &mut ma, &b, &mut mb).await;
    still_talking(&mut ma, &mut newcomer, room, 3).await;
    if flood == Flood::PastTheBurst {
        return;
    }
    for relay in [&a, &b] {
        wait_for(relay, "the flood over the rate", |m| {
            m.refused.rate_limited > 0
        })
        .await;
    }
    for rogue in &rogues {
        graylisted(rogue, [&a, &b], room, (&mut ma, &mut mb)).await;
    }
    for relay in [&a, &b] {
        let m = stats(relay);
        assert!(
            m.refused.rate_limited < total,
            "graylisting stopped the count: {m:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_attacks_and_a_flood_past_the_burst_from_one_rogue() {
    room_attacks_and_a_flood(1, Flood::PastTheBurst).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_attacks_and_a_flood_past_the_burst_from_two_rogues_at_once() {
    room_attacks_and_a_flood(2, Flood::PastTheBurst).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_over_the_rate_is_limited_and_graylists_each_rogue() {
    room_attacks_and_a_flood(1, Flood::OverTheRate).await;
    room_attacks_and_a_flood(2, Flood::OverTheRate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_join_never_brings_back_a_member_that_left() {
    let (a, b) = honest_pair().await;
    let room = RoomId::from_bytes([0x74; 32]);
    let topic = Topic::Room(room);
    let (mut mb, _) = Member::join(&b, room).await;
    let mut rogue = Rogue::start(&[&a, &b]).await;
    rogue.send(Command::Hold(topic.name()));
    rogue.send(Command::Subscribe(topic.name()));
    rogue
        .subscriptions(vec![(*b.entry().node_key(), topic.name())])
        .await;

    // A's member joins: A flood-publishes its Joined to B and to the rogue, which keeps it.
    let (mut ma, shown) = Member::join(&a, room).await;
    if !shown.contains(&mb.addr) {
        // B's snapshot reaches A only after A subscribed to the room.
        ma.joined(mb.addr, &[]).await;
    }
    mb.joined(ma.addr, &[]).await;
    let joined = rogue.message(a.entry().node_key(), &topic.name()).await;
    let captured = tokio::time::Instant::now();
    match MeshMessage::decode(&joined).expect("A's gossip decodes") {
        MeshMessage::Room(m) => assert_eq!(m.body, RoomBody::Joined(ma.addr.session)),
        other => panic!("expected A's Joined, got {other:?}"),
    }
    ma.client
        .send(&ClientMessage::Leave { room })
        .await
        .expect("leave");
    mb.left(ma.addr).await;

    // Within gossipsub's 60 s seen-cache window: A's own signed message, forwarded by the
    // rogue (it now accepts it, so gossipsub passes it on), then the same bytes signed by
    // the rogue, which B attributes to the rogue — a member of its own, not A's member.
    rogue.send(Command::Release);
    rogue.publish(topic, joined.clone());
    let phantom = PeerAddr {
        relay: rogue.tag(),
        session: ma.addr.session,
    };
    mb.joined(phantom, &[ma.addr]).await;

    // Once the bytes are older than 30 s, B refuses them as stale.
    idle_until(&mut mb, captured + Duration::from_secs(31), ma.addr).await;
    let stale = stats(&b).refused.stale;
    rogue.publish(topic, joined);
    wait_for(&b, "the stale replay refused", |m| m.refused.stale > stale).await;
    // A newcomer on B sees B's member and the rogue's phantom; A's member stays gone.
    let (_, mut shown) = Member::join(&b, room).await;
    let mut want = vec![mb.addr, phantom];
    shown.sort_unstable_by_key(|p| (*p.relay.as_bytes(), p.session));
    want.sort_unstable_by_key(|p| (*p.relay.as_bytes(), p.session));
    assert_eq!(shown, want);
}

/// The figures in docs/federation.md "Flood limits": how fast an honest relay reads a flood of
/// valid room messages from two rogues at once, uncapped and at the production inbound cap
/// (the rate gate opened wide, so that only reading limits it), and how long an honest
/// signal's round trip across the federation takes meanwhile. Run in release:
/// `cargo test --release -p lumamesh-relay --test integration -- --ignored flood_figures
/// --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test: run in release with --nocapture"]
async fn flood_figures() {
    let uncapped = InboundLimit {
        bytes_per_sec: u32::MAX,
        burst: u32::MAX,
    };
    for (name, inbound) in [
        ("uncapped", uncapped),
        ("production cap", TestSettings::default().inbound),
    ] {
        let tests = TestSettings {
            room_rate: Some((1e9, 1e9)),
            inbound,
            ..TestSettings::loopback()
        };
        let (a, b) = honest_pair_with(tests).await;
        let room = RoomId::from_bytes([0x75; 32]);
        let (mut ma, mut mb) = members(&a, &b, room).await;
        let mut rogues = Vec::new();
        for _ in 0..2 {
            rogues.push(Rogue::start(&[&a, &b]).await);
        }
        let before = stats(&a).gossip_messages_in;
        let t0 = std::time::Instant::now();
        let _floods: Vec<_> = rogues
            .iter()
            .map(|r| {
                r.flood(Topic::Room(room), 10_000_000, move |_| {
                    signal_to_nowhere(room, now_ms())
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut trips = Vec::new();
        for round in 0..100 {
            let t = std::time::Instant::now();
            still_talking(&mut ma, &mut mb, room, round).await;
            trips.push(t.elapsed());
        }
        let read = stats(&a).gossip_messages_in - before;
        let secs = t0.elapsed().as_secs_f64();
        trips.sort_unstable();
        println!(
            "{name}: A read {read} messages in {secs:.1} s = {:.0}/s; honest round trip \
             (two signals) median {:?}, max {:?}",
            read as f64 / secs,
            trips[trips.len() / 2],
            trips[trips.len() - 1]
        );
    }
}
