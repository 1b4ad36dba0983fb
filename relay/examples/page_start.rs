//! Page start from the page's first script (a benchmark, not a test; issue 17 item 3): the
//! bare page (`fixtures/pages/bench/bare.html`, one DataChannel from a static answer built
//! ahead of time from the relay's entry) against the runtime page
//! (`fixtures/pages/bench/runtime.html`, the library imported by recursion and `connect()`),
//! served under ord's CSP by the harness content server, one relay on 127.0.0.1, a fresh tab
//! per load, the pages alternating, in headless Chromium and then in headless Firefox ESR.
//!
//! ```text
//! cargo run --release -p lumamesh-relay --example page_start -- [ROUNDS] [--before REV]
//!     [--engine chromium|firefox]
//! ```
//!
//! Every page starts with `fixtures/pages/bench/start.html` (the first script, so the pages
//! cannot drift apart), then its own part (`bare.html`, `runtime.html`). The runtime page
//! comes in four starts: "early start" (after the module script, a classic script makes the
//! relay link's `[pc, dc, setLocalDescription()]` for `connect({ pc })`, `early.html`), "no
//! early start" (`connect()` makes it), "modulepreload + early start" (as the starter page:
//! `<link rel=modulepreload>` of the library first), "import() + early start" (a classic
//! script's `import()` of the library first).
//!
//! With `--before REV` another page runs in the same rotation: the runtime as it was at git
//! revision REV (`git show REV:sandbox-runtime/src/<module>`, bundled like today's), without
//! the early start (as the starter page was), so a change is measured side by side with what
//! it replaces. `PROBE=1` adds an empty library's page (the floor of an imported module);
//! `DUMP=FILE` writes today's bundle there.
//!
//! Every figure is ms from the page's first script (an inline classic script at the top of
//! `<head>`; its own `performance.now()` is printed as "first script" from navigation
//! start). "library fetch"/"fetched" are the library's resource timing (start, response
//! end); "module" is when the page's module body starts (for the runtime: after the
//! library's fetch, parse and evaluation); "pc" is the first `new RTCPeerConnection`;
//! "answer" its first `setRemoteDescription` call; "open" the relay DataChannel's `open`;
//! "Welcome" its first message; "ready" is the relay's Welcome for the bare page and
//! `connect()` resolved for the runtime. The first two rounds are warm-up and are dropped.
//! A load that does not report within 30 s is counted ("no report") and its notes printed
//! (errors, `connect()` rejected, every peer connection's states).

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

use bootstrap_codec::{static_answer, AnswerOptions, RelayEntry};
use harness::browser::{Browser, Engine, LaunchOptions};
use harness::server::{ContentServer, Inscription, ServerConfig, Store};
use harness::InscriptionId;
use lumamesh_relay::local::LocalRelay;
use serde_json::Value;

const PAGE_BARE: &str = "4444444444444444444444444444444444444444444444444444444444444444i0";
const PAGE_BEFORE: &str = "6666666666666666666666666666666666666666666666666666666666666666i0";
const LIB_EMPTY: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaai0";
const PAGE_EMPTY: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbi0";
const LIB_NOW: &str = "7777777777777777777777777777777777777777777777777777777777777777i0";
const LIB_BEFORE: &str = "8888888888888888888888888888888888888888888888888888888888888888i0";
const WARM_UP: usize = 2;
const T: Duration = Duration::from_secs(30);

/// The runtime at git revision `rev`, bundled for `relays` as `sandbox_runtime::bundle`
/// bundles today's sources (same module order, same minifier).
fn bundle_at(rev: &str, relays: &[RelayEntry]) -> String {
    let list = relays
        .iter()
        .map(|e| format!("'{}'", e.to_line()))
        .collect::<Vec<_>>()
        .join(",");
    let mut out = String::new();
    for (name, _) in sandbox_runtime::MODULES {
        let spec = format!("{rev}:sandbox-runtime/src/{name}");
        let show = Command::new("git")
            .args(["show", &spec])
            .output()
            .expect("git runs");
        assert!(show.status.success(), "git show {spec} failed");
        let source = String::from_utf8(show.stdout).expect("utf-8 source");
        for line in source.lines() {
            if line.starts_with("import ") {
                continue;
            }
            if line == "export const RELAYS = [];" {
                out.push_str(&format!("export const RELAYS = [{list}];\n"));
                continue;
            }
            let line = if *name == "index.js" {
                line
            } else {
                line.strip_prefix("export ").unwrap_or(line)
            };
            out.push_str(line);
            out.push('\n');
        }
    }
    sandbox_runtime::minify(&out).expect("the old runtime minifies")
}

/// How a runtime page starts its relay link (see `runtime_page` in `main`).
#[derive(Clone, Copy)]
enum Start {
    Late,
    Early,
    Preload,
    Import,
}

/// One page's samples: a map of mark → ms per load.
struct Samples {
    name: &'static str,
    loads: Vec<serde_json::Map<String, Value>>,
    /// Loads that never reported within [`T`] (warm-up rounds included).
    failed: usize,
}

impl Samples {
    fn of(&self, key: &str) -> Vec<f64> {
        self.loads
            .iter()
            .filter_map(|m| m.get(key).and_then(Value::as_f64))
            .collect()
    }

    /// `key` − `base`, per load that has both.
    fn gap(&self, key: &str, base: &str) -> Vec<f64> {
        self.loads
            .iter()
            .filter_map(|m| Some(m.get(key)?.as_f64()? - m.get(base)?.as_f64()?))
            .collect()
    }
}

/// The `p`th percentile (nearest rank); NaN without samples.
fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[((p / 100.0) * (s.len() as f64 - 1.0)).round() as usize]
}

fn median(s: &[f64]) -> f64 {
    percentile(s, 50.0)
}

async fn run_engine(engine: Engine, pages: &[(&'static str, String)], rounds: usize) {
    let browser = match Browser::launch(LaunchOptions::engine(engine)).await {
        Ok(b) => b,
        Err(e) => return eprintln!("{engine}: not measured: {e}"),
    };
    let mut all: Vec<Samples> = pages
        .iter()
        .map(|(name, _)| Samples {
            name,
            loads: Vec::new(),
            failed: 0,
        })
        .collect();
    for round in 0..rounds {
        // Alternate the order, so neither page always follows the other.
        for k in 0..pages.len() {
            let i = (round + k) % pages.len();
            let page = browser.open(&pages[i].1).await.expect("page opens");
            let reported = page.wait_for("window.ps && ps.done", T).await;
            // A load that never reports is counted and its notes printed (errors, every peer
            // connection's states), not fatal: one stalled load says more with the rest.
            if let Err(e) = reported {
                let notes = page
                    .eval("JSON.stringify(window.ps ? [ps.m, ps.log] : 'no ps')")
                    .await;
                println!(
                    "{engine} {} round {round}: no report ({e}): {notes:?}",
                    pages[i].0
                );
                all[i].failed += 1;
                page.close().await.expect("tab closes");
                continue;
            }
            let v = page
                .eval("JSON.stringify(Object.assign({ t0: ps.t0 }, ps.m))")
                .await
                .expect("marks");
            page.close().await.expect("tab closes");
            if round >= WARM_UP {
                all[i]
                    .loads
                    .push(serde_json::from_str(v.as_str().expect("a string")).expect("json"));
            }
        }
    }
    browser.close().await.expect("browser closes");
    print_engine(engine, &all);
}

fn print_engine(engine: Engine, all: &[Samples]) {
    let n = all[0].loads.len();
    println!("\n### {engine}: {n} loads per page (after {WARM_UP} warm-up rounds)\n");
    println!("ms from the page's first script; medians (p95)\n");
    let cell = |s: &[f64]| {
        if s.is_empty() {
            return "–".to_owned();
        }
        format!("{:.1} ({:.1})", median(s), percentile(s, 95.0))
    };
    println!("| page | first script (from nav. start) | library fetch | library fetched | module | pc | answer | open | Welcome | ready | no report |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in all {
        let marks = [
            "t0", "fetch", "fetched", "module", "pc", "answer", "open", "welcome", "ready",
        ];
        let cells: Vec<String> = marks.iter().map(|k| cell(&s.of(k))).collect();
        println!("| {} | {} | {} |", s.name, cells.join(" | "), s.failed);
    }
    println!("\nPhases, per load: module − fetched (evaluation), answer − max(module, pc) (before `setRemoteDescription`), open − answer, Welcome − open, ready − Welcome\n");
    println!("| page | module − fetched | answer − max(module, pc) | open − answer | Welcome − open | ready − Welcome |");
    println!("|---|---:|---:|---:|---:|---:|");
    for s in all {
        let start: Vec<f64> = s
            .loads
            .iter()
            .filter_map(|m| {
                Some(
                    m.get("answer")?.as_f64()?
                        - m.get("module")?.as_f64()?.max(m.get("pc")?.as_f64()?),
                )
            })
            .collect();
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            s.name,
            cell(&s.gap("module", "fetched")),
            cell(&start),
            cell(&s.gap("open", "answer")),
            cell(&s.gap("welcome", "open")),
            cell(&s.gap("ready", "welcome")),
        );
    }
    let bare = &all[0];
    println!();
    for s in &all[1..] {
        let ratio = |key: &str, base: &str, p: f64| {
            percentile(&s.of(key), p) / percentile(&bare.of(base), p)
        };
        println!(
            "{engine} {}: ready / bare open = {:.2} (p95 {:.2}); ready / bare ready = {:.2} (p95 {:.2}); open / bare open = {:.2}",
            s.name,
            ratio("ready", "open", 50.0),
            ratio("ready", "open", 95.0),
            ratio("ready", "ready", 50.0),
            ratio("ready", "ready", 95.0),
            ratio("open", "open", 50.0),
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut rounds = 20;
    let mut before = None;
    let mut engines = Engine::ALL.to_vec();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--before" => before = Some(args.next().expect("--before REV")),
            "--engine" => engines = vec![args.next().expect("--engine NAME").parse().unwrap()],
            n => rounds = n.parse().expect("ROUNDS is a number"),
        }
    }
    let relay = LocalRelay::start(Ipv4Addr::LOCALHOST.into())
        .await
        .expect("relay");
    let entry = relay.entry().clone();
    let relays = std::slice::from_ref(&entry);
    // The runtime's answer carries no a=ice-lite by default (relay.js); so does the bare one.
    let answer = static_answer(
        &entry,
        &AnswerOptions {
            mid: "0".into(),
            ice_lite: false,
        },
    )
    .expect("answer");
    // Every page starts with the same first script (start.html), then its own part.
    let page = |name: &str, rest: &str| {
        fixtures::read("pages/bench/start.html").replace("{{NAME}}", name)
            + &fixtures::read(&format!("pages/bench/{rest}.html"))
    };
    let bare = page("bare", "bare").replace("{{ANSWER}}", &serde_json::to_string(&answer).unwrap());
    let runtime = page("runtime", "runtime");
    let html = |s: String| Inscription::new("text/html;charset=utf-8", s);
    let js = |s: &str| Inscription::brotli("text/javascript", s.as_bytes());
    let id = |s: &str| s.parse::<InscriptionId>().unwrap();
    let mut store = Store::new();
    store.insert(id(PAGE_BARE), html(bare));
    let now = sandbox_runtime::bundle(relays).expect("bundle");
    store.insert(id(LIB_NOW), js(&now.js));
    if let Some(path) = std::env::var_os("DUMP") {
        std::fs::write(path, &now.js).expect("DUMP written");
    }
    // How the page starts: `Late`, `connect()` makes the relay link's peer connection once
    // the library has loaded; the others start it while the library loads (early.html) and
    // hand it to `connect({ pc })`, after the module script (`Early`), or after a
    // `<link rel=modulepreload>` of the library (`Preload`), or after a classic script's
    // `import()` of it, so its fetch goes out before the peer connection (`Import`).
    let runtime_page = |lib: &str, start: Start| {
        let early = fixtures::read("pages/bench/early.html");
        let import = format!("import {{ connect }} from '/content/{lib}';");
        let (prelude, import, after, options) = match start {
            Start::Late => (String::new(), import, String::new(), ""),
            Start::Early => (String::new(), import, early, "{ pc: relayLink }"),
            Start::Preload => (
                format!("<link rel=\"modulepreload\" href=\"/content/{lib}\">\n"),
                import,
                early,
                "{ pc: relayLink }",
            ),
            Start::Import => (
                format!("<script>\nconst lib = import('/content/{lib}');\n</script>\n{early}"),
                "const { connect } = await lib;".to_owned(),
                String::new(),
                "{ pc: relayLink }",
            ),
        };
        html(
            runtime
                .replace("{{PRELUDE}}", &prelude)
                .replace("{{IMPORT}}", &import)
                .replace("{{EARLY}}", &after)
                .replace("{{OPTIONS}}", options),
        )
    };
    let mut names = vec![("bare", PAGE_BARE)];
    let variants = [
        ("runtime, early start", Start::Early),
        ("runtime, no early start", Start::Late),
        ("runtime, modulepreload + early start", Start::Preload),
        ("runtime, import() + early start", Start::Import),
    ];
    for (k, (name, start)) in variants.into_iter().enumerate() {
        let page = format!("{:064x}i0", 0x5550 + k);
        store.insert(id(&page), runtime_page(LIB_NOW, start));
        names.push((name, &*page.leak()));
    }
    // The floor of an imported module: a library that only resolves (no relay).
    if std::env::var_os("PROBE").is_some() {
        store.insert(id(LIB_EMPTY), js("export const connect = async () => {};"));
        store.insert(id(PAGE_EMPTY), runtime_page(LIB_EMPTY, Start::Late));
        names.push(("empty library", PAGE_EMPTY));
    }
    if let Some(rev) = &before {
        store.insert(id(LIB_BEFORE), js(&bundle_at(rev, relays)));
        store.insert(id(PAGE_BEFORE), runtime_page(LIB_BEFORE, Start::Late));
        names.push(("before, no early start", PAGE_BEFORE));
    }
    let server = ContentServer::start(store, ServerConfig::default())
        .await
        .expect("content server");
    let pages: Vec<(&'static str, String)> = names
        .into_iter()
        .map(|(name, page)| (name, server.content_url(&id(page))))
        .collect();
    println!(
        "page start: {rounds} rounds, relay {}, runtime bundle {} B brotli{}",
        entry.to_line(),
        now.brotli_len,
        before.map_or(String::new(), |r| format!(", before = {r}"))
    );
    for engine in engines {
        run_engine(engine, &pages, rounds).await;
    }
    relay.stop().await.expect("relay stops");
}
