//! Issue 16: a browser reaches a relay by its host name. The real relay runs with
//! `PUBLIC_HOST`, so its signed entry carries the name; the page's static answer puts the name
//! in the candidate and Chromium resolves it. Chromium's resolver is pointed at loopback with
//! `--host-resolver-rules` (its WebRTC asks for the name with a final dot, docs/relay-txt.md
//! "Host names"); every other name fails there without a DNS query, and `/etc/hosts` is never
//! touched. Firefox drops host-name candidates, so this test is Chromium's.

use std::time::Duration;

use bootstrap_codec::{HostName, RelayAddress, RelayEntry};
use harness::browser::{Browser, LaunchOptions, Page};
use harness::server::ContentServer;
use harness::InscriptionId;

use super::e2e::runtime;
use super::RelayProcess;

const LIB: &str = "4444444444444444444444444444444444444444444444444444444444444444i0";
const PAGE: &str = "5555555555555555555555555555555555555555555555555555555555555555i0";
/// The name the relay is published under; only Chromium's resolver rules know it.
const NAME: &str = "relay.lumamesh.test";
/// A name nothing resolves (`.invalid` never does, RFC 6761; the rules fail it at once).
const GONE: &str = "gone.lumamesh.invalid";
const T: Duration = Duration::from_secs(60);
/// The page's per-relay timeout (ms): how long an unreachable relay may hold up connect().
const DIAL_MS: u32 = 3000;

/// A page that connects to the relays it is given, clearing what earlier runs learned (a
/// cached relay would otherwise be dialled once the given ones fail).
const HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>host name</title></head><body>
<script type="module">
import { connect } from '/content/{{LIB}}';
window.run = (relays, timeout) => {
  localStorage.clear();
  window.out = null;
  connect({ relays, timeout }).then(
    (net) => {
      const e = net._link.entry;
      window.out = { ok: true, address: e.host || e.ip, me: !!net._link.welcome.me };
      net.close();
    },
    (err) => (window.out = { ok: false, error: String(err && err.message) }),
  );
  return true;
};
window.ready = true;
</script></body></html>"#;

fn launch_options() -> LaunchOptions {
    LaunchOptions {
        extra_args: vec![format!(
            "--host-resolver-rules=MAP {NAME}. 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
        )],
        ..LaunchOptions::default()
    }
}

/// An entry for a relay no one runs, published under a name that does not resolve.
fn gone_relay() -> RelayEntry {
    let identity = keystore::RelayIdentity::generate().expect("identity");
    identity.entry(
        RelayAddress::Host(HostName::new(GONE).expect("a valid name")),
        3478.try_into().expect("non-zero"),
        bootstrap_codec::IceUfrag::default_relay(),
    )
}

/// Runs `connect()` in the page with `relays` and gives back what it settled to.
async fn connect(page: &Page, relays: &[&RelayEntry]) -> serde_json::Value {
    let lines: Vec<String> = relays.iter().map(|e| e.to_line()).collect();
    let lines = serde_json::to_string(&lines).expect("json");
    page.eval(&format!("window.run({lines}, {DIAL_MS})"))
        .await
        .expect("run");
    page.wait_for("window.out !== null", T)
        .await
        .expect("connect() settles");
    page.eval("window.out").await.expect("out")
}

#[test]
fn a_browser_reaches_a_relay_by_its_host_name() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    // As a careless operator types it: upper case, folded to the one encoding.
    let relay = RelayProcess::start_with_env(
        &dir,
        0,
        Some(tmp),
        &[("PUBLIC_HOST", "Relay.Lumamesh.TEST")],
    );
    assert_eq!(relay.entry.address().to_string(), NAME);
    let log = std::fs::read_to_string(&relay.stderr).unwrap_or_default();
    assert!(
        log.contains("Firefox cannot reach a relay by host name"),
        "{log}"
    );
    let gone = gone_relay();
    runtime().block_on(async {
        let bundle = sandbox_runtime::bundle(std::slice::from_ref(&relay.entry)).expect("bundle");
        let server = ContentServer::start_page_with_library(
            LIB.parse().unwrap(),
            bundle.js.as_bytes(),
            PAGE.parse().unwrap(),
            HTML.replace("{{LIB}}", LIB).into_bytes(),
        )
        .await
        .expect("content server");
        let browser = Browser::launch(launch_options()).await.expect("chromium");
        let page = browser
            .open(&server.content_url(&PAGE.parse::<InscriptionId>().unwrap()))
            .await
            .expect("page opens");
        page.wait_for("window.ready === true", T)
            .await
            .expect("page ready");

        // By name alone: the channel opens and the relay says Welcome.
        let out = connect(&page, &[&relay.entry]).await;
        assert_eq!(out["ok"], true, "{out}");
        assert_eq!(out["address"], NAME, "{out}");
        assert_eq!(out["me"], true, "{out}");

        // A name that does not resolve, listed first: the named relay still wins.
        let out = connect(&page, &[&gone, &relay.entry]).await;
        assert_eq!(out["ok"], true, "{out}");
        assert_eq!(out["address"], NAME, "{out}");

        // Only the unresolvable name: connect() rejects once the page's timeout has passed,
        // saying no relay was reachable (Chromium itself reports nothing: ICE stays "new").
        let out = connect(&page, &[&gone]).await;
        assert_eq!(out["ok"], false, "{out}");
        let error = out["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("lumamesh: no relay reachable: relay did not answer"),
            "{out}"
        );
        browser.close().await.expect("browser closes");
    });
}
