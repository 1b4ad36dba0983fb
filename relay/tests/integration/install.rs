//! Issue 16: `scripts/install-relay` in its test mode (`--prefix`, `--no-service-manager`),
//! with the binaries this test run built. A relay started from the installed files answers
//! its health check and publishes exactly the installed relay.txt; a re-run and `--uninstall`
//! keep the identity; bad input stops with a message naming what to fix and leaves nothing.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::RelayProcess;

/// The four identity files, as the installer backs them up.
const IDENTITY: [&str; 4] = ["server.crt", "server.key", "server.key.icepwd", "node.key"];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-relay")
}

/// The folder holding this build's `lumamesh-relay` and `lumamesh` (`cargo test --workspace`
/// builds both; a narrower run needs `cargo build -p inscribe-cli` first).
fn binaries() -> PathBuf {
    let relay = Path::new(env!("CARGO_BIN_EXE_lumamesh-relay"));
    let dir = relay.parent().expect("binary in a folder").to_path_buf();
    assert!(
        dir.join("lumamesh").is_file(),
        "{} has no lumamesh binary: run `cargo build -p inscribe-cli` first",
        dir.display()
    );
    dir
}

/// A port nobody holds right now (bound to 0, then released).
fn free_udp_port() -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    socket.local_addr().expect("addr").port()
}

fn free_tcp_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tcp");
    listener.local_addr().expect("addr").port()
}

/// Runs the installer in test mode under `prefix` with a clean environment plus `env`.
fn install(prefix: &Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let binaries = binaries();
    Command::new("bash")
        .arg(script())
        .args(["--prefix", prefix.to_str().expect("utf-8 path")])
        .args(["--no-service-manager", "--skip-tests", "--binaries"])
        .arg(&binaries)
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("bash runs the installer")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `KEY='value'` lines of an environment file the installer wrote.
fn read_env(path: &Path) -> BTreeMap<String, String> {
    let file = std::fs::read_to_string(path).expect("environment file");
    file.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.split_once('=').expect("KEY=value");
            let value = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''));
            (key.to_owned(), value.expect("single-quoted").to_owned())
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Every path under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() && !path.is_symlink() {
                todo.push(path.clone());
            }
            out.push(path.strip_prefix(dir).expect("inside").to_path_buf());
        }
    }
    out.sort();
    out
}

fn identity_bytes(dir: &Path) -> Vec<Vec<u8>> {
    IDENTITY
        .iter()
        .map(|f| std::fs::read(dir.join(f)).expect("identity file"))
        .collect()
}

/// `systemd-analyze verify` of the unit: exit 0 and no complaint about the file (it exits 0
/// on unknown keys and bad values, so its warnings count as failures here).
fn verify_unit(unit: &Path) {
    if !Path::new("/usr/bin/systemd-analyze").exists() {
        eprintln!("systemd-analyze is missing: the unit is not verified (apt-get install systemd)");
        return;
    }
    let out = Command::new("/usr/bin/systemd-analyze")
        .arg("verify")
        .arg(unit)
        .output()
        .expect("systemd-analyze runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let name = unit.file_name().expect("name").to_string_lossy();
    assert!(!stderr.contains(name.as_ref()), "{stderr}");
}

#[test]
fn installer_installs_reruns_and_uninstalls() {
    let help = Command::new("bash")
        .arg(script())
        .arg("--help")
        .output()
        .expect("bash runs");
    assert!(help.status.success(), "{}", text(&help));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--skip-tests"));

    let tmp = tempfile::tempdir().expect("temp dir");
    let prefix = tmp.path().join("root");
    let (udp, health) = (free_udp_port().to_string(), free_tcp_port().to_string());
    let health_listen = format!("127.0.0.1:{health}");
    let env = [
        ("PUBLIC_IP", "127.0.0.1"),
        ("UDP_BIND", "127.0.0.1"),
        ("UDP_PORT", udp.as_str()),
        ("HEALTH_LISTEN", health_listen.as_str()),
        ("MAX_SESSIONS", "2000"),
    ];
    let out = install(&prefix, &env, &["--allow-private"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("/healthz: ok"), "{}", text(&out));

    let id_dir = prefix.join("var/lib/lumamesh-relay");
    let operator = prefix.join("operator");
    let backup = operator.join("keys-backup");
    assert_eq!(mode(&id_dir), 0o700);
    assert_eq!(mode(&backup), 0o700);
    let identity = identity_bytes(&id_dir);
    assert_eq!(
        identity_bytes(&backup),
        identity,
        "the backup is the identity"
    );
    for f in IDENTITY {
        assert_eq!(mode(&id_dir.join(f)), 0o600, "{f}");
        assert_eq!(mode(&backup.join(f)), 0o600, "backup {f}");
    }
    assert!(operator.join("install.log").is_file());
    let setup = read_env(&operator.join("setup.env"));
    assert_eq!(setup["PUBLIC_IP"], "127.0.0.1");
    assert_eq!(setup["UDP_PORT"], udp);
    assert_eq!(setup["MEMORY_MAX"], "189M", "64 MiB + 2000 x 64 KiB");

    let unit = prefix.join("etc/systemd/system/lumamesh-relay.service");
    let unit_text = std::fs::read_to_string(&unit).expect("unit");
    for line in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "Restart=always",
        "CapabilityBoundingSet=\n",
        "MemoryMax=189M",
        "LimitNOFILE=",
        "RestrictAddressFamilies=",
    ] {
        assert!(unit_text.contains(line), "{line:?} missing:\n{unit_text}");
    }
    let rw = format!("ReadWritePaths={}\n", id_dir.display());
    assert!(unit_text.contains(&rw), "{unit_text}");
    verify_unit(&unit);

    // The relay as the unit starts it: the installed binary, the installed environment.
    let mut relay_env = read_env(&prefix.join("etc/lumamesh-relay/relay.env"));
    relay_env.remove("HEALTH_LISTEN"); // RelayProcess listens on 127.0.0.1:0
    relay_env.remove("RUST_LOG");
    let pairs: Vec<(&str, &str)> = relay_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // The installed binary is this build's (linked or copied), so the usual starter runs it.
    let installed = prefix.join("usr/local/bin/lumamesh-relay");
    let same = Command::new("cmp")
        .arg("-s")
        .arg(&installed)
        .arg(env!("CARGO_BIN_EXE_lumamesh-relay"))
        .status()
        .expect("cmp runs");
    assert!(same.success(), "the installed binary is this build's");
    let run_dir = tmp.path().join("run");
    std::fs::create_dir(&run_dir).expect("run dir");
    let port: u16 = udp.parse().expect("port");
    let relay = RelayProcess::start_with_env(&run_dir, port, None, &pairs);
    let healthz = relay.http_get("/healthz");
    assert!(healthz.contains("\"ok\":true"), "{healthz}");
    let relay_txt = std::fs::read_to_string(operator.join("relay.txt")).expect("relay.txt");
    let line = relay_txt
        .lines()
        .find(|l| !l.starts_with('#'))
        .expect("a line");
    assert_eq!(line, relay.entry.to_line(), "the relay publishes relay.txt");
    drop(relay);
    let verify = Command::new(prefix.join("usr/local/bin/lumamesh"))
        .args(["relay", "verify"])
        .arg(operator.join("relay.txt"))
        .output()
        .expect("lumamesh runs");
    assert!(verify.status.success(), "{}", text(&verify));

    // Again: same identity, byte for byte, and the same backup.
    let out = install(&prefix, &[], &["--allow-private"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(identity_bytes(&id_dir), identity);
    assert_eq!(identity_bytes(&backup), identity);
    assert_eq!(
        read_env(&operator.join("setup.env"))["UDP_PORT"],
        udp,
        "a re-run keeps the settings"
    );

    let out = install(&prefix, &[], &["--uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!unit.exists(), "the unit is removed");
    assert!(!prefix.join("etc/lumamesh-relay/relay.env").exists());
    assert!(!prefix.join("usr/local/bin/lumamesh-relay").exists());
    assert_eq!(
        identity_bytes(&id_dir),
        identity,
        "uninstall keeps the identity"
    );
    assert_eq!(identity_bytes(&backup), identity, "and the backup");
}

/// Runs the installer into a prefix prepared by `prepare`, expects exit 2 with every one of
/// `names` in stderr, and nothing under the prefix but what `prepare` made.
fn refused(
    case: &str,
    env: &[(&str, &str)],
    extra: &[&str],
    names: &[&str],
    prepare: impl Fn(&Path),
) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let prefix = tmp.path().join("root");
    std::fs::create_dir(&prefix).expect("prefix");
    prepare(&prefix);
    let before = tree(&prefix);
    let contents: Vec<Option<Vec<u8>>> = before
        .iter()
        .map(|p| std::fs::read(prefix.join(p)).ok())
        .collect();
    let out = install(&prefix, env, extra);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{case}: {}", text(&out));
    for name in names {
        assert!(
            stderr.contains(name),
            "{case}: {name:?} not named\n{}",
            text(&out)
        );
    }
    assert!(
        stderr.contains("nothing was changed"),
        "{case}: {}",
        text(&out)
    );
    assert_eq!(
        tree(&prefix),
        before,
        "{case}: the prefix changed\n{}",
        text(&out)
    );
    let after: Vec<Option<Vec<u8>>> = before
        .iter()
        .map(|p| std::fs::read(prefix.join(p)).ok())
        .collect();
    assert_eq!(after, contents, "{case}: a file changed");
}

#[test]
fn installer_refuses_bad_input_and_changes_nothing() {
    let udp = free_udp_port().to_string();
    let health = format!("127.0.0.1:{}", free_tcp_port());
    let base = |ip: &'static str| {
        vec![
            ("PUBLIC_IP", ip),
            ("UDP_BIND", "127.0.0.1"),
            ("HEALTH_LISTEN", health.as_str()),
            ("UDP_PORT", udp.as_str()),
        ]
    };
    let nothing = |_: &Path| {};

    refused(
        "private PUBLIC_IP",
        &base("10.0.0.1"),
        &[],
        &["PUBLIC_IP=10.0.0.1", "private", "--allow-private"],
        nothing,
    );
    refused(
        "malformed PUBLIC_IP",
        &base("1.2.3"),
        &["--allow-private"],
        &["PUBLIC_IP=1.2.3", "not an IPv4 or IPv6 address"],
        nothing,
    );
    refused(
        "CGNAT PUBLIC_IP",
        &base("100.64.1.2"),
        &["--yes"],
        &["PUBLIC_IP=100.64.1.2", "CGNAT"],
        nothing,
    );

    // The UDP port, held by someone else for the whole run.
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let mut env = base("127.0.0.1");
    env.retain(|(k, _)| *k != "UDP_PORT");
    env.push(("UDP_PORT", port.as_str()));
    refused(
        "taken UDP port",
        &env,
        &["--allow-private"],
        &["UDP_PORT", &format!("port {port} is already in use")],
        nothing,
    );
    drop(taken);

    // A folder the unit must go in cannot be made: etc/ is a file.
    refused(
        "etc is a file",
        &base("127.0.0.1"),
        &["--allow-private"],
        &["etc is not a folder", "etc/systemd/system"],
        |p| std::fs::write(p.join("etc"), "not a folder").expect("write"),
    );
    // A read-only folder (only refused when this user cannot write there: root can).
    let probe = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(probe.path(), std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let root_writes = std::fs::write(probe.path().join("x"), "").is_ok();
    if root_writes {
        eprintln!("running as root: a 0555 folder is writable, that case is skipped");
    } else {
        refused(
            "read-only var",
            &base("127.0.0.1"),
            &["--allow-private"],
            &["var is not writable"],
            |p| {
                std::fs::create_dir(p.join("var")).expect("mkdir");
                std::fs::set_permissions(p.join("var"), std::fs::Permissions::from_mode(0o555))
                    .expect("chmod");
            },
        );
    }

    // A toolchain older than the workspace's rust-version, when it would build (an empty
    // --binaries, given after the test's own, means "build").
    let fake = tempfile::tempdir().expect("temp dir");
    for (tool, say) in [
        ("rustc", "rustc 1.80.0 (fake 2024-07-21)"),
        ("cargo", "cargo 1.80.0"),
    ] {
        let path = fake.path().join(tool);
        std::fs::write(&path, format!("#!/bin/sh\necho '{say}'\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!(
        "{}:{}",
        fake.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env = base("127.0.0.1");
    env.push(("PATH", path.as_str()));
    refused(
        "old rustc",
        &env,
        &["--allow-private", "--binaries", ""],
        &[
            "rustc 1.80.0 is older than the workspace's rust-version",
            "rustup update",
        ],
        nothing,
    );

    // Half an identity (a node key without its certificate) is never completed or replaced.
    refused(
        "half an identity",
        &base("127.0.0.1"),
        &["--allow-private"],
        &["part of a relay identity", "server.crt", "keys-backup"],
        |p| {
            let dir = p.join("var/lib/lumamesh-relay");
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join("node.key"), "a key from before").expect("write");
        },
    );
}
