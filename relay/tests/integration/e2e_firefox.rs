//! Firefox as a second engine (issue 17): the real relay and runtime bundle, and headless
//! Firefox ESR pages (over WebDriver BiDi) that open their relay channels, meet in a room
//! and talk directly — two Firefox pages, and a Firefox page with a Chromium page.
//!
//! Skipped, with a note on stderr, when Firefox is not installed (`apt-get install -y
//! firefox-esr`, or set FIREFOX).

use harness::browser::{find_firefox, Browser, Engine, LaunchOptions, Page};

use super::e2e::{
    assert_relay_saw_no_plaintext, join, open, runtime, says, serve, wait_open_peers, ROOM, T,
};
use super::RelayProcess;

fn firefox_installed() -> bool {
    match find_firefox() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipped: {e}");
            false
        }
    }
}

async fn launch(engine: Engine) -> Browser {
    Browser::launch(LaunchOptions::engine(engine))
        .await
        .unwrap_or_else(|e| panic!("{engine} starts: {e}"))
}

/// `a` and `b` join the room, connect to each other, and each one's message reaches the
/// other; `a` then sends `b` a message larger than one SCTP chunk.
async fn meet_and_talk(a: &Page, b: &Page) {
    join(a, "alice").await;
    join(b, "bob").await;
    wait_open_peers(a, 1).await;
    wait_open_peers(b, 1).await;
    assert_eq!(b.eval("lm.openPeers()[0]").await.unwrap(), "alice");
    says(a, b, "hello bob").await;
    says(b, a, "hello alice").await;
    let sent = a
        .eval(&format!("lm.sendBig('{ROOM}', 256 * 1024 + 3)"))
        .await
        .unwrap();
    let sha = sent["sha"].as_str().expect("a digest").to_owned();
    b.wait_for(
        &format!("Object.values(lm.peers).some((p) => p.digests.some((d) => d.sha === '{sha}' && d.len === 262147))"),
        T,
    )
    .await
    .expect("256 KiB message arrives intact");
}

#[test]
fn two_firefox_pages_meet_and_exchange_messages() {
    if !firefox_installed() {
        return;
    }
    let relay = RelayProcess::start();
    runtime().block_on(async {
        let server = serve(std::slice::from_ref(&relay.entry)).await;
        let firefox = launch(Engine::Firefox).await;
        let a = open(&firefox, &server).await;
        let b = open(&firefox, &server).await;
        meet_and_talk(&a, &b).await;
        b.close().await.unwrap();
        a.wait_for(
            "lm.events.some((e) => e.type === 'close' && e.nick === 'bob')",
            T,
        )
        .await
        .expect("closing a Firefox tab produces close on the other");
        firefox.close().await.unwrap();
    });
    assert_relay_saw_no_plaintext(&relay, &["alice", "bob"]);
}

#[test]
fn a_chromium_page_and_a_firefox_page_meet_and_exchange_messages() {
    if !firefox_installed() {
        return;
    }
    let relay = RelayProcess::start();
    runtime().block_on(async {
        let server = serve(std::slice::from_ref(&relay.entry)).await;
        let (chromium, firefox) = tokio::join!(launch(Engine::Chromium), launch(Engine::Firefox));
        let a = open(&chromium, &server).await;
        let b = open(&firefox, &server).await;
        meet_and_talk(&a, &b).await;
        // And the other way round for the large message.
        let sent = b
            .eval(&format!("lm.sendBig('{ROOM}', 100 * 1024)"))
            .await
            .unwrap();
        let sha = sent["sha"].as_str().expect("a digest").to_owned();
        a.wait_for(
            &format!(
                "Object.values(lm.peers).some((p) => p.digests.some((d) => d.sha === '{sha}'))"
            ),
            T,
        )
        .await
        .expect("Firefox to Chromium large message arrives intact");
        firefox.close().await.unwrap();
        chromium.close().await.unwrap();
    });
    assert_relay_saw_no_plaintext(&relay, &["alice", "bob"]);
}
