//! End-to-end tests: the real `lumamesh-relay` binary on 127.0.0.1, port 0, driven by native
//! clients that connect exactly as a browser does.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bootstrap_codec::RelayEntry;
use lumamesh_relay::client::UdpClient;
use lumamesh_relay::load::LoadReport;
use lumamesh_relay::protocol::{
    ClientMessage, CloseCode, PeerId, RelayMessage, RoomId, PROTOCOL_V1,
};

/// Generous bound for anything to happen (machines are slow and shared).
const WAIT: Duration = Duration::from_secs(60);

#[path = "integration/attack.rs"]
mod attack;
#[path = "integration/common_mesh.rs"]
mod common_mesh;
#[path = "integration/e2e.rs"]
mod e2e;
#[path = "integration/e2e_firefox.rs"]
mod e2e_firefox;
#[path = "integration/e2e_host.rs"]
mod e2e_host;
#[path = "integration/e2e_store.rs"]
mod e2e_store;
#[path = "integration/e2e_verify.rs"]
mod e2e_verify;
#[path = "integration/federation.rs"]
mod federation;
#[path = "integration/federation_e2e.rs"]
mod federation_e2e;
#[path = "integration/install.rs"]
mod install;
#[path = "integration/load_relays.rs"]
mod load_relays;
#[path = "integration/mesh_local.rs"]
mod mesh_local;
#[path = "integration/mesh_rogue.rs"]
mod mesh_rogue;
#[path = "integration/mesh_settings.rs"]
mod mesh_settings;
#[path = "integration/mesh_swarm.rs"]
mod mesh_swarm;
#[path = "integration/shards.rs"]
mod shards;

/// A relay process in its own directory, killed on drop.
struct RelayProcess {
    child: Child,
    entry: RelayEntry,
    health: SocketAddr,
    /// Where it listens for other relays (`mesh: ` in its banner), if federated.
    mesh: Option<SocketAddr>,
    stderr: PathBuf,
    dir: PathBuf,
    tmp: Option<tempfile::TempDir>,
}

impl RelayProcess {
    fn start() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        Self::start_in(&dir, 0, Some(tmp))
    }

    /// Starts a relay whose identity files live in `dir` (created on first start), on `port`
    /// (0 picks one). Its stderr, which logs every frame the relay reads, is appended to
    /// `dir/stderr.log`.
    fn start_in(dir: &Path, port: u16, tmp: Option<tempfile::TempDir>) -> Self {
        Self::start_with_env(dir, port, tmp, &[])
    }

    /// Like [`Self::start_in`], with extra environment variables (`MESH_*`, limits, …).
    fn start_with_env(
        dir: &Path,
        port: u16,
        tmp: Option<tempfile::TempDir>,
        env: &[(&str, &str)],
    ) -> Self {
        let stderr = dir.join("stderr.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr)
            .expect("stderr file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_lumamesh-relay"))
            .current_dir(dir)
            .env_clear()
            .env("PUBLIC_IP", "127.0.0.1")
            .env("UDP_BIND", "127.0.0.1")
            .env("UDP_PORT", port.to_string())
            .env("HEALTH_LISTEN", "127.0.0.1:0")
            .env(
                "RUST_LOG",
                "info,lumamesh_relay=debug,lumamesh_relay::core::dispatch=trace,str0m=warn",
            )
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("relay starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut entry, mut health, mut mesh) = (None, None, None);
        while entry.is_none() {
            let line = rx.recv_timeout(WAIT).expect("relay prints its banner");
            if let Some(value) = line.strip_prefix("relay.txt: ") {
                entry = Some(RelayEntry::from_line(value).expect("a valid relay.txt line"));
            } else if let Some(value) = line.strip_prefix("health: ") {
                health = Some(value.parse().expect("health address"));
            } else if let Some(value) = line.strip_prefix("mesh: ") {
                mesh = Some(value.parse().expect("mesh address"));
            }
        }
        Self {
            child,
            entry: entry.expect("loop ends with an entry"),
            health: health.expect("health address before relay.txt"),
            mesh,
            stderr,
            dir: dir.to_owned(),
            tmp,
        }
    }

    /// Kills the relay with SIGKILL (no goodbye to anyone) and hands back its directory.
    fn sigkill(mut self) -> (PathBuf, Option<tempfile::TempDir>) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.dir.clone(), self.tmp.take())
    }

    /// Every frame the relay was given to read, from its trace log.
    fn frames_read(&self) -> Vec<Vec<u8>> {
        let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains("frame in"))
            .filter_map(|l| l.split("frame=").nth(1))
            .map(|h| hex::decode(h.split_whitespace().next().unwrap_or("")).expect("hex frame"))
            .collect()
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "relay did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn http_get(&self, path: &str) -> String {
        let limits = http1::Limits {
            timeout: WAIT,
            ..http1::Limits::default()
        };
        let response = http1::send(self.health, &http1::Request::new("GET", path), &limits)
            .expect("health answers");
        assert_eq!(response.status, 200, "{}", response.text());
        response.text()
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
            eprintln!("--- relay stderr ---\n{log}");
        }
    }
}

async fn recv(client: &mut UdpClient) -> Vec<u8> {
    client.recv(WAIT).await.expect("a frame from the relay")
}

/// Says `Hello` as a version 1 client (the frames these tests expect; version 2 clients are
/// tested in the federation tests) and returns the session's peer id.
async fn hello(client: &mut UdpClient, entry: &RelayEntry) -> PeerId {
    let hello = ClientMessage::Hello {
        version: PROTOCOL_V1,
    };
    client.send(&hello).await.expect("hello");
    let frame = recv(client).await;
    match RelayMessage::decode(&frame).expect("decodes") {
        RelayMessage::Welcome(w) => {
            assert_eq!(w.entry, entry.to_bytes().as_slice());
            w.peer
        }
        other => panic!("expected welcome, got {other:?}"),
    }
}

async fn expect(client: &mut UdpClient, expected: RelayMessage<'_>) {
    let frame = recv(client).await;
    assert_eq!(RelayMessage::decode(&frame).expect("decodes"), expected);
}

#[test]
fn relay_end_to_end() {
    let mut relay = RelayProcess::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let entry = relay.entry.clone();
        let mut a = UdpClient::connect(&entry, None, None, WAIT)
            .await
            .expect("a connects");
        let mut b = UdpClient::connect(&entry, None, None, WAIT)
            .await
            .expect("b connects");
        let pa = hello(&mut a, &entry).await;
        let pb = hello(&mut b, &entry).await;
        let room = RoomId::from_bytes([0x42; 32]);

        a.send(&ClientMessage::Join { room }).await.expect("join");
        let frame = recv(&mut a).await;
        assert!(matches!(
            RelayMessage::decode(&frame),
            Ok(RelayMessage::Room { peers, .. }) if peers.is_empty()
        ));
        b.send(&ClientMessage::Join { room }).await.expect("join");
        let frame = recv(&mut b).await;
        match RelayMessage::decode(&frame).expect("decodes") {
            RelayMessage::Room { peers, .. } => {
                assert_eq!(peers.iter().collect::<Vec<_>>(), vec![pa]);
            }
            other => panic!("expected room, got {other:?}"),
        }
        expect(&mut a, RelayMessage::Joined { room, peer: pb }).await;

        let offer = vec![0xab; 4000];
        b.send(&ClientMessage::Signal {
            room,
            to: pa,
            blob: &offer,
        })
        .await
        .expect("signal");
        expect(
            &mut a,
            RelayMessage::Signal {
                room,
                from: pb,
                blob: &offer,
            },
        )
        .await;
        a.send(&ClientMessage::Signal {
            room,
            to: pb,
            blob: b"answer",
        })
        .await
        .expect("signal");
        expect(
            &mut b,
            RelayMessage::Signal {
                room,
                from: pa,
                blob: b"answer",
            },
        )
        .await;

        // Garbage and oversized datagrams, from a stranger and from a client's own address.
        let stranger = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let relay_addr = SocketAddr::new("127.0.0.1".parse().expect("ip"), entry.port());
        for datagram in [
            vec![],
            vec![0u8; 20],
            vec![0x16; 300],
            vec![0xff; 1400],
            vec![0x01; 60_000],
        ] {
            stranger
                .send_to(&datagram, relay_addr)
                .expect("send garbage");
            b.send_datagram(&datagram).await.expect("send garbage");
        }
        b.send_raw(&[0xee; 40]).await.expect("bad frame");
        let frame = recv(&mut b).await;
        assert!(matches!(
            RelayMessage::decode(&frame),
            Ok(RelayMessage::Error { .. })
        ));

        // Still serving: both clients answer, and a new client gets in.
        a.send(&ClientMessage::Ping { nonce: 1 })
            .await
            .expect("ping");
        expect(&mut a, RelayMessage::Pong { nonce: 1 }).await;
        b.send(&ClientMessage::Ping { nonce: 2 })
            .await
            .expect("ping");
        expect(&mut b, RelayMessage::Pong { nonce: 2 }).await;
        let mut c = UdpClient::connect(&entry, None, None, WAIT)
            .await
            .expect("c connects");
        hello(&mut c, &entry).await;

        b.send(&ClientMessage::Leave { room }).await.expect("leave");
        expect(&mut b, RelayMessage::Left { room, peer: pb }).await;
        expect(&mut a, RelayMessage::Left { room, peer: pb }).await;

        let health = relay.http_get("/healthz");
        assert!(health.contains("\"ok\":true"), "{health}");
        assert!(health.contains(&entry.node_key().to_string()), "{health}");
        // Stats are published every 250 ms; wait for them to show the three sessions.
        let deadline = Instant::now() + WAIT;
        loop {
            let metrics = relay.http_get("/metrics");
            if metrics.contains("lumamesh_relay_sessions 3\n") {
                assert!(
                    metrics.contains("lumamesh_relay_signals_forwarded_total 2\n"),
                    "{metrics}"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "metrics never showed 3 sessions: {metrics}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let stats = relay.http_get("/statsz");
        assert!(stats.contains("\"unauthenticated\":"), "{stats}");

        relay.sigterm();
        for client in [&mut a, &mut b, &mut c] {
            expect(
                client,
                RelayMessage::Closing {
                    code: CloseCode::ShuttingDown,
                },
            )
            .await;
        }
    });
    let status = relay.wait_exit();
    assert!(status.success(), "relay exited with {status}");
}

#[test]
fn load_generator_smoke() {
    let mut relay = RelayProcess::start();
    let output = Command::new(env!("CARGO_BIN_EXE_lumamesh-load"))
        .args(["--entry", &relay.entry.to_line()])
        .args(["--sessions", "6", "--connect-rate", "20", "--rooms", "2"])
        .args([
            "--signals-per-sec",
            "5",
            "--hold-secs",
            "2",
            "--connect-timeout-secs",
            "60",
        ])
        .args(["--local-ips", "127.0.0.2,127.0.0.3", "--json"])
        .args(["--relay-pid", &relay.child.id().to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("load generator runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: LoadReport = serde_json::from_slice(&output.stdout).expect("JSON report");
    let raw: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let memory = &raw["relay_memory"];
    assert!(memory["rss_before_kib"].as_u64().unwrap() > 0, "{memory}");
    assert!(
        memory["rss_peak_kib"].as_u64() >= memory["rss_before_kib"].as_u64(),
        "{memory}"
    );
    assert!(memory["per_session_kib"].as_f64().is_some(), "{memory}");
    assert_eq!(report.connected, 6, "{report:?}");
    assert_eq!(report.failed, 0, "{report:?}");
    assert!(report.signals_received > 0, "{report:?}");
    // Two source addresses, three clients each, all admitted.
    let stats = relay.http_get("/statsz");
    assert!(stats.contains("\"sessions_created\":6"), "{stats}");
    assert_eq!(report.connect.count, 6);
    relay.sigterm();
    assert!(relay.wait_exit().success());
}

/// Runs a binary with a clean environment and `env`, and gives its exit code and stderr.
fn run_exit(bin: &str, args: &[&str], env: &[(&str, &str)], dir: &Path) -> (i32, String) {
    let output = Command::new(bin)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().expect("exited, not killed"), stderr)
}

/// 0 ok, 1 failed, 2 usage or environment, with one `error:` / `because:` report.
#[test]
fn exit_codes_follow_the_convention() {
    let relay = env!("CARGO_BIN_EXE_lumamesh-relay");
    let load = env!("CARGO_BIN_EXE_lumamesh-load");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let base = [
        ("UDP_BIND", "127.0.0.1"),
        ("UDP_PORT", "0"),
        ("RUST_LOG", "off"),
    ];

    assert_eq!(run_exit(relay, &["--help"], &[], dir).0, 0);
    assert_eq!(run_exit(load, &["--version"], &[], dir).0, 0);
    let (code, stderr) = run_exit(relay, &["--no-such-flag"], &[], dir);
    assert_eq!(code, 2, "{stderr}");

    let mut env = base.to_vec();
    env.push(("PUBLIC_IP", "0.0.0.0"));
    let (code, stderr) = run_exit(relay, &[], &env, dir);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: PUBLIC_IP must be a unicast address"),
        "{stderr}"
    );

    // A corrupt identity file: environment, and the report names the file.
    std::fs::write(dir.join("node.key"), "not a key").expect("write");
    let mut env = base.to_vec();
    env.push(("PUBLIC_IP", "127.0.0.1"));
    let (code, stderr) = run_exit(relay, &[], &env, dir);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: loading the relay identity"),
        "{stderr}"
    );
    assert!(
        stderr.contains("because: ") && stderr.contains("node.key"),
        "{stderr}"
    );
    let report: Vec<&str> = stderr.lines().collect();
    assert_eq!(report.len(), 2, "one error line and one cause: {stderr}");
    std::fs::remove_file(dir.join("node.key")).expect("remove");

    // The UDP port is taken.
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let env = [
        ("UDP_BIND", "127.0.0.1"),
        ("UDP_PORT", port.as_str()),
        ("PUBLIC_IP", "127.0.0.1"),
        ("RUST_LOG", "off"),
    ];
    let (code, stderr) = run_exit(relay, &[], &env, dir);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("binding UDP 127.0.0.1:"), "{stderr}");

    let (code, stderr) = run_exit(load, &[], &[], dir);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: give --entry"), "{stderr}");
    let (code, stderr) = run_exit(load, &["--entry", "garbage"], &[], dir);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: RELAY_ENTRY\nbecause: "),
        "{stderr}"
    );
}
