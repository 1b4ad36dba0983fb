//! Browser end to end, issue 14 (directory poisoning): another inscription of the origin fills
//! `localStorage` with garbage, a flood of relays and relays nobody can reach; a page still
//! connects through the relay embedded in its runtime, and the storage ends clean.

use bootstrap_codec::{IceUfrag, RelayEntry};
use harness::browser::{Browser, LaunchOptions};
use keystore::RelayIdentity;

use super::e2e::{open, runtime, serve};
use super::RelayProcess;

/// The key the runtime keeps learned relays under for a page that names no app.
const KEY: &str = "lumamesh.relays";

/// A validly signed entry for `address` (an IP address or a host name) and `port`.
fn signed(identity: &RelayIdentity, address: &str, port: u16) -> RelayEntry {
    identity.entry(
        address.parse().expect("address"),
        port.try_into().expect("port"),
        IceUfrag::default_relay(),
    )
}

/// JavaScript that writes `json` (a JSON text) into the runtime's storage key.
fn poison(json: &str) -> String {
    let literal = serde_json::to_string(json).expect("a JSON string");
    format!("localStorage.setItem('{KEY}', {literal}), true")
}

#[test]
fn poisoned_storage_never_keeps_a_page_off_its_embedded_relay() {
    let relay = RelayProcess::start();
    let entry = relay.entry.clone();
    let identity = RelayIdentity::generate().expect("identity");
    // Nobody answers on these: host names (a lookup would tell their owner who dialled),
    // private ranges, a documentation address, a port nothing listens on.
    let unreachable: Vec<String> = [
        ("relay.invalid", 3478),
        ("tracker.example.com", 3478),
        ("10.255.255.1", 3478),
        ("192.168.77.1", 3478),
        ("169.254.1.1", 3478),
        ("fd00::1", 3478),
        ("192.0.2.1", 3478),
        ("127.0.0.1", 9),
    ]
    .iter()
    .map(|(address, port)| signed(&identity, address, *port).to_line())
    .collect();
    let refused = &unreachable[..6];
    let flood: Vec<String> = (0..10_000)
        .map(|i| signed(&identity, "192.0.2.1", 10_000 + i).to_line())
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    // Both the bare lines runtimes before issue 14 stored and the [line, last seen] pairs
    // of now.
    let mut mixed: Vec<serde_json::Value> = unreachable.iter().map(|l| l.as_str().into()).collect();
    mixed.extend(
        unreachable
            .iter()
            .map(|l| serde_json::json!([l, now as u64])),
    );
    let cases = [
        ("non-array JSON", r#"{"relays":1}"#.to_owned()),
        ("not JSON", "lumamesh".to_owned()),
        (
            "10,000 entries",
            serde_json::to_string(&flood).expect("json"),
        ),
        (
            "unreachable relays",
            serde_json::to_string(&mixed).expect("json"),
        ),
    ];
    runtime().block_on(async move {
        let server = serve(std::slice::from_ref(&entry)).await;
        let browser = Browser::launch(LaunchOptions::default())
            .await
            .expect("chromium");
        let first = open(&browser, &server).await;
        for (name, json) in &cases {
            first.eval(&poison(json)).await.expect("poison storage");
            // `open` waits (generously) for the page's relay channel to open.
            let page = open(&browser, &server).await;
            page.wait_for(
                &format!(
                    "(localStorage.getItem('{KEY}') || '').includes('{}')",
                    entry.to_line()
                ),
                super::e2e::T,
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: the embedded relay stored: {e}"));
            let stored = page
                .eval(&format!("localStorage.getItem('{KEY}')"))
                .await
                .expect("read storage");
            let stored = stored.as_str().expect("a string").to_owned();
            let value: serde_json::Value = serde_json::from_str(&stored)
                .unwrap_or_else(|e| panic!("{name}: storage is JSON: {e}: {stored}"));
            let items = value
                .as_array()
                .unwrap_or_else(|| panic!("{name}: an array: {stored}"));
            assert!(items.len() <= 17, "{name}: {} entries", items.len());
            assert!(stored.len() < 30_000, "{name}: {} bytes", stored.len());
            for line in refused.iter().chain(flood.iter().take(100)) {
                assert!(!stored.contains(line.as_str()), "{name}: kept {line}");
            }
            page.close().await.expect("close");
        }
        browser.close().await.expect("close browser");
    });
}
