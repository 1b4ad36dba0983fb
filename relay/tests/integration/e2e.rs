//! Browser end to end: the real relay, the real runtime bundle served under ord's CSP by the
//! harness content server, and headless Chromium pages that meet in a room and talk directly.

use std::time::Duration;

use bootstrap_codec::RelayEntry;
use harness::browser::{Browser, LaunchOptions, Page};
use harness::server::ContentServer;
use harness::InscriptionId;

use super::RelayProcess;

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
    page.wait_for(&format!("lm.openPeers().length === {n}"), T)
        .await
        .unwrap_or_else(|e| panic!("{n} open peers: {e}"));
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
        let server = serve(std::slice::from_ref(&entry)).await;
        let browser = Browser::launch(LaunchOptions::default())
            .await
            .expect("chromium");
        let (a, b) = alice_and_bob(&browser, &server).await;

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
        for page in [&a, &b] {
            page.wait_for("lm.events.filter((e) => e.type === 'relay').length >= 2", T)
                .await
                .expect("page redials the restarted relay");
        }
        // Still exactly one connection between them, and a newcomer meets both.
        let c = open(&browser, &server).await;
        join(&c, "carol").await;
        for page in [&a, &b, &c] {
            wait_open_peers(page, 2).await;
        }
        assert_eq!(a.eval("Object.keys(lm.peers).length").await.unwrap(), 2);
        browser.close().await.unwrap();
        drop(restarted);
    });
}
