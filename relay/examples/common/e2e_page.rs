//! What the browser benchmarks share: a relay on 127.0.0.1, the e2e page and the runtime
//! bundled for that relay served as ord serves them, and a headless Chromium.

use std::net::Ipv4Addr;

use bootstrap_codec::RelayEntry;
use harness::browser::{Browser, LaunchOptions};
use harness::server::ContentServer;
use harness::InscriptionId;
use lumamesh_relay::local::LocalRelay;

const LIB: &str = "2222222222222222222222222222222222222222222222222222222222222222i0";
const PAGE: &str = "3333333333333333333333333333333333333333333333333333333333333333i0";

/// The running pieces; dropping them stops everything.
pub struct Setup {
    pub relay: LocalRelay,
    pub server: ContentServer,
    pub browser: Browser,
    /// The page's `/content/` URL.
    pub url: String,
}

/// A content server holding the e2e page and the runtime bundled for `relays` only.
pub struct Served {
    pub server: ContentServer,
    /// The page's `/content/` URL.
    pub url: String,
}

/// Serves the e2e page with the runtime bundled for `relays`; `head` is inserted at the top
/// of the page's body, before its module script (empty for the page as it is).
pub async fn serve(relays: &[RelayEntry], head: &str) -> Served {
    let bundle = sandbox_runtime::bundle(relays).expect("bundle");
    let page = fixtures::read("pages/e2e.html")
        .replace("{{LIB}}", LIB)
        .replace("<body>\n", &format!("<body>\n{head}"));
    let server = ContentServer::start_page_with_library(
        LIB.parse().unwrap(),
        bundle.js.as_bytes(),
        PAGE.parse().unwrap(),
        page.into_bytes(),
    )
    .await
    .expect("server");
    let url = server.content_url(&PAGE.parse::<InscriptionId>().unwrap());
    Served { server, url }
}

/// Starts the relay, the content server and Chromium; `head` as in [`serve`].
pub async fn start(head: &str) -> Setup {
    let relay = LocalRelay::start(Ipv4Addr::LOCALHOST.into())
        .await
        .expect("relay");
    let Served { server, url } = serve(std::slice::from_ref(relay.entry()), head).await;
    let browser = Browser::launch(LaunchOptions::default())
        .await
        .expect("chromium");
    Setup {
        relay,
        server,
        browser,
        url,
    }
}
