//! `MESH_*` on the real binary: careless values exit 2 naming the setting, the salt is never
//! printed, a federated relay prints `mesh:` and `peer_id:`, a relay without `MESH_*` has no
//! mesh at all.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use lumamesh_relay::mesh::swarm::identity;

use super::{run_exit, RelayProcess};

const SECRET_SALT: &str = "do-not-print-this-salt-7c1e";

fn relay_bin() -> &'static str {
    env!("CARGO_BIN_EXE_lumamesh-relay")
}

fn base_env(log: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("PUBLIC_IP", "127.0.0.1"),
        ("UDP_BIND", "127.0.0.1"),
        ("UDP_PORT", "0"),
        ("RUST_LOG", log),
    ]
}

/// Runs the relay with `env` plus `args` and expects exit 2 with an error starting `start`.
fn refused(args: &[&str], env: &[(&str, &str)], start: &str) -> String {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut all = base_env("off");
    all.extend_from_slice(env);
    let (code, stderr) = run_exit(relay_bin(), args, &all, tmp.path());
    assert_eq!(code, 2, "{args:?} {env:?}: {stderr}");
    assert!(stderr.starts_with(start), "{args:?} {env:?}: {stderr}");
    assert!(
        !stderr.contains(SECRET_SALT),
        "the salt was printed: {stderr}"
    );
    stderr
}

#[test]
fn careless_mesh_values_exit_2_naming_the_setting() {
    let salt = ("MESH_SALT", SECRET_SALT);
    for listen in ["nonsense", "127.0.0.1", "127.0.0.1:70000", ":4001", "[::1]"] {
        refused(
            &[],
            &[("MESH_LISTEN", listen), salt],
            "error: MESH_LISTEN: ",
        );
    }
    for peers in ["127.0.0.1:4001,relay b:1", "127.0.0.1:0", "host", "a:b"] {
        refused(&[], &[("MESH_PEERS", peers), salt], "error: MESH_PEERS: ");
    }
    // The flags are checked the same way, and name the same setting.
    refused(&["--mesh-listen", "x:y"], &[], "error: MESH_LISTEN: ");
    refused(&["--mesh-listen", ""], &[], "error: MESH_LISTEN: ");
    refused(&["--mesh-peers", "1.2.3.4"], &[], "error: MESH_PEERS: ");

    // A port already taken: environment, reported with its cause.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let stderr = refused(
        &[],
        &[("MESH_LISTEN", addr.as_str()), salt],
        "error: starting the relay mesh\nbecause: cannot listen on TCP ",
    );
    assert!(stderr.contains(&addr), "{stderr}");
    assert!(stderr.contains("MESH_LISTEN"), "{stderr}");
    assert_eq!(stderr.lines().count(), 3, "one error, two causes: {stderr}");
}

#[test]
fn help_explains_the_mesh_settings_and_hides_the_salt() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let output = Command::new(relay_bin())
        .current_dir(tmp.path())
        .env_clear()
        .env("MESH_SALT", SECRET_SALT)
        .arg("--help")
        .output()
        .expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--mesh-listen",
        "--mesh-peers",
        "--mesh-salt",
        "MESH_PEERS",
        "pnet",
    ] {
        assert!(
            help.contains(needle),
            "{needle} missing from --help:\n{help}"
        );
    }
    assert!(
        !help.contains(SECRET_SALT),
        "--help shows the salt:\n{help}"
    );
}

/// The banner lines of a relay started with `env` (it is killed once it has printed them);
/// its log, at the most verbose level, must not show the salt either.
fn banner(env: &[(&str, &str)]) -> Vec<String> {
    let tmp = tempfile::tempdir().expect("temp dir");
    let log_path = tmp.path().join("stderr.log");
    let mut command = Command::new(relay_bin());
    command.current_dir(tmp.path()).env_clear();
    for (name, value) in base_env("trace").into_iter().chain(env.iter().copied()) {
        command.env(name, value);
    }
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    command.stderr(std::fs::File::create(&log_path).expect("log file"));
    let mut child = command.spawn().expect("relay starts");
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut lines = Vec::new();
    for line in stdout.lines().map_while(Result::ok) {
        let last = line.starts_with("relay.txt: ");
        lines.push(line);
        if last {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(!log.contains(SECRET_SALT), "the salt was logged");
    lines
}

fn value<'a>(lines: &'a [String], key: &str) -> Option<&'a str> {
    lines.iter().find_map(|l| l.strip_prefix(key))
}

#[test]
fn a_federated_relay_prints_its_mesh_address_and_peer_id_but_never_the_salt() {
    let lines = banner(&[("MESH_LISTEN", "127.0.0.1:0"), ("MESH_SALT", SECRET_SALT)]);
    let text = lines.join("\n");
    assert!(!text.contains(SECRET_SALT), "{text}");
    let mesh: std::net::SocketAddr = value(&lines, "mesh: ")
        .expect("mesh: line")
        .parse()
        .expect("an address");
    assert_eq!(mesh.ip().to_string(), "127.0.0.1");
    assert_ne!(mesh.port(), 0, "the bound port, not the asked one");
    let nk = value(&lines, "nk: ")
        .expect("nk")
        .parse()
        .expect("a node key");
    let peer_id = value(&lines, "peer_id: ").expect("peer_id: line");
    assert_eq!(peer_id, identity::peer_id(&nk).to_string());

    // Dialling only (no MESH_LISTEN): a peer id, no mesh address.
    let lines = banner(&[("MESH_PEERS", "127.0.0.1:9")]);
    assert!(value(&lines, "mesh: ").is_none(), "{lines:?}");
    assert!(value(&lines, "peer_id: ").is_some(), "{lines:?}");

    // No MESH_*: neither.
    let lines = banner(&[]);
    assert!(value(&lines, "mesh: ").is_none(), "{lines:?}");
    assert!(value(&lines, "peer_id: ").is_none(), "{lines:?}");
}

#[test]
fn a_relay_without_mesh_settings_has_no_mesh() {
    let relay = RelayProcess::start();
    assert!(relay.mesh.is_none());
    let stats: serde_json::Value = serde_json::from_str(&relay.http_get("/statsz")).expect("JSON");
    assert!(stats.get("mesh").is_none(), "{stats}");
    let metrics = relay.http_get("/metrics");
    for line in [
        "lumamesh_mesh_peers 0\n",
        "lumamesh_mesh_known_relays 0\n",
        "lumamesh_mesh_gossip_bytes_total{direction=\"in\"} 0\n",
    ] {
        assert!(metrics.contains(line), "{line} missing:\n{metrics}");
    }
    let log = std::fs::read_to_string(&relay.stderr).unwrap_or_default();
    assert!(!log.contains("mesh started"), "{log}");
}
