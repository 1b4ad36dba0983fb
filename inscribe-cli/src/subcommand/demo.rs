//! `lumamesh demo`: the whole story on this machine, with embedded defaults.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use bootstrap_codec::RelayTxt;
use harness::browser::{Browser, LaunchOptions, Page};
use harness::server::{read_reveal, ContentServer, ServerConfig, Store};
use keystore::write_atomic;
use lumamesh_relay::core::Limits;
use lumamesh_relay::local::{LocalOptions, LocalRelay};
use lumamesh_relay::mesh::swarm::MeshSettings;
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

        steps.begin(
            "starting two federated lumamesh-relays on 127.0.0.1 (throwaway identities, one MESH_SALT)",
        );
        let (relay_a, relay_b) = federated_pair().await?;
        for (name, relay) in [("1", &relay_a), ("2", &relay_b)] {
            let entry = relay.entry();
            println!(
                "    relay {name}: udp {}  mesh tcp {}  fingerprint {}…  nk {}…",
                relay.local_addr(),
                relay
                    .mesh_addr()
                    .map_or_else(|| "-".to_owned(), |a| a.to_string()),
                &entry.fingerprint().to_string()[..23],
                &entry.node_key().to_string()[..16]
            );
        }
        steps.done("relay 2 dialled relay 1; each knows the other from its signed, gossiped entry");

        steps.begin("encoding both signed entries into relay.txt and verifying it");
        let relay_txt = work.path().join("relay.txt");
        let lines = format!(
            "{}\n{}\n",
            relay_a.entry().to_line(),
            relay_b.entry().to_line()
        );
        write_atomic(&relay_txt, lines.as_bytes())?;
        let parsed = RelayTxt::parse(&std::fs::read_to_string(&relay_txt)?);
        anyhow::ensure!(
            parsed.errors.is_empty() && parsed.entries.len() == 2,
            "relay.txt did not verify"
        );
        steps.done(format!(
            "{} (2 entries, {} characters, signatures ok)",
            relay_txt.display(),
            lines.len()
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
        // Each demo relay serves one browser (MAX_SESSIONS=1): A takes one, B is turned away
        // there (Closing RelayFull) and lands on the other.
        let a = browser_a.open(&url).await?;
        a.wait_for("document.body.dataset.relay === 'open'", WAIT)
            .await
            .context("browser A did not reach a relay")?;
        wait_sessions(&relay_a, &relay_b, 1).await?;
        // A made up the room's secret (the page had no fragment); B opens A's share link.
        let link = a
            .eval("document.getElementById('share').href")
            .await?
            .as_str()
            .context("browser A shows no share link")?
            .to_owned();
        let b = browser_b.open(&link).await?;
        b.wait_for("document.body.dataset.relay === 'open'", WAIT)
            .await
            .context("browser B did not reach a relay")?;
        wait_sessions(&relay_a, &relay_b, 2).await?;
        anyhow::ensure!(
            relay_a.stats().sessions_open == 1 && relay_b.stats().sessions_open == 1,
            "the browsers did not land on different relays"
        );
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
        steps.done("A and B each opened a DataChannel to a different relay; no request left the content server, no WebSocket");

        steps.begin("meeting in the room across the two relays: end-to-end encrypted signaling");
        for (name, page) in [("A", &a), ("B", &b)] {
            page.wait_for("document.body.dataset.peers === '1'", WAIT)
                .await
                .with_context(|| format!("browser {name} did not connect to its peer"))?;
        }
        steps.done("A and B are connected to each other directly (A made up the room's secret; B opened A's link)");

        steps.begin("exchanging messages browser to browser");
        let before = [relay_a.stats(), relay_b.stats()];
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
        let after = [relay_a.stats(), relay_b.stats()];
        let crossed: u64 = (0..2)
            .map(|i| after[i].signals_to_relays - before[i].signals_to_relays)
            .sum();
        let read: u64 = (0..2)
            .map(|i| after[i].messages_in - before[i].messages_in)
            .sum();
        let signals: u64 = (0..2).map(|i| after[i].signals_to_relays).sum();
        println!(
            "    the relays carried {signals} sealed signals between each other to connect A and B; \
             during the chat they crossed {crossed} more and read {read} frames: it went browser to browser"
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
        relay_b.stop().await?;
        relay_a.stop().await?;
        steps.done("browsers closed, relays stopped, temporary files removed");
        println!("\ndemo: ok in {} ms", steps.total());
        Ok(())
    }
}

/// Two relays on 127.0.0.1 with one salt, the second dialling the first, each serving one
/// session; returns once each knows the other.
async fn federated_pair() -> anyhow::Result<(LocalRelay, LocalRelay)> {
    let one_session = Limits {
        max_sessions: 1,
        ..Limits::default()
    };
    let options = |peers: Option<String>| -> anyhow::Result<LocalOptions> {
        let mesh =
            MeshSettings::parse(Some("127.0.0.1:0"), peers.as_deref(), Some("lumamesh demo"))?;
        Ok(LocalOptions {
            mesh: Some(mesh),
            limits: Some(one_session.clone()),
        })
    };
    let ip = Ipv4Addr::LOCALHOST.into();
    let a = LocalRelay::start_with(ip, options(None)?).await?;
    let first = a.mesh_addr().context("relay 1 listens for relays")?;
    let b = LocalRelay::start_with(ip, options(Some(first.to_string()))?).await?;
    let deadline = Instant::now() + WAIT;
    loop {
        let knows = |r: &LocalRelay| {
            r.mesh_report()
                .is_some_and(|m| m.node.mesh_peers == 1 && m.node.known_relays == 1)
        };
        if knows(&a) && knows(&b) {
            return Ok((a, b));
        }
        anyhow::ensure!(Instant::now() < deadline, "the two relays did not federate");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the two relays hold `n` sessions between them (a browser dials every relay and
/// closes the ones it does not keep).
async fn wait_sessions(a: &LocalRelay, b: &LocalRelay, n: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    while a.stats().sessions + b.stats().sessions != n
        || a.stats().sessions_open + b.stats().sessions_open != n
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the relays never held {n} sessions"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
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
        ord_url: None,
        allow_remote_ord: false,
        mnemonic_file: Some(mnemonic_file),
        wallet_dir: None,
        fee_rate: FeeRate::from_sat_per_vb(10.0)?,
        max_fee_rate: FeeRate::from_sat_per_vb(DEFAULT_MAX_FEE_RATE)?,
        max_fee: DEFAULT_MAX_FEE.to_sat(),
        postage: DEFAULT_POSTAGE.to_sat(),
        destination: None,
        out: Some(out.to_owned()),
        dry_run: false,
        allow_high_fees: false,
        json: false,
        broadcast: Default::default(),
    })
}
