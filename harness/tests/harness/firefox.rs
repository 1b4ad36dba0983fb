//! The Firefox engine (WebDriver BiDi): the same fixture pages as `browser.rs`, top level
//! and in the explorer's sandboxed iframe, recorded through the preload script and BiDi's
//! network and log events. Skipped, with a note, when Firefox is not installed.

use std::time::Duration;

use harness::browser::{find_firefox, Browser, BrowserError, Engine, LaunchOptions, Via};
use harness::server::{ContentServer, Inscription, ServerConfig, Store};

use crate::{fixture_page, id};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn missing_firefox_is_a_typed_error() {
    let options = LaunchOptions {
        executable: Some("/nonexistent/firefox-esr".into()),
        ..LaunchOptions::engine(Engine::Firefox)
    };
    let Err(err) = Browser::launch(options).await else {
        panic!("launch should fail");
    };
    assert!(matches!(err, BrowserError::NotFound(_)));
    assert!(err
        .to_string()
        .contains("apt-get update && apt-get install -y firefox-esr"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_records_fixture_pages_top_level_and_in_sandboxed_iframe() {
    if let Err(e) = find_firefox() {
        eprintln!("skipped: {e}");
        return;
    }
    let names = [
        "clean.html",
        "websocket.html",
        "fetch.html",
        "rtc-loopback.html",
    ];
    let mut store = Store::new();
    for (n, name) in names.iter().enumerate() {
        store.insert(
            id(0x30 + n as u8, 0),
            Inscription::new("text/html;charset=utf-8", fixture_page(name)),
        );
    }
    let server = ContentServer::start(store, ServerConfig::default())
        .await
        .unwrap();
    let browser = Browser::launch(LaunchOptions::engine(Engine::Firefox))
        .await
        .unwrap();
    assert_eq!(browser.engine(), Engine::Firefox);
    for (n, name) in names.into_iter().enumerate() {
        let id = id(0x30 + n as u8, 0);
        for (context, url) in [
            ("top", server.content_url(&id)),
            ("iframe", server.explorer_url(&id)),
        ] {
            let what = format!("{name} ({context})");
            let page = browser.open(&url).await.unwrap();
            if name == "rtc-loopback.html" {
                page.wait_for_data_channel_open(WAIT).await.unwrap();
            } else {
                page.wait_for("window.done === true", WAIT).await.unwrap();
            }
            let report = page.report().await.unwrap();
            if context == "iframe" {
                let preview = server.preview_url(&id);
                assert_eq!(report.frames.len(), 2, "{what}: {report:#?}");
                assert_eq!(report.frames[1], preview, "{what}");
                assert!(
                    report.requests.iter().any(|r| r.url == preview),
                    "{what}: iframe request not seen: {report:#?}"
                );
                let origins = page.eval_all_frames("String(origin)").await.unwrap();
                assert_eq!(origins[1].1, "null", "{what}: sandboxed frame is opaque");
            } else {
                assert_eq!(report.frames, vec![url.clone()], "{what}");
            }
            let sent = report.foreign_requests_sent(server.origin());
            assert!(sent.is_empty(), "{what}: {sent:#?}");
            // Refused by CSP: seen by the page's `securitypolicyviolation` and by
            // Firefox's console message over BiDi.
            let js_csp = |prefix: &str| {
                [Via::Js, Via::Bidi].into_iter().all(|via| {
                    report
                        .csp_violations
                        .iter()
                        .any(|v| v.via == via && v.blocked_uri.starts_with(prefix))
                })
            };
            match name {
                "clean.html" => {
                    assert!(report.csp_violations.is_empty(), "{what}: {report:#?}");
                    assert!(report.exceptions.is_empty(), "{what}: {report:#?}");
                    assert!(
                        report
                            .requests
                            .iter()
                            .any(|r| r.url.ends_with("/r/blockheight")),
                        "{what}: {report:#?}"
                    );
                }
                "websocket.html" => {
                    let ws = report
                        .websockets
                        .iter()
                        .find(|w| w.via == Via::Js)
                        .unwrap_or_else(|| panic!("{what}: {report:#?}"));
                    assert_eq!(ws.url, "ws://127.0.0.2:9/", "{what}");
                    assert!(js_csp("ws://127.0.0.2:9"), "{what}: {report:#?}");
                }
                "fetch.html" => {
                    assert!(js_csp("https://127.0.0.2:9/x"), "{what}: {report:#?}");
                }
                "rtc-loopback.html" => {
                    assert!(report.data_channel_opened(), "{what}: {report:#?}");
                    assert_eq!(report.peer_connections.len(), 2, "{what}: {report:#?}");
                    let echoed = page
                        .eval_all_frames("globalThis.echoed || null")
                        .await
                        .unwrap();
                    assert!(
                        echoed.iter().any(|(_, v)| v == "ping"),
                        "{what}: {echoed:?}"
                    );
                }
                _ => unreachable!(),
            }
            serde_json::to_string(&report).unwrap();
            page.close().await.unwrap();
        }
    }
    browser.close().await.unwrap();
}
