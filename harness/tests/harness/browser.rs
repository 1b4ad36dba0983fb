use std::time::Duration;

use harness::browser::{Browser, BrowserError, LaunchOptions, PageReport, Via};
use harness::server::{ContentServer, Inscription, ServerConfig, Store};
use harness::InscriptionId;

use crate::{fixture_page, id};

const WAIT: Duration = Duration::from_secs(30);

fn fixtures() -> (Store, Vec<(&'static str, InscriptionId)>) {
    let names = [
        "clean.html",
        "websocket.html",
        "eventsource.html",
        "fetch.html",
        "module-import.html",
        "rtc-loopback.html",
    ];
    let mut store = Store::new();
    let mut ids = Vec::new();
    for (n, name) in names.into_iter().enumerate() {
        // Distinct made-up ids 0x10i0, 0x11i0, …
        let id = id(0x10 + n as u8, 0);
        store.insert(
            id,
            Inscription::new("text/html;charset=utf-8", fixture_page(name)),
        );
        ids.push((name, id));
    }
    (store, ids)
}

fn csp_blocked<'a>(report: &'a PageReport, prefix: &str, via: Via) -> Vec<&'a str> {
    report
        .csp_violations
        .iter()
        .filter(|v| v.via == via && v.blocked_uri.starts_with(prefix))
        .map(|v| v.directive.as_str())
        .collect()
}

#[tokio::test]
async fn missing_chromium_is_a_typed_error() {
    let options = LaunchOptions {
        executable: Some("/nonexistent/chromium".into()),
        ..LaunchOptions::default()
    };
    let Err(err) = Browser::launch(options).await else {
        panic!("launch should fail");
    };
    assert!(matches!(err, BrowserError::NotFound(_)));
    assert!(err
        .to_string()
        .contains("apt-get update && apt-get install -y chromium"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_fixture_pages_top_level_and_in_sandboxed_iframe() {
    let (store, ids) = fixtures();
    let server = ContentServer::start(store, ServerConfig::default())
        .await
        .unwrap();
    let browser = Browser::launch(LaunchOptions::default()).await.unwrap();

    for (name, id) in ids {
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
            let preview = server.preview_url(&id);
            if context == "iframe" {
                assert_eq!(report.frames.len(), 2, "{what}: {report:#?}");
                assert_eq!(report.frames[1], preview, "{what}");
                assert!(
                    report.requests.iter().any(|r| r.url == preview),
                    "{what}: iframe request not seen: {report:#?}"
                );
                // Chromium isolates the sandboxed iframe in its own process; the
                // records above came through the second DevTools connection.
                assert_eq!(page.isolated_frames(), 1, "{what}");
                // The sandboxed frame has an opaque origin.
                let origins = page.eval_all_frames("String(origin)").await.unwrap();
                assert_eq!(origins[1].1, "null", "{what}");
            } else {
                assert_eq!(report.frames, vec![url.clone()], "{what}");
                assert_eq!(page.isolated_frames(), 0, "{what}");
            }
            // Chromium announces CSP-blocked subresources too; none may leave.
            let sent = report.foreign_requests_sent(server.origin());
            assert!(sent.is_empty(), "{what}: {sent:#?}");
            match name {
                "clean.html" => {
                    assert!(report.csp_violations.is_empty(), "{what}: {report:#?}");
                    assert!(report.websockets.is_empty(), "{what}");
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
                    // websocket.html calls `new WebSocket` on line 8.
                    assert_eq!(ws.line, Some(8), "{what}: {ws:?}");
                    assert!(
                        report.csp_violations.iter().all(|v| v.line == Some(8)),
                        "{what}: violations credited to the page line: {report:#?}"
                    );
                    assert!(
                        !csp_blocked(&report, "ws://127.0.0.2:9", Via::Js).is_empty(),
                        "{what}: {report:#?}"
                    );
                    assert!(
                        !csp_blocked(&report, "ws://127.0.0.2:9", Via::Cdp).is_empty(),
                        "{what}: {report:#?}"
                    );
                }
                "eventsource.html" => {
                    let es = report
                        .event_sources
                        .iter()
                        .find(|a| a.url == "http://127.0.0.2:9/events")
                        .unwrap_or_else(|| panic!("{what}: {report:#?}"));
                    assert_eq!(es.line, Some(7), "{what}: {es:?}");
                    assert!(
                        !csp_blocked(&report, "http://127.0.0.2:9/events", Via::Js).is_empty(),
                        "{what}: {report:#?}"
                    );
                    assert!(
                        !csp_blocked(&report, "http://127.0.0.2:9/events", Via::Cdp).is_empty(),
                        "{what}: {report:#?}"
                    );
                }
                "fetch.html" => {
                    assert!(
                        !csp_blocked(&report, "https://127.0.0.2:9/x", Via::Js).is_empty(),
                        "{what}: {report:#?}"
                    );
                    assert!(
                        !csp_blocked(&report, "https://127.0.0.2:9/x", Via::Cdp).is_empty(),
                        "{what}: {report:#?}"
                    );
                }
                "module-import.html" => {
                    assert!(
                        !csp_blocked(&report, "http://127.0.0.2:9/x.js", Via::Js).is_empty(),
                        "{what}: {report:#?}"
                    );
                    assert!(
                        !csp_blocked(&report, "http://127.0.0.2:9/x.js", Via::Cdp).is_empty(),
                        "{what}: {report:#?}"
                    );
                    let blocked = report
                        .requests
                        .iter()
                        .find(|r| r.url == "http://127.0.0.2:9/x.js")
                        .unwrap_or_else(|| panic!("{what}: {report:#?}"));
                    assert_eq!(blocked.blocked_reason.as_deref(), Some("csp"), "{what}");
                }
                "rtc-loopback.html" => {
                    assert!(report.data_channel_opened(), "{what}: {report:#?}");
                    assert!(report.csp_violations.is_empty(), "{what}: {report:#?}");
                    assert_eq!(report.peer_connections.len(), 2, "{what}: {report:#?}");
                    assert!(
                        report.peer_connections[0]
                            .states
                            .iter()
                            .any(|s| s == "connected"),
                        "{what}: {report:#?}"
                    );
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
            // The report serializes (the CLI prints it as JSON).
            serde_json::to_string(&report).unwrap();
            page.close().await.unwrap();
        }
    }
    browser.close().await.unwrap();
}
