//! Browser end to end: the real relay, the real runtime bundle served under ord's CSP by the
//! harness content server, and headless Chromium pages that meet in a room and talk directly.

use std::time::Duration;

use bootstrap_codec::RelayEntry;
use harness::browser::{Browser, LaunchOptions, Page};
use harness::server::ContentServer;
use harness::InscriptionId;
use lumamesh_relay::client::UdpClient;
use lumamesh_relay::protocol::{ClientMessage, RelayMessage, RoomId};

use super::common_mesh::{hello2, until};
use super::{RelayProcess, WAIT};

const LIB: &str = "2222222222222222222222222222222222222222222222222222222222222222i0";
const PAGE: &str = "3333333333333333333333333333333333333333333333333333333333333333i0";
pub(super) const ROOM: &str = "e2e-room-name-7f3a";
pub(super) const T: Duration = Duration::from_secs(60);

/// The content server with the runtime (bundled for `entries`) and the e2e page inscribed.
pub(super) async fn serve(entries: &[RelayEntry]) -> ContentServer {
    let bundle = sandbox_runtime::bundle(entries).expect("bundle");
    let page = fixtures::read("pages/e2e.html").replace("{{LIB}}", LIB);
    ContentServer::start_page_with_library(
        LIB.parse().unwrap(),
        bundle.js.as_bytes(),
        PAGE.parse().unwrap(),
        page.into_bytes(),
    )
    .await
    .expect("content server")
}

pub(super) async fn open(browser: &Browser, server: &ContentServer) -> Page {
    let page = browser
        .open(&server.content_url(&PAGE.parse::<InscriptionId>().unwrap()))
        .await
        .expect("page opens");
    page.wait_for("window.lmReady === true", T)
        .await
        .expect("page ready");
    let events = page.eval("JSON.stringify(lm.events)").await.unwrap();
    assert!(
        events.as_str().unwrap().contains("\"relay\""),
        "relay channel did not open: {events}"
    );
    page
}

pub(super) async fn join(page: &Page, nick: &str) {
    page.eval(&format!("lm.join('{ROOM}', '{nick}')"))
        .await
        .expect("join");
}

pub(super) async fn wait_open_peers(page: &Page, n: usize) {
    if let Err(e) = page
        .wait_for(&format!("lm.openPeers().length === {n}"), T)
        .await
    {
        panic!("{n} open peers: {e}; core: {}", core_state(page).await);
    }
}

/// What the core and the connection hold for each member of a page's rooms, to tell a
/// stall from a slow machine.
pub(super) async fn core_state(page: &Page) -> String {
    let state = page
        .eval(
            "JSON.stringify(lm.net._mesh.rooms.flatMap((r) => r.peers.map((p) => { \
             const pc = lm.net._views.get(p)?.view.pc; return { id: p.id, sid: p.sid, \
             open: p.box.open, neg: p.neg.state, init: p.neg.initiator, polite: p.neg.polite, \
             got: [...p.got], held: p.held.length, pc: pc && [pc.signalingState, \
             pc.iceConnectionState, pc.connectionState, pc.localDescription?.type, \
             pc.remoteDescription?.type] }; })))",
        )
        .await;
    format!("{state:?}")
}

/// `from` broadcasts `text` in the room and `to` receives it.
pub(super) async fn says(from: &Page, to: &Page, text: &str) {
    from.eval(&format!("lm.broadcast('{ROOM}', {{ text: '{text}' }})"))
        .await
        .unwrap();
    to.wait_for(
        &format!("Object.values(lm.peers).some((p) => p.data.some((d) => d.text === '{text}'))"),
        T,
    )
    .await
    .unwrap_or_else(|e| panic!("{text:?} did not arrive: {e}"));
}

/// Asserts `page` has had one connection all along (never closed, never doubled) and it is open.
pub(super) async fn one_connection_throughout(page: &Page) {
    let closes = page
        .eval("lm.events.filter((e) => e.type === 'close').length")
        .await
        .unwrap();
    assert_eq!(closes, 0, "the direct connection was closed");
    assert_eq!(page.eval("Object.keys(lm.peers).length").await.unwrap(), 1);
    assert_eq!(page.eval("lm.openPeers().length").await.unwrap(), 1);
}

/// Two pages, alice and bob, in the room and connected to each other.
async fn alice_and_bob(browser: &Browser, server: &ContentServer) -> (Page, Page) {
    let a = open(browser, server).await;
    let b = open(browser, server).await;
    join(&a, "alice").await;
    join(&b, "bob").await;
    wait_open_peers(&a, 1).await;
    wait_open_peers(&b, 1).await;
    (a, b)
}

pub(super) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
}

/// The content server for the relay of `entry`, a browser, and alice and bob connected.
async fn pair_on(entry: &RelayEntry) -> (ContentServer, Browser, Page, Page) {
    let server = serve(std::slice::from_ref(entry)).await;
    let browser = Browser::launch(LaunchOptions::default())
        .await
        .expect("chromium");
    let (a, b) = alice_and_bob(&browser, &server).await;
    (server, browser, a, b)
}

/// Waits until each page has redialled (a second `relay` event).
async fn redialled(pages: &[&Page]) {
    for page in pages {
        page.wait_for("lm.events.filter((e) => e.type === 'relay').length >= 2", T)
            .await
            .expect("page redials the restarted relay");
    }
}

/// A newcomer, carol, meets alice and bob, and alice has no second connection to bob.
async fn carol_meets_both(browser: &Browser, server: &ContentServer, a: &Page, b: &Page) {
    let c = open(browser, server).await;
    join(&c, "carol").await;
    for page in [a, b, &c] {
        wait_open_peers(page, 2).await;
    }
    assert_eq!(a.eval("Object.keys(lm.peers).length").await.unwrap(), 2);
}

/// No frame the relay read may carry the room name, a nickname or SDP in the clear.
pub(super) fn assert_relay_saw_no_plaintext(relay: &RelayProcess, nicks: &[&str]) {
    let frames = relay.frames_read();
    // Signal (0x04, version 1) or Signal2 (0x07, version 2).
    let signals = frames
        .iter()
        .filter(|f| matches!(f.first(), Some(0x04 | 0x07)))
        .count();
    assert!(
        signals >= 2,
        "the relay forwarded {signals} signals: the check would be vacuous"
    );
    let mut needles: Vec<&str> = vec![ROOM, "v=0", "a=fingerprint", "candidate", "e2e-secret"];
    needles.extend_from_slice(nicks);
    for frame in &frames {
        let text = String::from_utf8_lossy(frame);
        for needle in &needles {
            assert!(!text.contains(needle), "relay read {needle:?} in the clear");
        }
    }
}

/// A validly signed entry for a relay that does not exist (nothing listens on port 9).
fn dead_relay() -> RelayEntry {
    let identity = keystore::RelayIdentity::generate().expect("identity");
    identity.entry(
        "127.0.0.1".parse().unwrap(),
        9.try_into().unwrap(),
        bootstrap_codec::IceUfrag::default_relay(),
    )
}

#[test]
fn two_pages_exchange_reliable_unreliable_and_large_messages() {
    let relay = RelayProcess::start();
    runtime().block_on(async {
        // A dead relay listed first: every relay is dialled at once and the live one wins.
        let server = serve(&[dead_relay(), relay.entry.clone()]).await;
        let browser = Browser::launch(LaunchOptions::default()).await.expect("chromium");
        let (a, b) = alice_and_bob(&browser, &server).await;
        assert_eq!(b.eval("lm.openPeers()[0]").await.unwrap(), "alice");
        // The relay's Nodes answer (its own signed entry) was verified and cached.
        a.wait_for("(JSON.parse(localStorage.getItem('lumamesh.relays')) || []).length >= 1", T)
            .await
            .expect("learned relays are cached in localStorage");
        let cached = a.eval("localStorage.getItem('lumamesh.relays')").await.unwrap();
        assert!(
            cached.as_str().unwrap().contains(&relay.entry.to_line()),
            "{cached}"
        );

        a.eval(&format!("lm.broadcast('{ROOM}', {{ text: 'hello bob' }})")).await.unwrap();
        b.wait_for(
            "Object.values(lm.peers).some((p) => p.data.some((d) => d.text === 'hello bob'))",
            T,
        )
        .await
        .expect("reliable message arrives");

        a.eval(&format!(
            "for (let i = 0; i < 50; i++) lm.broadcast('{ROOM}', {{ unreliable: i }}, false)"
        ))
        .await
        .unwrap();
        b.wait_for("Object.values(lm.peers).some((p) => p.unreliable > 0)", T)
            .await
            .expect("unreliable messages arrive");

        let sent = a
            .eval(&format!("lm.sendBig('{ROOM}', 3 * 1024 * 1024 + 7)"))
            .await
            .unwrap();
        let sha = sent["sha"].as_str().unwrap().to_owned();
        b.wait_for(
            &format!("Object.values(lm.peers).some((p) => p.digests.some((d) => d.sha === '{sha}' && d.len === 3145735))"),
            T,
        )
        .await
        .expect("3 MiB message arrives intact");

        // Media: renegotiation runs over the peers' own channel; the kind travels with it.
        a.eval(&format!("lm.publish('{ROOM}', 'cam')")).await.unwrap();
        b.wait_for(
            "Object.values(lm.peers).some((p) => p.tracks.some((t) => t.kind === 'cam' && t.media === 'video'))",
            T,
        )
        .await
        .expect("published video track arrives with its kind");

        b.close().await.unwrap();
        a.wait_for("lm.events.some((e) => e.type === 'close' && e.nick === 'bob')", T)
            .await
            .expect("closing a page produces close on the other");
        browser.close().await.unwrap();
    });
    assert_relay_saw_no_plaintext(&relay, &["alice", "bob"]);
}

#[test]
fn eight_pages_form_a_full_mesh() {
    let relay = RelayProcess::start();
    runtime().block_on(async {
        let server = serve(std::slice::from_ref(&relay.entry)).await;
        let browser = Browser::launch(LaunchOptions::default())
            .await
            .expect("chromium");
        let mut pages = Vec::new();
        for i in 0..8 {
            let page = open(&browser, &server).await;
            join(&page, &format!("p{i}")).await;
            pages.push(page);
        }
        for page in &pages {
            wait_open_peers(page, 7).await;
        }
        browser.close().await.unwrap();
    });
}

#[test]
fn peers_outlive_a_killed_relay_and_reconnect_to_its_restart() {
    let relay = RelayProcess::start();
    let port = relay.entry.port();
    let entry = relay.entry.clone();
    runtime().block_on(async move {
        let (server, browser, a, b) = pair_on(&entry).await;

        let (dir, tmp) = relay.sigkill();
        a.eval(&format!(
            "lm.broadcast('{ROOM}', {{ text: 'relay is gone' }})"
        ))
        .await
        .unwrap();
        b.wait_for(
            "Object.values(lm.peers).some((p) => p.data.some((d) => d.text === 'relay is gone'))",
            T,
        )
        .await
        .expect("peers keep talking with the relay dead");

        // Same identity and port: the entry embedded in the pages is still right.
        let restarted = RelayProcess::start_in(&dir, port, tmp);
        redialled(&[&a, &b]).await;
        // Still exactly one connection between them, and a newcomer meets both.
        carol_meets_both(&browser, &server, &a, &b).await;
        browser.close().await.unwrap();
        drop(restarted);
    });
}

/// Issue 14: a graceful restart cuts no direct conversation. On SIGTERM the relay says `Left`
/// for every member and closes; the pages' connection stays open, they keep talking, and
/// after the restart they rejoin without a second connection.
#[test]
fn peers_outlive_a_sigterm_and_rejoin_its_restart_once() {
    let mut relay = RelayProcess::start();
    let port = relay.entry.port();
    let entry = relay.entry.clone();
    runtime().block_on(async move {
        let (server, browser, a, b) = pair_on(&entry).await;
        says(&a, &b, "before").await;

        relay.sigterm();
        relay.wait_exit();
        for page in [&a, &b] {
            page.wait_for("lm.events.some((e) => e.type === 'disconnected')", T)
                .await
                .expect("the relay's goodbye reaches the page");
        }
        says(&a, &b, "after sigterm").await;
        says(&b, &a, "after sigterm, back").await;

        let (dir, tmp) = relay.sigkill();
        let restarted = RelayProcess::start_in(&dir, port, tmp);
        redialled(&[&a, &b]).await;
        says(&a, &b, "after the restart").await;
        for page in [&a, &b] {
            one_connection_throughout(page).await;
        }
        carol_meets_both(&browser, &server, &a, &b).await;
        browser.close().await.unwrap();
        drop(restarted);
    });
}

/// A relay on one thread (`THREADS=1`).
const ONE_CORE: &[(&str, &str)] = &[("THREADS", "1")];

/// The `Signal2` frames (0x07) session `peer` gave the relay to read, from its trace log.
fn signals_from(relay: &RelayProcess, peer: u32) -> Vec<Vec<u8>> {
    let log = std::fs::read_to_string(&relay.stderr).unwrap_or_default();
    let who = format!("peer={peer} ");
    log.lines()
        .filter(|l| l.contains("frame in") && l.contains(&who))
        .filter_map(|l| l.split("frame=").nth(1))
        .map(|h| hex::decode(h.split_whitespace().next().unwrap_or("")).expect("hex frame"))
        .filter(|f| f.first() == Some(&0x07))
        .collect()
}

/// The session id (the last 8 hex digits) of a page's peer address.
fn session_of(address: &serde_json::Value) -> u32 {
    let hex = address.as_str().expect("an address");
    u32::from_str_radix(&hex[16..], 16).expect("hex session id")
}

/// Issue 14: signals recorded before a relay restart are refused by the later session that
/// gets the same address. The relay's log gives what bob sealed for alice; after the restart
/// a new page takes alice's address and a native client bob's, and the client plays the
/// recorded frames to the page: they decrypt (the page answers the recorded probe), and the
/// page makes no peer of them.
#[test]
fn a_replayed_signal_is_refused() {
    // One core: its session ids run 1, 2, … in connection order, before and after the
    // restart, so the later sessions get exactly the recorded addresses (the replay's best
    // case; a sharded relay's ids also depend on the shard a prefix hashes to).
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    let relay = RelayProcess::start_with_env(&dir, 0, Some(tmp), ONE_CORE);
    let port = relay.entry.port();
    let entry = relay.entry.clone();
    runtime().block_on(async move {
        let (server, browser, a, b) = pair_on(&entry).await;
        let alice = session_of(&b.eval("Object.keys(lm.peers)[0]").await.unwrap());
        let bob = session_of(&a.eval("Object.keys(lm.peers)[0]").await.unwrap());
        assert_eq!(
            (alice, bob),
            (1, 2),
            "sessions in the order the pages connected"
        );
        let recorded = signals_from(&relay, bob);
        assert!(recorded.len() >= 2, "bob sealed {} signals", recorded.len());
        a.close().await.unwrap();
        b.close().await.unwrap();

        let (dir, tmp) = relay.sigkill();
        let restarted = RelayProcess::start_with_env(&dir, port, tmp, ONE_CORE);
        // The new page first (session 1, alice's old address), then the client (bob's).
        let page = open(&browser, &server).await;
        join(&page, "alice again").await;
        let mut client = UdpClient::connect(&entry, None, None, WAIT)
            .await
            .expect("native client connects");
        let me = hello2(&mut client, &entry).await;
        assert_eq!(me.session.get(), bob, "the client has bob's old address");
        let room = RoomId::from_bytes(recorded[0][1..33].try_into().unwrap());
        client
            .send(&ClientMessage::Join { room })
            .await
            .expect("join");
        // Everything bob sent alice, then its first signal (a probe) once more: the page
        // answers each probe, and one sender's signals are opened in order, so the second
        // answer comes after every recorded signal was dealt with.
        for frame in recorded.iter().chain(&recorded[..1]) {
            client.send_raw(frame).await.expect("replay");
        }
        for _ in 0..2 {
            until(
                &mut client,
                "the page's answer to a replayed probe",
                |m| match m {
                    RelayMessage::Signal2 { from, .. } if from.session.get() == alice => Some(()),
                    _ => None,
                },
            )
            .await;
        }
        let peers = page.eval("Object.keys(lm.peers).length").await.unwrap();
        assert_eq!(peers, 0, "the page made a peer of a replayed signal");
        browser.close().await.unwrap();
        drop(restarted);
    });
}
