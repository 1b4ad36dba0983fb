//! `harness::check` in Firefox: a page whose channel opens passes in both load contexts,
//! and pages that leak fail naming the leak. Skipped, with a note, without Firefox.

use std::time::Duration;

use harness::browser::{find_firefox, Engine, LaunchOptions};
use harness::check::{check, CheckOptions, ContextVerdict};

use crate::fixture_page;

fn firefox(timeout: u64, require_data_channel: bool) -> Option<CheckOptions> {
    if let Err(e) = find_firefox() {
        eprintln!("skipped: {e}");
        return None;
    }
    Some(CheckOptions {
        timeout: Duration::from_secs(timeout),
        watch: Duration::from_secs(1),
        require_data_channel,
        launch: LaunchOptions::engine(Engine::Firefox),
        ..CheckOptions::default()
    })
}

fn names(context: &ContextVerdict, url: &str) -> bool {
    context
        .problems
        .iter()
        .any(|p| p.url.as_deref().is_some_and(|u| u.contains(url)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_check_passes_a_connecting_page_and_fails_leaks() {
    let Some(options) = firefox(30, true) else {
        return;
    };
    let verdict = check(&fixture_page("rtc-loopback.html"), vec![], &options)
        .await
        .unwrap();
    assert!(verdict.ok, "{verdict:#?}");
    assert!(verdict.contexts.iter().all(|c| c.data_channel_opened));

    let Some(quick) = firefox(1, false) else {
        return;
    };
    let leaks = [
        ("fetch", "fetch('https://127.0.0.2:9/leak/fetch').catch(() => {});", "https://127.0.0.2:9/leak/fetch"),
        ("websocket", "new WebSocket('wss://127.0.0.2:9/leak/ws');", "wss://127.0.0.2:9/leak/ws"),
        ("image", "new Image().src = 'https://127.0.0.2:9/leak/img';", "https://127.0.0.2:9/leak/img"),
        (
            "stun-server",
            "const pc = new RTCPeerConnection({ iceServers: [{ urls: 'stun:tracker.example:3478' }] }); pc.createDataChannel('x'); pc.setLocalDescription();",
            "stun:tracker.example:3478",
        ),
        ("late", "setTimeout(() => fetch('https://127.0.0.2:9/leak/late').catch(() => {}), 500);", "https://127.0.0.2:9/leak/late"),
    ];
    // One page with every leak: one check (two Firefox processes) instead of five.
    // Firefox throws at once from a WebSocket CSP refuses: each leak in its own `try`.
    let code: Vec<String> = leaks
        .iter()
        .map(|(_, code, _)| format!("try {{ {code} }} catch (e) {{}}"))
        .collect();
    let page = format!("<!doctype html><script>\n{}\n</script>", code.join("\n"));
    let verdict = check(page.as_bytes(), vec![], &quick).await.unwrap();
    assert!(!verdict.ok, "{verdict:#?}");
    for context in &verdict.contexts {
        for (name, _, url) in leaks {
            assert!(names(context, url), "{name}: {context:#?}");
        }
    }
}
