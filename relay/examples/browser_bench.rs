//! Browser latency benchmark (not a test): page script start → relay DataChannel open, and
//! room join → first peer open, over N runs in headless Chromium against a relay on
//! loopback, with the real runtime bundle served under ord's CSP.
//!
//! ```text
//! cargo run --release -p lumamesh-relay --example browser_bench -- [RUNS]
//! ```
//!
//! Prints one JSON object: every sample, and the median and p95 of each figure.

use std::time::Duration;

use harness::browser::{Browser, Page};

#[path = "common/e2e_page.rs"]
mod e2e_page;

const T: Duration = Duration::from_secs(30);

fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * (s.len() as f64 - 1.0)).round() as usize;
    s[rank]
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let e2e_page::Setup {
        relay,
        server: _server,
        browser,
        url,
    } = e2e_page::start("").await;

    let (mut relay_open, mut first_peer) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let a = open(&browser, &url).await;
        let b = open(&browser, &url).await;
        relay_open.push(number(&a, "lm.relayOpenMs").await);
        relay_open.push(number(&b, "lm.relayOpenMs").await);
        a.eval(&format!("lm.join('bench-{run}', 'a')"))
            .await
            .unwrap();
        a.wait_for(&format!("!!lm.rooms['bench-{run}']"), T)
            .await
            .unwrap();
        b.eval(&format!("lm.join('bench-{run}', 'b')"))
            .await
            .unwrap();
        b.wait_for("lm.firstPeerMs > 0", T)
            .await
            .expect("peer opens");
        first_peer.push(number(&b, "lm.firstPeerMs").await);
        a.close().await.unwrap();
        b.close().await.unwrap();
    }
    browser.close().await.unwrap();
    relay.stop().await.unwrap();
    let report = serde_json::json!({
        "runs": runs,
        "relay_open_ms": { "median": percentile(&relay_open, 50.0), "p95": percentile(&relay_open, 95.0), "samples": relay_open },
        "first_peer_ms": { "median": percentile(&first_peer, 50.0), "p95": percentile(&first_peer, 95.0), "samples": first_peer },
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
