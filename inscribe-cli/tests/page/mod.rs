//! The starter page in real Chromium, chatting through a throwaway relay on 127.0.0.1: one
//! copy inside an explorer page's `<iframe sandbox=allow-scripts>` (no `allow-forms`, so a
//! form's submission would be blocked there), opened without a secret, which it makes up;
//! the other at `/content/<id>`, opened with the share link the first one shows.

use std::net::Ipv4Addr;
use std::time::Duration;

use harness::browser::{Browser, LaunchOptions, Page};
use harness::server::ContentServer;
use inscribe::page::{starter_page, InscriptionId, Runtime};
use lumamesh_relay::local::LocalRelay;

const LIB: &str = "2222222222222222222222222222222222222222222222222222222222222222i0";
const PAGE: &str = "3333333333333333333333333333333333333333333333333333333333333333i0";
/// Generous: machines running the tests are shared.
const WAIT: Duration = Duration::from_secs(90);

/// Sends with the page's button.
const CLICK: &str = "document.querySelector('#say button').click()";
/// Sends with Enter in the input.
const ENTER: &str =
    "text.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }))";
/// The Enter that ends an IME composition, which must not send.
const COMPOSING_ENTER: &str = "text.dispatchEvent(new KeyboardEvent('keydown', \
     { key: 'Enter', isComposing: true, bubbles: true, cancelable: true }))";

/// Runs `js` (with `text` bound to the page's input) in the one frame holding the starter
/// page; returns its value and whether that frame is the top one.
async fn in_page(page: &Page, js: &str) -> (serde_json::Value, bool) {
    let wrapped = format!(
        "(() => {{ const text = document.getElementById('text'); \
         if (!text) return {{ here: false }}; return {{ here: true, value: ({js}) }}; }})()"
    );
    let frames = page.eval_all_frames(&wrapped).await.expect("evaluate");
    let mut hits = frames
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| v["here"] == true);
    let (index, (_, value)) = hits.next().unwrap_or_else(|| panic!("no page: {frames:?}"));
    assert!(hits.next().is_none(), "two pages: {frames:?}");
    (value["value"].clone(), index == 0)
}

/// Types `text` into the page and sends it with `send`; returns what the input then holds
/// and whether the page logged `me: <text>`.
async fn say(page: &Page, text: &str, send: &str) -> serde_json::Value {
    let (after, _) = in_page(
        page,
        &format!(
            "(text.value = {text:?}, {send}, {{ input: text.value, logged: \
             [...document.querySelectorAll('#log li')].some((li) => li.textContent === 'me: ' + {text:?}) }})"
        ),
    )
    .await;
    after
}

async fn wait_for_line(page: &Page, from_peer: &str) {
    page.wait_for(
        &format!(
            "[...document.querySelectorAll('#log li')].some((li) => li.textContent.endsWith(': ' + {from_peer:?}) && !li.textContent.startsWith('me: '))"
        ),
        WAIT,
    )
    .await
    .unwrap_or_else(|e| panic!("{from_peer:?} never arrived: {e}"));
}

#[test]
fn starter_page_chats_from_inside_a_sandboxed_explorer_iframe() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let relay = LocalRelay::start(Ipv4Addr::LOCALHOST.into()).await.unwrap();
            let bundle = sandbox_runtime::bundle(std::slice::from_ref(relay.entry())).unwrap();
            let lib: InscriptionId = LIB.parse().unwrap();
            let page: InscriptionId = PAGE.parse().unwrap();
            let html = starter_page("lobby", &Runtime::Inscription(lib));
            let server =
                ContentServer::start_page_with_library(lib, bundle.js.as_bytes(), page, html)
                    .await
                    .unwrap();
            let browser = Browser::launch(LaunchOptions::default()).await.unwrap();
            let framed = browser.open(&server.explorer_url(&page)).await.unwrap();
            framed
                .wait_for("document.getElementById('share')?.href", WAIT)
                .await
                .expect("the share link");
            let (made, _) = in_page(
                &framed,
                "({ hash: location.hash, link: document.getElementById('share').href })",
            )
            .await;
            // Issue 14: no fragment, so the page made a secret of 128 random bits (22 base64url
            // characters), put it in its own address and in the link it shows.
            let hash = made["hash"].as_str().unwrap();
            let secret = hash.strip_prefix('#').expect("a fragment");
            assert_eq!(secret.len(), 22, "{made}");
            assert!(
                secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{made}"
            );
            let link = made["link"].as_str().unwrap();
            assert!(link.ends_with(hash), "{made}");
            let top = browser
                .open(&format!("{}{hash}", server.content_url(&page)))
                .await
                .unwrap();
            for p in [&top, &framed] {
                p.wait_for("document.body.dataset.peers === '1'", WAIT)
                    .await
                    .expect("the two pages meet");
            }
            assert_eq!(
                in_page(&top, "location.hash").await.0,
                hash,
                "a page opened with a secret keeps it"
            );
            // Both screens show the same verification code (issue 14).
            let mut codes = Vec::new();
            for p in [&top, &framed] {
                p.wait_for(
                    "/code \\d{6}/.test(document.querySelector('#log .code')?.textContent)",
                    WAIT,
                )
                .await
                .expect("a verification code");
                codes.push(
                    in_page(p, "document.querySelector('#log .code').textContent")
                        .await
                        .0,
                );
            }
            assert_eq!(codes[0], codes[1]);
            assert!(in_page(&top, "true").await.1, "top-level at /content/");
            assert!(
                !in_page(&framed, "true").await.1,
                "inside the explorer's iframe"
            );

            // Both ways of sending, from inside the sandbox and from the top-level page.
            for (from, to, text, send) in [
                (&framed, &top, "clicked in the iframe", CLICK),
                (&framed, &top, "entered in the iframe", ENTER),
                (&top, &framed, "clicked at the top", CLICK),
                (&top, &framed, "entered at the top", ENTER),
            ] {
                let after = say(from, text, send).await;
                assert_eq!(after["input"], "", "{text}: the input is cleared");
                assert_eq!(after["logged"], true, "{text}");
                wait_for_line(to, text).await;
            }

            // Enter while an IME composition is open belongs to the composition.
            let after = say(&framed, "half-composed", COMPOSING_ENTER).await;
            assert_eq!(after["input"], "half-composed", "kept mid-composition");
            assert_eq!(after["logged"], false, "not sent mid-composition");

            for p in [&top, &framed] {
                let report = p.report().await.unwrap();
                assert_eq!(report.exceptions, [], "uncaught exceptions");
                assert_eq!(report.console_errors, [], "console errors");
            }
            browser.close().await.unwrap();
            relay.stop().await.unwrap();
        });
}
