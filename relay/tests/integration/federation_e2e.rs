//! Browsers across a federation: pages pinned to different relays (each served a runtime that
//! embeds only its own relay) meet in one room and talk directly; when one relay is killed its
//! page moves to the other relay it learned from `Nodes`, the room re-forms without a
//! duplicate, and the direct connection carries on throughout.

use harness::browser::{Browser, LaunchOptions};

use super::e2e::{
    core_state, join, one_connection_throughout, open, runtime, says, serve, wait_open_peers, T,
};
use super::federation::{federated, statsz, wait_mesh};

/// Waits until the relay holds `n` open sessions.
fn wait_sessions(relay: &super::RelayProcess, n: u64) {
    let deadline = std::time::Instant::now() + super::WAIT;
    loop {
        let stats = statsz(relay);
        if stats["stats"]["sessions_open"].as_u64() == Some(n) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "relay never held {n} open sessions: {stats}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn pages_on_two_federated_relays_meet_and_move_when_one_dies() {
    let a = federated("e2e-federation", &[]);
    let b = federated("e2e-federation", &[a.mesh.expect("mesh")]);
    for relay in [&a, &b] {
        wait_mesh(relay, "one mesh peer", |m| {
            m["mesh_peers"].as_u64() == Some(1)
        });
    }
    runtime().block_on(async {
        let on_a = serve(std::slice::from_ref(&a.entry)).await;
        let on_b = serve(std::slice::from_ref(&b.entry)).await;
        let browser = Browser::launch(LaunchOptions::default())
            .await
            .expect("chromium");
        let alice = open(&browser, &on_a).await;
        let bob = open(&browser, &on_b).await;
        join(&alice, "alice").await;
        join(&bob, "bob").await;
        for page in [&alice, &bob] {
            if page
                .wait_for("lm.openPeers().length === 1", T)
                .await
                .is_err()
            {
                let states = (core_state(&alice).await, core_state(&bob).await);
                panic!("alice and bob never connected: {states:?}");
            }
        }
        wait_sessions(&a, 1);
        wait_sessions(&b, 1);
        says(&alice, &bob, "hello across relays").await;
        says(&bob, &alice, "hello back").await;
        // Each learned the other relay from Nodes and cached it.
        alice
            .wait_for(
                &format!(
                    "(localStorage.getItem('lumamesh.relays') || '').includes('{}')",
                    b.entry.to_line()
                ),
                T,
            )
            .await
            .expect("alice cached relay B from Nodes");

        // Alice's relay dies without a word.
        let _ = a.sigkill();
        says(&alice, &bob, "still here").await;
        alice
            .wait_for("lm.events.filter((e) => e.type === 'relay').length >= 2", T)
            .await
            .expect("alice moves to relay B");
        wait_sessions(&b, 2);
        says(&bob, &alice, "welcome to B").await;
        // One connection between them all along: never closed, never duplicated.
        for page in [&alice, &bob] {
            one_connection_throughout(page).await;
        }
        // A newcomer on B meets both.
        let carol = open(&browser, &on_b).await;
        join(&carol, "carol").await;
        for page in [&alice, &bob, &carol] {
            wait_open_peers(page, 2).await;
        }
        browser.close().await.unwrap();
    });
}
