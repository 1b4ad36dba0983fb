//! The sandbox gate against every leak class of fixtures/check/leaks.json: each one, 1 s
//! and 3 s after the relay channel opens and on a click, must fail the check naming its
//! leak in both load contexts, on every run (`LUMAMESH_LEAK_RUNS`, default 2).

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use harness::check::{check_stored, CheckOptions, ContextVerdict, Relay};
use harness::server::{Inscription, Store};
use harness::InscriptionId;
use lumamesh_relay::local::LocalRelay;
use serde_json::Value;

/// One negative page.
pub(super) struct Fixture {
    /// `<leak>-<trigger>`.
    pub(super) name: String,
    pub(super) html: String,
    /// What a problem must name.
    pub(super) expect: String,
    /// Whether the sandboxed iframe must name it too (else it must only fail).
    pub(super) iframe_names_it: bool,
    pub(super) gesture: bool,
    /// For a check that captures every packet: whether the naming problem must be a
    /// packet seen on the wire (`Some(true)`), or nothing may be seen there
    /// (`Some(false)`); `None` says nothing about the wire.
    pub(super) wire: Option<bool>,
}

pub(super) fn id(n: usize) -> InscriptionId {
    format!("{n:064x}i0").parse().unwrap()
}

/// Every leak of fixtures/check/leaks.json with every trigger, importing `lib`.
pub(super) fn fixtures(lib: &InscriptionId, sw: &InscriptionId) -> Vec<Fixture> {
    let spec: Value = serde_json::from_str(&fixtures::read("check/leaks.json")).unwrap();
    let template = fixtures::read("check/page.html");
    let mut out = Vec::new();
    for leak in spec["leaks"].as_array().unwrap() {
        for (trigger, code) in spec["triggers"].as_object().unwrap() {
            let name = format!("{}-{trigger}", leak["name"].as_str().unwrap());
            let port = (20_000 + out.len()).to_string();
            let url = format!("https://127.0.0.2:9/leak/{name}");
            let fill = |s: &str| {
                s.replace("{{url}}", &url)
                    .replace("{{ws}}", &url.replacen("https://", "wss://", 1))
                    .replace("{{port}}", &port)
                    .replace("{{sw}}", &sw.to_string())
            };
            let html = template
                .replace("{{name}}", &name)
                .replace("{{lib}}", &lib.to_string())
                .replace("{{helpers}}", spec["helpers"].as_str().unwrap())
                .replace("{{trigger}}", code.as_str().unwrap())
                .replace("{{leak}}", &fill(leak["leak"].as_str().unwrap()));
            out.push(Fixture {
                expect: fill(leak["expect"].as_str().unwrap()),
                iframe_names_it: leak["iframe"] == "same",
                gesture: trigger == "gesture",
                wire: None,
                name,
                html,
            });
        }
    }
    out
}

/// The pages of fixtures/check/wire-leaks.json (each must be named in both contexts),
/// importing `lib`. Only for a check in its private network namespace: they aim off
/// loopback.
pub(super) fn wire_fixtures(lib: &InscriptionId) -> Vec<Fixture> {
    let spec: Value = serde_json::from_str(&fixtures::read("check/wire-leaks.json")).unwrap();
    let template = fixtures::read("check/page.html");
    let leaks = spec["leaks"].as_array().unwrap();
    leaks
        .iter()
        .map(|leak| {
            let field = |key: &str| leak[key].as_str().unwrap().to_owned();
            Fixture {
                html: template
                    .replace("{{name}}", &field("name"))
                    .replace("{{lib}}", &lib.to_string())
                    .replace("{{helpers}}", "")
                    .replace("{{trigger}}", &field("trigger"))
                    .replace("{{leak}}", &field("leak")),
                name: field("name"),
                expect: field("expect"),
                iframe_names_it: true,
                gesture: false,
                wire: leak["wire"].as_bool(),
            }
        })
        .collect()
}

fn names(context: &ContextVerdict, expect: &str) -> bool {
    context
        .problems
        .iter()
        .any(|p| p.url.as_deref().is_some_and(|u| u.contains(expect)) || p.message.contains(expect))
}

/// What is wrong with one verdict, if anything.
fn judge(fixture: &Fixture, contexts: &[ContextVerdict]) -> Option<String> {
    let (top, iframe) = (&contexts[0], &contexts[1]);
    let mut wrong = Vec::new();
    if !names(top, &fixture.expect) {
        wrong.push(format!("top-level does not name {}", fixture.expect));
    }
    if fixture.iframe_names_it && !names(iframe, &fixture.expect) {
        wrong.push(format!("sandboxed iframe does not name {}", fixture.expect));
    }
    if iframe.problems.is_empty() {
        wrong.push("sandboxed iframe passes".into());
    }
    if wrong.is_empty() {
        return None;
    }
    let problems = |c: &ContextVerdict| {
        c.problems
            .iter()
            .map(|p| format!("      {}: {}", p.api, p.message))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Some(format!(
        "{}: {}\n    top-level:\n{}\n    iframe:\n{}",
        fixture.name,
        wrong.join("; "),
        problems(top),
        problems(iframe)
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_leak_fails_in_both_contexts_on_every_run() {
    let runs: usize = std::env::var("LUMAMESH_LEAK_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let only = std::env::var("LUMAMESH_LEAK_ONLY").unwrap_or_default();
    let relay = LocalRelay::start(Ipv4Addr::LOCALHOST.into()).await.unwrap();
    let entry = relay.entry().clone();
    let bundle = sandbox_runtime::bundle(std::slice::from_ref(&entry)).unwrap();
    let (lib, sw) = (id(0x1_0000), id(0x1_0001));
    let mut store = Store::new();
    store.insert(
        lib,
        Inscription::brotli("text/javascript", bundle.js.as_bytes()),
    );
    store.insert(
        sw,
        Inscription::new(
            "text/javascript",
            fixtures::read("check/sw.js").into_bytes(),
        ),
    );
    let relays = vec![Relay {
        host: entry.address().to_string(),
        port: entry.port(),
    }];
    let all: Vec<Fixture> = fixtures(&lib, &sw)
        .into_iter()
        .filter(|f| f.name.contains(&only))
        .collect();
    let fixtures = Arc::new(all);
    // Four pages (eight browsers) at a time: a check mostly waits, but 2 cores are few.
    let slots = Arc::new(tokio::sync::Semaphore::new(4));
    let mut failures = Vec::new();
    for run in 0..runs {
        let mut set = tokio::task::JoinSet::new();
        for (i, fixture) in fixtures.iter().enumerate() {
            let page_id = id(i + 1);
            let mut served = store.clone();
            served.insert(
                page_id,
                Inscription::new("text/html;charset=utf-8", fixture.html.clone().into_bytes()),
            );
            let options = CheckOptions {
                timeout: Duration::from_secs(60),
                // Timed leaks need one watch; a click needs the gesture phase.
                exercise: fixture.gesture,
                relays: relays.clone(),
                ..CheckOptions::default()
            };
            let slots = slots.clone();
            set.spawn(async move {
                let _slot = slots.acquire_owned().await.unwrap();
                (i, check_stored(served, page_id, &options).await)
            });
        }
        while let Some(done) = set.join_next().await {
            let (i, verdict) = done.unwrap();
            let fixture = &fixtures[i];
            let verdict =
                verdict.unwrap_or_else(|e| panic!("{}: check failed to run: {e:?}", fixture.name));
            if let Ok(dir) = std::env::var("LUMAMESH_LEAK_DUMP") {
                let path = std::path::Path::new(&dir).join(format!("{}.json", fixture.name));
                std::fs::write(path, serde_json::to_vec_pretty(&verdict).unwrap()).unwrap();
            }
            if verdict.ok {
                failures.push(format!("run {}: {} passed", run + 1, fixture.name));
            } else if let Some(wrong) = judge(fixture, &verdict.contexts) {
                failures.push(format!("run {}: {wrong}", run + 1));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} checks did not name their leak:\n{}",
        failures.len(),
        fixtures.len() * runs,
        failures.join("\n")
    );
}
