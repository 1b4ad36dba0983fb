//! `lumamesh-load` over a list of relays: clients go round robin over every entry, and the
//! report keeps signals within a relay apart from signals across relays. On two relays that
//! are NOT federated no member of the other relay ever shows up: every signal is a same-relay
//! one, and the cross-relay figures must be zero without any error. On two federated relays
//! both kinds flow.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use lumamesh_relay::load::{self, LoadPlan, LoadReport, LoadTarget};
use lumamesh_relay::local::{LocalOptions, LocalRelay};
use lumamesh_relay::mesh::swarm::{HostPort, MeshSalt, MeshSettings, TestSettings};
use lumamesh_relay::protocol::RelayTag;

use super::WAIT;

const LOOPBACK: &str = "127.0.0.1";

/// A multi-threaded runtime: the relays' tasks keep running while a test waits on the load
/// generator's process.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn two_relays() -> [LocalRelay; 2] {
    let ip: IpAddr = LOOPBACK.parse().expect("loopback");
    let a = LocalRelay::start(ip).await.expect("relay a starts");
    let b = LocalRelay::start(ip).await.expect("relay b starts");
    [a, b]
}

fn tag(relay: &LocalRelay) -> String {
    RelayTag::of(relay.entry().node_key()).to_string()
}

/// What a run on two relays that do not know each other must report: every client in,
/// half on each relay, same-relay signals delivered, nothing across relays, no error.
fn check_unfederated(report: &LoadReport, relays: &[LocalRelay; 2], sessions: usize) {
    assert_eq!(report.sessions, sessions, "{report:#?}");
    assert_eq!(report.connected, sessions, "{report:#?}");
    assert_eq!(report.failed, 0, "{report:#?}");
    assert!(report.failures.is_empty(), "{report:#?}");
    assert_eq!(report.error_frames, 0, "{report:#?}");
    assert!(report.errors_by_code.is_empty(), "{report:#?}");

    let tags: Vec<String> = report.relays.iter().map(|r| r.tag.clone()).collect();
    assert_eq!(tags, [tag(&relays[0]), tag(&relays[1])], "{report:#?}");
    for (share, relay) in report.relays.iter().zip(relays) {
        assert_eq!(share.sessions, sessions / 2, "{report:#?}");
        assert_eq!(share.connected, sessions / 2, "{report:#?}");
        assert_eq!(share.failed, 0, "{report:#?}");
        assert_eq!(share.address, relay.local_addr().to_string());
    }

    let (same, cross) = (&report.same_relay, &report.cross_relay);
    assert!(same.signals_sent > 0, "{report:#?}");
    assert!(same.signals_delivered > 0, "{report:#?}");
    assert_eq!(same.forward_latency.count as u64, same.signals_delivered);
    assert_eq!(cross.signals_sent, 0, "{report:#?}");
    assert_eq!(cross.signals_delivered, 0, "{report:#?}");
    assert_eq!(cross.forward_latency.count, 0, "{report:#?}");
    // The totals are the two kinds together, as before the split.
    assert_eq!(report.signals_sent, same.signals_sent);
    assert_eq!(report.signals_received, same.signals_delivered);
    assert_eq!(report.signal_latency.count, same.forward_latency.count);
}

/// 8 clients over `relays` in 2 rooms, 5 signals a second each for `hold`.
fn plan(relays: &[LocalRelay], hold: Duration) -> LoadPlan {
    LoadPlan {
        relays: relays
            .iter()
            .map(|r| LoadTarget {
                entry: r.entry().clone(),
                addr: None,
            })
            .collect(),
        sessions: 8,
        connect_rate: 10.0,
        rooms: 2,
        signals_per_sec: 5.0,
        blob_size: 64,
        hold,
        connect_timeout: WAIT,
        local_ips: Vec::new(),
        session_hold: None,
    }
}

/// Waits until both relays have published stats counting `each` sessions created.
async fn wait_sessions_created(relays: &[LocalRelay; 2], each: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while relays.iter().any(|r| r.stats().sessions_created != each) {
        let counts: Vec<u64> = relays.iter().map(|r| r.stats().sessions_created).collect();
        assert!(
            tokio::time::Instant::now() < deadline,
            "relays never showed {each} sessions each: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn load_spreads_over_two_unfederated_relays() {
    runtime().block_on(async {
        let relays = two_relays().await;
        let report = load::run(plan(&relays, Duration::from_secs(3))).await;
        check_unfederated(&report, &relays, 8);
        // Each relay really served its half.
        wait_sessions_created(&relays, 4).await;
        for relay in relays {
            relay.stop().await.expect("relay stops");
        }
    });
}

/// A relay federated on loopback (quick timings), dialling `peers`.
async fn federated(peers: &[SocketAddr]) -> LocalRelay {
    let ip: IpAddr = LOOPBACK.parse().expect("loopback");
    let mesh = MeshSettings {
        listen: Some(SocketAddr::new(ip, 0).into()),
        peers: peers.iter().copied().map(HostPort::from).collect(),
        salt: MeshSalt::new("load-relays-test"),
        tests: TestSettings::loopback(),
    };
    let options = LocalOptions {
        mesh: Some(mesh),
        ..LocalOptions::default()
    };
    LocalRelay::start_with(ip, options)
        .await
        .expect("federated relay starts")
}

#[test]
fn load_across_two_federated_relays() {
    runtime().block_on(async {
        let a = federated(&[]).await;
        let b = federated(&[a.mesh_addr().expect("a listens")]).await;
        let relays = [a, b];
        // Both know each other before the first client comes.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let known: Vec<u64> = relays
                .iter()
                .map(|r| r.mesh_report().map_or(0, |m| m.node.known_relays))
                .collect();
            if known == [1, 1] {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the relays never learnt each other: {known:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let report = load::run(plan(&relays, Duration::from_secs(4))).await;
        assert_eq!(report.connected, 8, "{report:#?}");
        assert_eq!(report.failed, 0, "{report:#?}");
        for share in &report.relays {
            assert_eq!(share.connected, 4, "{report:#?}");
        }
        let (same, cross) = (&report.same_relay, &report.cross_relay);
        assert!(same.signals_delivered > 0, "{report:#?}");
        assert!(cross.signals_sent > 0, "{report:#?}");
        assert!(cross.signals_delivered > 0, "{report:#?}");
        assert_eq!(
            cross.forward_latency.count as u64, cross.signals_delivered,
            "{report:#?}"
        );
        assert_eq!(
            report.signals_sent,
            same.signals_sent + cross.signals_sent,
            "{report:#?}"
        );
        // Every member another relay announced was still there when signalled.
        assert_eq!(report.error_frames, 0, "{report:#?}");
        for relay in relays {
            relay.stop().await.expect("relay stops");
        }
    });
}

/// Runs `lumamesh-load` with `args` in `dir`, off the runtime's threads.
async fn load_binary(dir: &Path, args: Vec<String>) -> Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_lumamesh-load"))
            .current_dir(dir)
            .env_clear()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("load generator runs")
    })
    .await
    .expect("load generator task")
}

#[test]
fn load_binary_takes_every_entry_of_relay_txt() {
    runtime().block_on(async {
        let relays = two_relays().await;
        let tmp = tempfile::tempdir().expect("temp dir");
        // As an operator writes it: a comment, the two relays, and a line that is not an
        // entry (skipped, as every relay.txt reader does).
        let txt = format!(
            "# two relays\n{}\nnot-an-entry\n{}  # the second\n",
            relays[0].entry().to_line(),
            relays[1].entry().to_line()
        );
        let relay_txt = tmp.path().join("relay.txt");
        std::fs::write(&relay_txt, txt).expect("write relay.txt");
        let common = |json: bool| {
            let mut args: Vec<String> = [
                "--relay-txt",
                relay_txt.to_str().expect("utf-8 temp path"),
                "--sessions",
                "4",
                "--connect-rate",
                "10",
                "--rooms",
                "1",
                "--signals-per-sec",
                "5",
                "--hold-secs",
                "3",
                "--connect-timeout-secs",
                "60",
            ]
            .map(String::from)
            .to_vec();
            if json {
                args.push("--json".into());
            }
            args
        };

        let output = load_binary(tmp.path(), common(true)).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let report: LoadReport = serde_json::from_slice(&output.stdout).expect("JSON report");
        check_unfederated(&report, &relays, 4);
        let raw: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        for key in ["same_relay", "cross_relay"] {
            let pair = &raw[key];
            for field in ["signals_sent", "signals_delivered", "forward_latency"] {
                assert!(!pair[field].is_null(), "{key}.{field} missing: {raw}");
            }
        }

        // The summary names both relays and both kinds of pair.
        let output = load_binary(tmp.path(), common(false)).await;
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{text}");
        for relay in &relays {
            let line = format!(
                "relay {} at {}: sessions 2 connected 2 failed 0",
                tag(relay),
                relay.local_addr()
            );
            assert!(text.contains(&line), "no `{line}` in:\n{text}");
        }
        assert!(
            text.contains("cross-relay    sent 0 delivered 0,"),
            "{text}"
        );
        assert!(text.contains("same-relay     sent "), "{text}");
        assert!(text.contains("error frames 0"), "{text}");
        for relay in relays {
            relay.stop().await.expect("relay stops");
        }
    });
}

#[test]
fn load_binary_refuses_relay_addr_with_several_relays() {
    runtime().block_on(async {
        let relays = two_relays().await;
        let tmp = tempfile::tempdir().expect("temp dir");
        let entries = format!(
            "{},{}",
            relays[0].entry().to_line(),
            relays[1].entry().to_line()
        );
        let args = ["--entry", &entries, "--relay-addr", "127.0.0.1:9"].map(String::from);
        let output = load_binary(tmp.path(), args.to_vec()).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.starts_with("error: --relay-addr needs a single relay, not 2"),
            "{stderr}"
        );
    });
}

/// The real `lumamesh-relay` with the per-source limits lifted (two loopback addresses stand
/// for a hundred clients each), and its health address.
fn lifted_relay() -> super::RelayProcess {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    let lifted = [
        ("NEW_SESSIONS_PER_IP", "1000"),
        ("NEW_SESSION_BURST_PER_IP", "1000"),
        ("NEW_SESSIONS_PER_PREFIX", "1000"),
        ("NEW_SESSION_BURST_PER_PREFIX", "1000"),
        ("MAX_SESSIONS_PER_IP", "2000"),
        ("MAX_SESSIONS_PER_PREFIX", "2000"),
        ("MAX_HANDSHAKING_PER_IP", "256"),
        ("MAX_HANDSHAKING_PER_PREFIX", "256"),
        // Every frame at trace level would be most of the work: keep the log quiet.
        ("RUST_LOG", "warn"),
    ];
    super::RelayProcess::start_with_env(&dir, 0, Some(tmp), &lifted)
}

/// Issue 17 item 2: 200 clients in 10 rooms from two addresses against the real binaries.
/// Every signal sent to a member still in the room arrives, and every `Error` frame is named
/// and tied to its request. Before the ledger, the generator closed one second after the
/// last signal and counted what SCTP was still retransmitting as lost.
#[test]
fn no_signal_to_a_present_member_is_lost() {
    let relay = lifted_relay();
    let tmp = tempfile::tempdir().expect("temp dir");
    let args: Vec<String> = [
        "--entry",
        &relay.entry.to_line(),
        "--sessions",
        "200",
        "--connect-rate",
        "50",
        "--rooms",
        "10",
        "--signals-per-sec",
        "2",
        "--hold-secs",
        "3",
        "--connect-timeout-secs",
        "60",
        "--local-ips",
        "127.0.0.2,127.0.1.2",
        "--json",
    ]
    .map(String::from)
    .to_vec();
    let output = runtime().block_on(load_binary(tmp.path(), args));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: LoadReport = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(report.connected, 200, "{report:#?}");
    assert!(report.signals_sent > 0, "{report:#?}");
    assert_eq!(report.lost_to_present, 0, "{report:#?}");
    // Every signal is in exactly one column.
    let sorted = report.signals_delivered
        + report.lost_to_present
        + report.to_absent
        + report.from_absent
        + report.to_unidentified;
    assert_eq!(sorted, report.signals_sent, "{report:#?}");
    // Every target was named: by a delivery, or as the one client with its session id.
    assert_eq!(report.to_unidentified, 0, "{report:#?}");
    assert_eq!(report.signals_unexpected, 0, "{report:#?}");
    // Every error frame is counted under a code the protocol names, and its request.
    let explained: u64 = report.errors.iter().map(|e| e.count).sum();
    assert_eq!(explained, report.error_frames, "{report:#?}");
    for e in &report.errors {
        assert!(!e.code.starts_with("Unknown("), "{report:#?}");
        assert!(!e.request.starts_with("0x"), "{report:#?}");
    }
    // Nobody failed, so nobody was absent; nothing was refused.
    assert_eq!(report.failed, 0, "{report:#?}");
    assert_eq!(report.to_absent + report.from_absent, 0, "{report:#?}");
    assert_eq!(report.error_frames, 0, "{report:#?}");
    let stats = relay.http_get("/statsz");
    assert!(stats.contains("\"signals_limited\":0"), "{stats}");
}
