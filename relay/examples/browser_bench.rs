//! Browser latency benchmark (not a test): page script start → relay DataChannel open, and
//! room join → first peer open, over N runs in headless Chromium against a relay on
//! loopback, with the real runtime bundled under ord's CSP. Then the same join → first peer
//! open on two federated relays, alternating run by run between two pages on one relay
//! ("same") and one page on each ("cross"): each content server serves the runtime bundled
//! for one relay only, so a page's relay is pinned.
//!
//! ```text
//! cargo run --release -p lumamesh-relay --example browser_bench -- [RUNS]
//! ```
//!
//! Prints one JSON object: every sample, and the median and p95 of each figure.

use std::net::Ipv4Addr;
use std::time::Duration;

use harness::browser::{Browser, LaunchOptions, Page};
use lumamesh_relay::local::{LocalOptions, LocalRelay};
use lumamesh_relay::mesh::swarm::{MeshSettings, TestSettings};
use serde_json::{json, Value};

#[path = "common/e2e_page.rs"]
mod e2e_page;

const T: Duration = Duration::from_secs(30);

/// Runs before the runtime: forgets relays cached from `Nodes` by earlier pages of the same
/// origin, so the page dials only the relay bundled into its runtime.
const PIN: &str = "<script>localStorage.removeItem('lumamesh.relays');</script>\n";

/// The `p`th percentile (nearest rank); NaN (JSON `null`) without samples.
fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * (s.len() as f64 - 1.0)).round() as usize;
    s[rank]
}

fn summary(samples: &[f64]) -> Value {
    json!({ "median": percentile(samples, 50.0), "p95": percentile(samples, 95.0), "samples": samples })
}

async fn open(browser: &Browser, url: &str) -> Page {
    let page = browser.open(url).await.expect("page opens");
    page.wait_for("window.lmReady === true && lm.relayOpenMs > 0", T)
        .await
        .expect("relay channel opens");
    page
}

async fn number(page: &Page, js: &str) -> f64 {
    page.eval(js)
        .await
        .expect("eval")
        .as_f64()
        .expect("a number")
}

/// `a` joins `room`, then `b`; returns `b`'s join → first peer open (ms), or `None` (with
/// what each page saw, on stderr) if no peer opened within [`T`].
async fn first_peer(a: &Page, b: &Page, room: &str) -> Option<f64> {
    a.eval(&format!("lm.join('{room}', 'a')")).await.unwrap();
    a.wait_for(&format!("!!lm.rooms['{room}']"), T)
        .await
        .unwrap();
    b.eval(&format!("lm.join('{room}', 'b')")).await.unwrap();
    if let Err(e) = b.wait_for("lm.firstPeerMs > 0", T).await {
        let seen = format!("JSON.stringify([lm.events, lm.rooms['{room}'].peers.length])");
        eprintln!(
            "{room}: no peer opened ({e}); a saw {:?}; b saw {:?}",
            a.eval(&seen).await,
            b.eval(&seen).await
        );
        return None;
    }
    let ms = number(b, "lm.firstPeerMs").await;
    eprintln!("{room}: {ms:.0} ms");
    Some(ms)
}

/// The single-relay figures, as before federation.
async fn one_relay(runs: usize) -> Value {
    let e2e_page::Setup {
        relay,
        server: _server,
        browser,
        url,
    } = e2e_page::start("").await;
    let (mut relay_open, mut first) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let a = open(&browser, &url).await;
        let b = open(&browser, &url).await;
        relay_open.push(number(&a, "lm.relayOpenMs").await);
        relay_open.push(number(&b, "lm.relayOpenMs").await);
        first.push(
            first_peer(&a, &b, &format!("bench-{run}"))
                .await
                .expect("peer opens"),
        );
        a.close().await.unwrap();
        b.close().await.unwrap();
    }
    browser.close().await.unwrap();
    relay.stop().await.unwrap();
    json!({ "relay_open_ms": summary(&relay_open), "first_peer_ms": summary(&first) })
}

async fn federated(peers: &[std::net::SocketAddr]) -> LocalRelay {
    let mut mesh = MeshSettings::parse(Some("127.0.0.1:0"), None, Some("browser bench"))
        .expect("mesh settings");
    mesh.peers = peers.iter().map(|&p| p.into()).collect();
    mesh.tests = TestSettings::loopback();
    LocalRelay::start_with(
        Ipv4Addr::LOCALHOST.into(),
        LocalOptions {
            mesh: Some(mesh),
            ..LocalOptions::default()
        },
    )
    .await
    .expect("federated relay")
}

/// Waits until `relay` is connected to one relay and knows it from the directory.
async fn wait_federated(relay: &LocalRelay) {
    let mut watch = relay.watch();
    tokio::time::timeout(
        T,
        watch.wait_for(|s| {
            s.mesh
                .is_some_and(|m| m.node.mesh_peers == 1 && m.node.known_relays == 1)
        }),
    )
    .await
    .expect("the two relays federate")
    .expect("driver runs");
}

/// Two federated relays: join → first peer open with both pages on one relay vs one page on
/// each, alternating which case goes first run by run (and which relay "same" uses).
async fn two_relays(runs: usize) -> Value {
    let ra = federated(&[]).await;
    let rb = federated(&[ra.mesh_addr().expect("mesh listens")]).await;
    wait_federated(&ra).await;
    wait_federated(&rb).await;
    let on_a = e2e_page::serve(std::slice::from_ref(ra.entry()), PIN).await;
    let on_b = e2e_page::serve(std::slice::from_ref(rb.entry()), PIN).await;
    let browser = Browser::launch(LaunchOptions::default())
        .await
        .expect("chromium");
    let (mut same, mut cross) = (Vec::new(), Vec::new());
    let (mut same_failed, mut cross_failed) = (0, 0);
    for run in 0..runs {
        let home = if run % 2 == 0 { &on_a } else { &on_b };
        let cases = [
            ("same", &home.url, &home.url),
            ("cross", &on_a.url, &on_b.url),
        ];
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let (case, url_a, url_b) = cases[i];
            let a = open(&browser, url_a).await;
            let b = open(&browser, url_b).await;
            let ms = first_peer(&a, &b, &format!("fed-{case}-{run}")).await;
            let (samples, failed) = if case == "same" {
                (&mut same, &mut same_failed)
            } else {
                (&mut cross, &mut cross_failed)
            };
            match ms {
                Some(ms) => samples.push(ms),
                None => *failed += 1,
            }
            a.close().await.unwrap();
            b.close().await.unwrap();
        }
    }
    browser.close().await.unwrap();
    let mesh = |r: &LocalRelay| serde_json::to_value(r.mesh_report()).expect("mesh report");
    let (mesh_a, mesh_b) = (mesh(&ra), mesh(&rb));
    ra.stop().await.unwrap();
    rb.stop().await.unwrap();
    json!({
        "same_relay_first_peer_ms": summary(&same),
        "cross_relay_first_peer_ms": summary(&cross),
        "no_peer_within_30_s": { "same": same_failed, "cross": cross_failed },
        "cross_over_same": {
            "median": percentile(&cross, 50.0) / percentile(&same, 50.0),
            "p95": percentile(&cross, 95.0) / percentile(&same, 95.0),
        },
        "mesh": { "a": mesh_a, "b": mesh_b },
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let mut report = json!({ "runs": runs });
    let single = one_relay(runs).await;
    let fed = two_relays(runs).await;
    report["relay_open_ms"] = single["relay_open_ms"].clone();
    report["first_peer_ms"] = single["first_peer_ms"].clone();
    report["federation"] = fed;
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
