//! `lumamesh demo`: the whole story on this machine, with embedded defaults.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use bootstrap_codec::RelayTxt;
use harness::browser::{Browser, LaunchOptions, Page};
use harness::server::{read_reveal, ContentServer, ServerConfig, Store};
use keystore::write_atomic;
use lumamesh_relay::local::LocalRelay;
use onchain::policy::{DEFAULT_MAX_FEE, DEFAULT_MAX_FEE_RATE, DEFAULT_POSTAGE};
use onchain::reveal::FeeRate;
use onchain::wallet::Wallet;

use crate::onchain::OnchainArgs;
use crate::UsageError;

/// The BIP-39 test mnemonic: the demo's regtest wallet, which never holds real money.
const DEMO_MNEMONIC: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
                             abandon abandon abandon about";
const WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, clap::Args)]
pub struct Demo {
    /// After the two browsers have talked, keep the relay and the content server running
    /// (until Ctrl-C) so you can open the printed address in your own browser.
    #[arg(long)]
    hold: bool,
}

/// Prints a numbered step and how long it took.
struct Steps {
    started: Instant,
    step: Instant,
    n: usize,
}

impl Steps {
    fn new() -> Self {
        let now = Instant::now();
        Steps {
            started: now,
            step: now,
            n: 0,
        }
    }

    fn begin(&mut self, what: &str) {
        self.n += 1;
        self.step = Instant::now();
        println!("\n[{}] {what}", self.n);
    }

    fn done(&self, detail: impl std::fmt::Display) {
        println!("    {detail}  ({} ms)", self.step.elapsed().as_millis());
    }

    fn total(&self) -> u128 {
        self.started.elapsed().as_millis()
    }
}

/// How [`say`] sends: the starter page sends on both, without a form (ord's explorer iframe
/// blocks form submission).
#[derive(Clone, Copy)]
enum SendBy {
    Click,
    Enter,
}

/// Types `text` into the starter page and sends it, in whichever frame holds the page (the top
/// one at `/content/<id>`, the sandboxed iframe on an explorer page).
async fn say(page: &Page, text: &str, how: SendBy) -> anyhow::Result<()> {
    let send = match how {
        SendBy::Click => "document.getElementById('send').click();",
        SendBy::Enter => {
            "text.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));"
        }
    };
    let js = format!(
        "(() => {{ const text = document.getElementById('text'); if (!text) return false; \
         text.value = {text:?}; {send} return true; }})()"
    );
    let typed = page.eval_all_frames(&js).await?;
    anyhow::ensure!(
        typed.iter().any(|(_, v)| v.as_bool() == Some(true)),
        "no frame holds the starter page's #text input"
    );
    Ok(())
}

async fn log_lines(page: &Page) -> anyhow::Result<Vec<String>> {
    let v = page
        .eval(
            "JSON.stringify([...document.querySelectorAll('#log li')].map((li) => li.textContent))",
        )
        .await?;
    Ok(serde_json::from_str(v.as_str().unwrap_or("[]"))?)
}

impl Demo {
    pub fn run(self) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(async {
            tokio::select! {
                result = self.story() => result,
                _ = tokio::signal::ctrl_c() => {
                    println!("\ninterrupted: stopping the browsers, the content server and the relay");
                    Ok(())
                }
            }
        })
    }

    async fn story(&self) -> anyhow::Result<()> {
        let mut steps = Steps::new();
        let work = tempfile::tempdir().context("creating a temporary directory")?;

        steps.begin("starting lumamesh-relay on 127.0.0.1 with a throwaway identity");
        let relay = LocalRelay::start(Ipv4Addr::LOCALHOST.into()).await?;
        let entry = relay.entry().clone();
        steps.done(format!(
            "udp {}  fingerprint {}…  nk {}…",
            relay.local_addr(),
            &entry.fingerprint().to_string()[..23],
            &entry.node_key().to_string()[..16]
        ));

        steps.begin("encoding its signed entry into relay.txt and verifying it");
        let relay_txt = work.path().join("relay.txt");
        write_atomic(&relay_txt, format!("{}\n", entry.to_line()).as_bytes())?;
        let parsed = RelayTxt::parse(&std::fs::read_to_string(&relay_txt)?);
        anyhow::ensure!(
            parsed.errors.is_empty() && parsed.entries.len() == 1,
            "relay.txt did not verify"
        );
        steps.done(format!(
            "{} ({} characters, signature ok)",
            relay_txt.display(),
            entry.to_line().len()
        ));

        steps
            .begin("publishing library, relay list and page as a regtest batch (lumamesh publish)");
        let chain = work.path().join("chain");
        let onchain = demo_wallet(work.path(), &chain)?;
        let publish = super::publish::Publish::new(relay_txt.clone(), "lumamesh demo", onchain);
        tokio::task::block_in_place(|| publish.run())?;
        steps.done(format!(
            "every transaction passed libbitcoinconsensus; files in {}",
            chain.display()
        ));

        steps.begin("serving the reveal transactions' inscriptions the way ord does (CSP sandbox)");
        let server = ContentServer::start(Store::new(), ServerConfig::default()).await?;
        let mut served = Vec::new();
        for file in ["library-reveal.hex", "page-reveal.hex"] {
            let tx = read_reveal(chain.join(file))?;
            served.extend(server.insert_reveal(&tx)?);
        }
        let page_id = *served.last().expect("the page reveal holds the page");
        let url = server.content_url(&page_id);
        steps.done(format!(
            "{url}  (library at /content/{}, relay list at /content/{})",
            served[0], served[1]
        ));

        steps.begin("opening the page in two headless Chromium browsers");
        let launch = || async {
            Browser::launch(LaunchOptions::default())
                .await
                .map_err(|e| anyhow::Error::new(UsageError(format!("{e}"))))
        };
        let (browser_a, browser_b) = (launch().await?, launch().await?);
        let a = browser_a.open(&url).await?;
        let b = browser_b.open(&url).await?;
        for (name, page) in [("A", &a), ("B", &b)] {
            page.wait_for("document.body.dataset.relay === 'open'", WAIT)
                .await
                .with_context(|| format!("browser {name} did not reach the relay"))?;
        }
        for (name, page) in [("A", &a), ("B", &b)] {
            let report = page.report().await?;
            let foreign = report.foreign_requests(server.origin());
            anyhow::ensure!(
                foreign.is_empty()
                    && report.websockets.is_empty()
                    && report.event_sources.is_empty(),
                "browser {name} reached outside the sandbox: {} requests, {} WebSockets",
                foreign.len(),
                report.websockets.len()
            );
        }
        steps.done("both pages opened a DataChannel to the relay; no request left the content server, no WebSocket");

        steps.begin("meeting in the room: end-to-end encrypted signaling through the relay");
        for (name, page) in [("A", &a), ("B", &b)] {
            page.wait_for("document.body.dataset.peers === '1'", WAIT)
                .await
                .with_context(|| format!("browser {name} did not connect to its peer"))?;
        }
        steps.done("A and B are connected to each other directly");

        steps.begin("exchanging messages browser to browser");
        let before = relay.stats();
        say(&a, "hello from A", SendBy::Click).await?;
        say(&b, "hello from B", SendBy::Enter).await?;
        b.wait_for(
            "document.getElementById('log').textContent.includes('hello from A')",
            WAIT,
        )
        .await
        .context("B did not receive A's message")?;
        a.wait_for(
            "document.getElementById('log').textContent.includes('hello from B')",
            WAIT,
        )
        .await
        .context("A did not receive B's message")?;
        steps.done("delivered both ways");
        for (name, page) in [("A", &a), ("B", &b)] {
            for line in log_lines(page).await? {
                println!("      {name} | {line}");
            }
        }
        let after = relay.stats();
        println!(
            "    meanwhile the relay forwarded {} signals and read {} frames: the chat went browser to browser",
            after.signals_forwarded - before.signals_forwarded,
            after.messages_in - before.messages_in
        );

        if self.hold {
            println!(
                "\nholding: open {url} (or {}) in a browser on this machine; Ctrl-C stops",
                server.explorer_url(&page_id)
            );
            std::future::pending::<()>().await;
        }

        steps.begin("cleaning up");
        browser_a.close().await?;
        browser_b.close().await?;
        relay.stop().await?;
        steps.done("browsers closed, relay stopped, temporary files removed");
        println!("\ndemo: ok in {} ms", steps.total());
        Ok(())
    }
}

/// The demo's regtest wallet (the BIP-39 test mnemonic) and one made-up coin of 0.01 BTC
/// at its first address: a publish is built and verified exactly as on a real chain, but
/// nothing is broadcast.
fn demo_wallet(work: &Path, out: &Path) -> anyhow::Result<OnchainArgs> {
    let mnemonic: bip39::Mnemonic = DEMO_MNEMONIC.parse()?;
    let wallet = Wallet::from_mnemonic(&mnemonic, "", bitcoin::Network::Regtest)?;
    let mnemonic_file = work.join("demo-mnemonic.txt");
    keystore::write_secret_atomic(&mnemonic_file, DEMO_MNEMONIC.as_bytes())?;
    let utxos = work.join("demo-utxos.json");
    let coin = serde_json::json!([{
        "txid": "6c756d616d6573682064656d6f20636f696e000000000000000000000000000a",
        "vout": 0,
        "value": 1_000_000,
        "address": wallet.receive_address(0)?.to_string(),
    }]);
    write_atomic(&utxos, coin.to_string().as_bytes())?;
    Ok(OnchainArgs {
        network: "regtest".to_owned(),
        utxos: Some(utxos),
        rpc_url: None,
        rpc_cookie: None,
        mnemonic_file: Some(mnemonic_file),
        wallet_dir: None,
        fee_rate: FeeRate::from_sat_per_vb(10.0)?,
        max_fee_rate: FeeRate::from_sat_per_vb(DEFAULT_MAX_FEE_RATE)?,
        max_fee: DEFAULT_MAX_FEE.to_sat(),
        postage: DEFAULT_POSTAGE.to_sat(),
        destination: None,
        out: Some(out.to_owned()),
        dry_run: false,
        force: false,
        json: false,
    })
}
