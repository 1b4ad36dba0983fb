use std::time::Duration;

use harness::check::{check, CheckOptions, LoadContext};
use harness::server::Inscription;

use crate::{fixture_page, id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts() {
    let options = CheckOptions {
        timeout: Duration::from_secs(30),
        watch: Duration::from_secs(1),
        ..CheckOptions::default()
    };
    let verdict = check(&fixture_page("rtc-loopback.html"), vec![], &options)
        .await
        .unwrap();
    assert!(verdict.ok, "{verdict:#?}");
    assert_eq!(verdict.contexts.len(), 2);
    assert_eq!(verdict.contexts[0].context, LoadContext::TopLevel);
    assert_eq!(verdict.contexts[1].context, LoadContext::SandboxedIframe);
    assert!(verdict.contexts.iter().all(|c| c.data_channel_opened));

    // A page importing a library by recursion passes; the same page opening a
    // WebSocket fails with the URL and the line in plain words.
    let lib = id(0x42, 0);
    let page = format!(
        "<!doctype html><script type=module>\nimport {{ x }} from '/content/{lib}';\nwindow.x = x;\nnew WebSocket('ws://127.0.0.2:9/');\n</script>"
    );
    let quick = CheckOptions {
        timeout: Duration::from_secs(1),
        watch: Duration::from_secs(1),
        require_data_channel: false,
        ..CheckOptions::default()
    };
    let verdict = check(
        page.as_bytes(),
        vec![(
            lib,
            Inscription::brotli("text/javascript", b"export const x = 1;"),
        )],
        &quick,
    )
    .await
    .unwrap();
    assert!(!verdict.ok);
    for context in &verdict.contexts {
        let ws = context
            .problems
            .iter()
            .find(|p| p.url.as_deref() == Some("ws://127.0.0.2:9/"))
            .unwrap_or_else(|| panic!("{context:#?}"));
        assert!(ws.message.contains("ws://127.0.0.2:9/"), "{}", ws.message);
        assert!(
            context
                .observation
                .requests
                .iter()
                .any(|r| r.url.ends_with(&format!("/content/{lib}")) && r.status == Some(200)),
            "{context:#?}"
        );
        assert_eq!(context.problems.len(), 1, "{:#?}", context.problems);
    }
}
