//! `lumamesh check`: real Chromium, a throwaway relay on 127.0.0.1, pages from
//! fixtures/pages/negative/ and from `lumamesh page new`.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Keypair, Secp256k1};
use bitcoin::{
    absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid,
    Witness,
};
use inscribe::page::{starter_page, InscriptionId, Runtime};
use inscription::Inscription;
use lumamesh_relay::local::LocalRelay;
use serde_json::Value;

use crate::{code, json, lumamesh, stderr};

mod firefox;
mod leaks;
mod limits;

/// Any id will do: `check --lib LIB` serves the runtime under it.
const LIB: &str = "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799i0";

/// The library id the pages of fixtures/pages/negative/ import.
const NEGATIVE_LIB: &str = "7e577e577e577e577e577e577e577e577e577e577e577e577e577e577e577e57i0";

/// Generous per-context wait for a DataChannel that should open (machines are shared).
const OPEN_WAIT: &str = "90";

/// Per-context wait for a DataChannel that must not open; only the run time depends on it.
const NEVER_WAIT: &str = "15";

fn negative(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/pages/negative")
        .join(name)
}

/// `lumamesh check --json --browser <browser> <args…>` in `cwd`, output captured, not
/// started yet (several may run at once).
fn check_command(browser: &str, args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lumamesh"));
    command
        .args(["check", "--json", "--browser", browser])
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The JSON report of a check that failed its pages (exit 1); panics with the output
/// otherwise.
fn failed_report(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(code(out), 1, "stdout: {stdout}\nstderr: {}", stderr(out));
    serde_json::from_str(&stdout).expect("JSON output")
}

/// `lumamesh check … --json` in Chromium expecting exit 1; returns the JSON report.
fn check_fails(args: &[&str], cwd: &Path) -> Value {
    failed_report(
        &check_command("chromium", args, cwd)
            .output()
            .expect("run lumamesh"),
    )
}

/// `lumamesh check fixtures/pages/negative/<name> --lib NEGATIVE_LIB --timeout <wait>`
/// plus `extra`, expecting exit 1.
fn check_negative(name: &str, wait: &str, extra: &[&str]) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let page = negative(name);
    let mut args = vec![
        page.to_str().unwrap(),
        "--timeout",
        wait,
        "--lib",
        NEGATIVE_LIB,
    ];
    args.extend_from_slice(extra);
    check_fails(&args, tmp.path())
}

fn contexts(report: &Value) -> &Vec<Value> {
    let pages = report["pages"].as_array().expect("pages");
    assert_eq!(pages.len(), 1, "{report:#}");
    let contexts = pages[0]["contexts"].as_array().expect("contexts");
    let names: Vec<&str> = contexts
        .iter()
        .map(|c| c["context"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["top-level", "sandboxed-iframe"], "{report:#}");
    contexts
}

/// Asserts every context failed with a problem of `api` about `url`, while the channel itself
/// opened (the page works; it fails for the leak alone).
fn assert_refused(report: &Value, api: &str, url: &str) {
    assert_eq!(report["ok"], false);
    for context in contexts(report) {
        assert_eq!(context["ok"], false, "{context:#}");
        assert_eq!(context["data_channel_opened"], true, "{context:#}");
        let problems = context["problems"].as_array().unwrap();
        assert!(
            problems.iter().any(|p| p["api"] == api && p["url"] == url),
            "no {api} problem for {url} in {problems:#?}"
        );
    }
}

#[test]
fn starter_page_opens_a_data_channel_in_both_contexts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    json(&lumamesh(
        &["page", "new", "lobby", "--lib", LIB, "--json"],
        dir,
    ));
    let out = lumamesh(
        &[
            "check",
            "lobby.html",
            "--browser",
            "chromium",
            "--json",
            "--timeout",
            OPEN_WAIT,
            "--lib",
            LIB,
        ],
        dir,
    );
    let report = json(&out);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["local_relay"], true);
    assert_eq!(report["relays"].as_array().unwrap().len(), 1);
    assert_eq!(report["pages"][0]["runtime_ids"], serde_json::json!([LIB]));
    for context in contexts(&report) {
        assert_eq!(context["data_channel_opened"], true, "{context:#}");
        assert_eq!(context["problems"], serde_json::json!([]), "{context:#}");
    }
    assert!(
        stderr(&out).contains(&format!("/content/{LIB}")),
        "the substitution is noted: {}",
        stderr(&out)
    );
}

#[test]
fn negative_fetch_fails_for_the_csp_refusal() {
    let report = check_negative("fetch.html", OPEN_WAIT, &[]);
    assert_refused(&report, "fetch/XHR", "https://127.0.0.2:9/x");
}

#[test]
fn negative_websocket_fails_naming_the_api() {
    let report = check_negative("websocket.html", OPEN_WAIT, &[]);
    assert_refused(&report, "WebSocket", "ws://127.0.0.2:9/");
}

#[test]
fn negative_module_import_fails_as_a_script_refusal() {
    let report = check_negative("module-import.html", OPEN_WAIT, &[]);
    assert_refused(&report, "script", "http://127.0.0.2:9/x.js");
}

#[test]
fn negative_tampered_relay_entry_opens_no_channel() {
    let report = check_negative("tampered-relay.html", NEVER_WAIT, &[]);
    assert_eq!(report["ok"], false);
    for context in contexts(&report) {
        assert_eq!(context["data_channel_opened"], false, "{context:#}");
        let problems = context["problems"].as_array().unwrap();
        assert!(
            problems.iter().any(|p| p["api"] == "RTCDataChannel"),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| {
                (p["api"] == "console.error" || p["api"] == "exception")
                    && p["message"].as_str().unwrap().contains("signature")
            }),
            "no error about the signature in {problems:#?}"
        );
    }
}

/// A folder in the harness store format: the starter page passes beside a page that leaks;
/// human output names both, and the JUnit report has one testcase per page and context.
#[test]
fn folder_of_pages_with_junit_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pages = dir.join("pages");
    std::fs::create_dir(&pages).unwrap();
    json(&lumamesh(
        &["page", "new", "lobby", "--lib", LIB, "--json"],
        dir,
    ));
    let good = format!("{}i0", "aa".repeat(32));
    let bad = format!("{}i0", "bb".repeat(32));
    std::fs::rename(dir.join("lobby.html"), pages.join(format!("{good}.html"))).unwrap();
    std::fs::copy(
        negative("websocket.html"),
        pages.join(format!("{bad}.html")),
    )
    .unwrap();
    std::fs::write(pages.join("README.md"), "ignored: not an inscription\n").unwrap();

    let out = lumamesh(
        &[
            "check",
            "pages",
            "--browser",
            "chromium",
            "--timeout",
            OPEN_WAIT,
            "--junit",
            "report.xml",
            "--lib",
            LIB,
            "--lib",
            NEGATIVE_LIB,
        ],
        dir,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(code(&out), 1, "stdout: {stdout}\nstderr: {}", stderr(&out));
    assert!(stdout.contains(&format!("{good}.html")), "{stdout}");
    assert!(stdout.contains("PASS  top-level"), "{stdout}");
    assert!(stdout.contains("FAIL  sandboxed-iframe"), "{stdout}");
    assert!(
        stdout.contains("WebSocket: opens a WebSocket to ws://127.0.0.2:9/"),
        "{stdout}"
    );
    assert!(stdout.contains("FAILED: 1 of 2 page(s)"), "{stdout}");

    let xml = std::fs::read_to_string(dir.join("report.xml")).expect("JUnit report written");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 4, "{xml}");
    for case in &cases {
        let class = case.attribute("classname").unwrap();
        let failures: Vec<_> = case
            .children()
            .filter(|n| n.has_tag_name("failure"))
            .collect();
        if class.contains(&good) {
            assert!(failures.is_empty(), "{xml}");
        } else {
            assert!(class.contains(&bad), "{xml}");
            assert!(
                failures
                    .iter()
                    .any(|f| f.attribute("type") == Some("WebSocket")
                        && f.attribute("message")
                            .unwrap()
                            .contains("ws://127.0.0.2:9/")),
                "{xml}"
            );
        }
    }
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("4"));
    assert_eq!(suite.attribute("failures"), Some("2"));
}

#[test]
fn missing_chromium_exits_2_saying_how_to_install_it() {
    let tmp = tempfile::tempdir().unwrap();
    let page = negative("websocket.html");
    let out = Command::new(env!("CARGO_BIN_EXE_lumamesh"))
        .args([
            "check",
            page.to_str().unwrap(),
            "--json",
            "--browser",
            "chromium",
        ])
        .env("CHROMIUM", "/nonexistent")
        .current_dir(tmp.path())
        .stdin(Stdio::null())
        .output()
        .expect("run lumamesh");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("apt-get update && apt-get install -y chromium"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

/// `--browser all` needs both engines; without `--browser`, every installed one is used and
/// none installed is an error naming both packages.
#[test]
fn missing_firefox_with_all_exits_2_and_no_engine_at_all_too() {
    let tmp = tempfile::tempdir().unwrap();
    let page = negative("websocket.html");
    let run = |args: &[&str], chromium: &str| {
        Command::new(env!("CARGO_BIN_EXE_lumamesh"))
            .args(["check", page.to_str().unwrap(), "--json"])
            .args(args)
            .env("FIREFOX", "/nonexistent")
            .env("CHROMIUM", chromium)
            .current_dir(tmp.path())
            .stdin(Stdio::null())
            .output()
            .expect("run lumamesh")
    };
    let chromium = harness::browser::find_chromium().expect("chromium installed");
    let out = run(&["--browser", "all"], chromium.to_str().unwrap());
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("firefox not found")
            && stderr(&out).contains("apt-get install -y firefox-esr"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
    let out = run(&[], "/nonexistent");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    for package in ["install -y chromium", "install -y firefox-esr"] {
        assert!(stderr(&out).contains(package), "{}", stderr(&out));
    }
}

#[test]
fn bad_relay_list_names_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let tampered = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/relay/tampered.txt");
    let page = negative("websocket.html");
    let out: Output = lumamesh(
        &[
            "check",
            page.to_str().unwrap(),
            "--relays",
            tampered.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tampered.txt:3: "),
        "{}",
        stderr(&out)
    );
}

/// A reveal-shaped transaction (input 0 witness: signature, leaf script, control block) whose
/// leaf carries a brotli library at `<txid>i0` and the page `page(<txid>i0)` at `<txid>i1`.
fn reveal_file(dir: &Path, lib_js: &str, page: impl FnOnce(InscriptionId) -> String) -> PathBuf {
    let lib = inscription::compress_brotli_for("text/javascript", lib_js.as_bytes()).unwrap();
    write_reveal(dir, "reveal.hex", |txid| {
        let html = page(InscriptionId::new(txid, 0));
        vec![
            Inscription::new("text/javascript", lib.body)
                .with_content_encoding(lib.content_encoding.expect("the runtime compresses")),
            Inscription::new("text/html;charset=utf-8", html.into_bytes()),
        ]
    })
}

/// Writes `dir/name`: the hex of a reveal whose one input's leaf carries `inscriptions(txid)`
/// (the txid is fixed before the envelopes: witnesses are not part of it). The signature is
/// zeros: `check` and `inspect` read envelopes, not signatures.
pub fn write_reveal(
    dir: &Path,
    name: &str,
    inscriptions: impl FnOnce(Txid) -> Vec<Inscription>,
) -> PathBuf {
    let secp = Secp256k1::new();
    let key = Keypair::from_seckey_slice(&secp, &[3; 32])
        .unwrap()
        .x_only_public_key()
        .0;
    let mut tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(Txid::from_byte_array([5; 32]), 0),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(10_000),
            script_pubkey: ScriptBuf::new(),
        }],
    };
    let inscriptions = inscriptions(tx.compute_txid());
    let leaf = Inscription::reveal_script(&key, &inscriptions);
    let mut control_block = vec![0xc0];
    control_block.extend_from_slice(&key.serialize());
    tx.input[0].witness = Witness::from_slice(&[vec![0; 64], leaf.into_bytes(), control_block]);
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("{}\n", bitcoin::consensus::encode::serialize_hex(&tx)),
    )
    .unwrap();
    path
}

/// A relay on 127.0.0.1 running on its own runtime while `lumamesh` runs, and the runtime
/// bundled for it.
/// A relay with a throwaway identity on 127.0.0.1, and the runtime it runs on (drop both
/// to stop it).
pub fn local_relay() -> (tokio::runtime::Runtime, LocalRelay) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let relay = rt
        .block_on(LocalRelay::start(Ipv4Addr::LOCALHOST.into()))
        .unwrap();
    (rt, relay)
}

fn relay_and_runtime() -> (tokio::runtime::Runtime, LocalRelay, String) {
    let (rt, relay) = local_relay();
    let js = sandbox_runtime::bundle(std::slice::from_ref(relay.entry()))
        .unwrap()
        .js;
    (rt, relay, js)
}

/// The starter page and the runtime it imports, both from one reveal: the page is served at
/// `<txid>i1` and its library comes from the reveal, not from a runtime `check` builds.
#[test]
fn reveal_page_importing_its_library_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let (_rt, _relay, js) = relay_and_runtime();
    let mut lib = None;
    let reveal = reveal_file(tmp.path(), &js, |id| {
        lib = Some(id);
        starter_page("reveal", &Runtime::Inscription(id))
    });
    let lib = lib.unwrap();
    let page = InscriptionId::new(lib.txid, 1);
    let out = lumamesh(
        &[
            "check",
            "--reveal",
            reveal.to_str().unwrap(),
            "--json",
            "--timeout",
            OPEN_WAIT,
        ],
        tmp.path(),
    );
    let report = json(&out);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["pages"][0]["id"], page.to_string(), "{report:#}");
    assert_eq!(report["pages"][0]["runtime_ids"], serde_json::json!([]));
    // Nothing needed a runtime, so no throwaway relay either.
    assert_eq!(report["local_relay"], false);
    assert_eq!(report["relays"], serde_json::json!([]));
    for context in contexts(&report) {
        assert_eq!(context["data_channel_opened"], true, "{context:#}");
        let requests = context["observation"]["requests"].as_array().unwrap();
        assert!(
            requests.iter().any(|r| r["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/content/{lib}"))),
            "{context:#}"
        );
    }
    assert!(
        !stderr(&out).contains("serving the runtime"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reveal_page_fetching_another_origin_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let (_rt, _relay, js) = relay_and_runtime();
    let fetch = std::fs::read_to_string(negative("fetch.html")).unwrap();
    let placeholder = "7e577e577e577e577e577e577e577e577e577e577e577e577e577e577e577e57i0";
    assert!(fetch.contains(placeholder));
    let reveal = reveal_file(tmp.path(), &js, |lib| {
        fetch.replace(placeholder, &lib.to_string())
    });
    let report = check_fails(
        &["--reveal", reveal.to_str().unwrap(), "--timeout", OPEN_WAIT],
        tmp.path(),
    );
    assert_refused(&report, "fetch/XHR", "https://127.0.0.2:9/x");
    assert_eq!(report["pages"][0]["runtime_ids"], serde_json::json!([]));
}

#[test]
fn reveal_that_is_not_a_transaction_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("junk.hex"), "not a transaction\n").unwrap();
    let out = lumamesh(&["check", "--reveal", "junk.hex"], tmp.path());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("junk.hex: not a transaction"),
        "{}",
        stderr(&out)
    );
    let out = lumamesh(&["check", "--reveal", "absent.hex"], tmp.path());
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("absent.hex: no such file"),
        "{}",
        stderr(&out)
    );
    let out = lumamesh(&["check"], tmp.path());
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("PAGE|DIR"), "{}", stderr(&out));
}

/// No silent stand-ins: an imported id the check was not given is answered 404, as ord
/// would, and the failure names the id and how to provide it.
#[test]
fn page_importing_an_id_nobody_gave_fails_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    json(&lumamesh(
        &["page", "new", "lobby", "--lib", LIB, "--json"],
        dir,
    ));
    let report = check_fails(&["lobby.html", "--timeout", NEVER_WAIT], dir);
    assert_eq!(report["pages"][0]["runtime_ids"], serde_json::json!([]));
    assert_eq!(report["pages"][0]["missing_ids"], serde_json::json!([LIB]));
    for context in contexts(&report) {
        let problems = context["problems"].as_array().unwrap();
        let missing = problems
            .iter()
            .find(|p| p["api"] == "missing")
            .unwrap_or_else(|| panic!("{problems:#?}"));
        let message = missing["message"].as_str().unwrap();
        assert!(message.contains(LIB), "{message}");
        assert!(message.contains(&format!("--lib {LIB}")), "{message}");
        assert!(message.contains("404"), "{message}");
    }
}

/// `page new --publish` pages import LUMAMESH_LIBRARY_ID: the runtime is served there
/// without --lib.
#[test]
fn published_flavour_is_checked_with_the_runtime_at_the_placeholder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    json(&lumamesh(
        &["page", "new", "lobby", "--publish", "--json"],
        dir,
    ));
    let out = lumamesh(
        &[
            "check",
            "lobby.html",
            "--json",
            "--browser",
            "chromium",
            "--timeout",
            OPEN_WAIT,
        ],
        dir,
    );
    let report = json(&out);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(
        report["pages"][0]["runtime_ids"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
    for context in contexts(&report) {
        assert_eq!(context["data_channel_opened"], true, "{context:#}");
        assert!(
            !context["observation"]["gestures"]
                .as_array()
                .unwrap()
                .is_empty(),
            "the check typed and clicked: {context:#}"
        );
    }
}

/// Sandbox refusals count, in the context where they happen: a form's submission works at
/// top level and is blocked in the explorer's iframe once the check types and presses Enter.
#[test]
fn form_submission_blocked_in_the_explorer_iframe_fails_there() {
    let report = check_negative("form.html", OPEN_WAIT, &["--watch", "2"]);
    let contexts = contexts(&report);
    assert_eq!(contexts[0]["ok"], true, "{:#}", contexts[0]);
    let problems = contexts[1]["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["message"]
            .as_str()
            .unwrap()
            .contains("Blocked form submission")),
        "{problems:#?}"
    );
}

/// The `--inline` flavour carries the runtime and its relays itself: it passes with only
/// `--relays` (its relays are the allowed UDP destinations) and imports nothing.
#[test]
fn inline_flavour_passes_with_its_relays() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_rt, relay) = local_relay();
    std::fs::write(
        dir.join("relay.txt"),
        format!("{}\n", relay.entry().to_line()),
    )
    .unwrap();
    json(&lumamesh(
        &[
            "page",
            "new",
            "lobby",
            "--inline",
            "--relays",
            "relay.txt",
            "--json",
        ],
        dir,
    ));
    let out = lumamesh(
        &[
            "check",
            "lobby.html",
            "--json",
            "--timeout",
            OPEN_WAIT,
            "--relays",
            "relay.txt",
        ],
        dir,
    );
    let report = json(&out);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["pages"][0]["runtime_ids"], serde_json::json!([]));
    let entry = relay.entry();
    let relay_addr = format!("{}:{}", entry.address(), entry.port());
    assert!(
        report["allowed_relays"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == relay_addr.as_str()),
        "{report:#}"
    );
}
