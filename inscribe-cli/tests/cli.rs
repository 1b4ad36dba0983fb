//! Runs the built `lumamesh` binary the way operators and CI do.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod broadcast;
mod check;
mod children;
mod inscribe;
mod page;
mod relay_host;
mod wallet;

fn lumamesh(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lumamesh"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run lumamesh")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("JSON output")
}

/// `relay encode` of the identity in `id` for 127.0.0.1:4000 into relay.txt, as JSON.
fn encode_local_4000(dir: &Path) -> Value {
    json(&lumamesh(
        &[
            "relay",
            "encode",
            "--dir",
            "id",
            "--ip",
            "127.0.0.1",
            "--port",
            "4000",
            "--out",
            "relay.txt",
            "--json",
        ],
        dir,
    ))
}

#[test]
fn operator_story_init_encode_verify_sdp() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let init = json(&lumamesh(&["relay", "init", "--dir", "id", "--json"], dir));
    let fingerprint = init["fingerprint"].as_str().unwrap().to_owned();
    let nk = init["nk"].as_str().unwrap().to_owned();

    // Refuses to overwrite; --force replaces.
    let again = lumamesh(&["relay", "init", "--dir", "id"], dir);
    assert_eq!(code(&again), 2);
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    let enc = encode_local_4000(dir);
    assert_eq!(enc["appended"], true);
    assert_eq!(enc["entry"]["fingerprint"], fingerprint.as_str());
    assert_eq!(enc["entry"]["nk"], nk.as_str());
    assert_eq!(enc["entry"]["port"], 4000);
    // Never duplicated.
    let enc2 = encode_local_4000(dir);
    assert_eq!(enc2["appended"], false);
    ok(&lumamesh(
        &[
            "relay",
            "encode",
            "--dir",
            "id",
            "--host",
            "Relay.Example.org",
            "--out",
            "relay.txt",
        ],
        dir,
    ));
    let text = std::fs::read_to_string(dir.join("relay.txt")).unwrap();
    assert_eq!(text.lines().count(), 2);

    let verify = json(&lumamesh(&["relay", "verify", "relay.txt", "--json"], dir));
    assert_eq!(verify["ok"], true);
    assert_eq!(verify["valid"], 2);

    let decoded = json(&lumamesh(&["relay", "decode", "relay.txt", "--json"], dir));
    let entries = decoded["entries"].as_array().unwrap();
    assert_eq!(entries[0]["address"], "127.0.0.1");
    assert_eq!(entries[1]["address"], "relay.example.org");
    assert_eq!(entries[1]["line"], 2);

    let sdp = ok(&lumamesh(
        &["relay", "sdp", "relay.txt", "--index", "0"],
        dir,
    ));
    let parsed = webrtc_sdp::parse_sdp(&sdp, true).expect("webrtc-sdp parses the answer");
    assert_eq!(parsed.media[0].get_port(), 4000);
    assert!(sdp.contains(&format!("a=fingerprint:sha-256 {fingerprint}\r\n")));
    assert!(sdp.contains("a=candidate:1 1 udp 2130706431 127.0.0.1 4000 typ host\r\n"));

    let out_of_range = lumamesh(&["relay", "sdp", "relay.txt", "--index", "5"], dir);
    assert_eq!(code(&out_of_range), 2);
    assert!(stderr(&out_of_range).contains("2 valid entries"));
}

#[test]
fn identity_files_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&lumamesh(&["relay", "init", "--dir", "id"], tmp.path()));
    #[cfg(unix)]
    for name in ["server.crt", "server.key", "server.key.icepwd", "node.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.path().join("id").join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

#[test]
fn tampered_relay_txt_is_refused_naming_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = fixtures::path("relay/tampered.txt");
    let out = lumamesh(&["relay", "verify", path.to_str().unwrap()], tmp.path());
    assert_eq!(code(&out), 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("tampered.txt:3: field `signature`: bad signature"),
        "{stdout}"
    );
    assert!(!stdout.contains("tampered.txt:2:"), "{stdout}");

    let out = lumamesh(
        &["relay", "verify", "--json", path.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(code(&out), 1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"][0]["line"], 3);

    // decode shows the good entry and names the bad line.
    let out = lumamesh(&["relay", "decode", path.to_str().unwrap()], tmp.path());
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("127.0.0.2"));
    assert!(stderr(&out).contains("tampered.txt:3:"));
}

#[test]
fn fixture_relay_txt_verifies_from_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lumamesh"))
        .args(["relay", "verify", "-"])
        .current_dir(tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(fixtures::read("relay/relay.txt").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(ok(&out).contains("<stdin>: ok, 4 signed entries"));
}

#[test]
fn endless_inputs_are_refused_not_read_into_memory() {
    let tmp = tempfile::tempdir().unwrap();
    // A device that never ends, named as a file.
    let out = lumamesh(&["relay", "verify", "/dev/zero"], tmp.path());
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/dev/zero: larger than 16 MiB"),
        "{}",
        stderr(&out)
    );
    // Standard input that goes on past the cap (valid comment lines, so only size fails).
    let mut child = Command::new(env!("CARGO_BIN_EXE_lumamesh"))
        .args(["relay", "verify", "-"])
        .current_dir(tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let line = b"# a comment line that is long enough to add up quickly\n".repeat(64);
        // Stops when lumamesh closes the pipe (it must, long before 64 MiB).
        for _ in 0..(64 << 20) / line.len() {
            if stdin.write_all(&line).is_err() {
                return false;
            }
        }
        true
    });
    let out = child.wait_with_output().unwrap();
    assert!(
        !writer.join().unwrap(),
        "lumamesh read 64 MiB of standard input"
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("<stdin>: larger than 16 MiB"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_invalid_vector_fails_verify_with_its_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let vectors: Value = serde_json::from_str(&fixtures::read("relay/vectors.json")).unwrap();
    for v in vectors["invalid"].as_array().unwrap() {
        let file = tmp.path().join("bad.txt");
        std::fs::write(
            &file,
            format!("# {}\n{}\n", v["name"], v["line"].as_str().unwrap()),
        )
        .unwrap();
        let out = lumamesh(&["relay", "verify", "bad.txt"], tmp.path());
        assert_eq!(code(&out), 1, "{}", v["name"]);
        let expected = format!("bad.txt:2: {}", v["error"].as_str().unwrap());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&expected),
            "{}: {}",
            v["name"],
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn bad_usage_exits_2_and_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["relay", "encode", "--dir", "id"], "--ip"),
        (
            &[
                "relay", "encode", "--dir", "id", "--ip", "1.2.3.4", "--host", "a.org",
            ],
            "cannot be used",
        ),
        (
            &["relay", "encode", "--dir", "id", "--ip", "0.0.0.0"],
            "unspecified",
        ),
        (
            &["relay", "encode", "--dir", "id", "--ip", "224.1.1.1"],
            "multicast",
        ),
        (
            &[
                "relay", "encode", "--dir", "id", "--ip", "1.2.3.4", "--port", "0",
            ],
            "--port",
        ),
        (
            &["relay", "encode", "--dir", "id", "--host", "1.2.3.4"],
            "use --ip",
        ),
        (
            &[
                "relay", "encode", "--dir", "id", "--ip", "1.2.3.4", "--ufrag", "a-b",
            ],
            "ICE character",
        ),
        (
            &["relay", "encode", "--dir", "id", "--ip", "1.2.3.4"],
            "lumamesh relay init --dir id",
        ),
        (&["relay", "verify", "nope.txt"], "nope.txt: no such file"),
        (&["relay", "frobnicate"], "unrecognized subcommand"),
    ];
    for (args, needle) in cases {
        let out = lumamesh(args, tmp.path());
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    // An empty list is not a valid relay list.
    std::fs::write(tmp.path().join("empty.txt"), "# nothing\n").unwrap();
    let out = lumamesh(&["relay", "verify", "empty.txt"], tmp.path());
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("no relay entries"));
}

#[test]
fn corrupt_identity_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&lumamesh(&["relay", "init", "--dir", "id"], tmp.path()));
    std::fs::write(tmp.path().join("id/node.key"), "garbage").unwrap();
    let out = lumamesh(
        &["relay", "encode", "--dir", "id", "--ip", "127.0.0.1"],
        tmp.path(),
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("id/node.key"), "{}", stderr(&out));
}

#[test]
fn bundle_and_starter_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let relays = fixtures::path("relay/relay.txt");
    let relays = relays.to_str().unwrap();
    let out = json(&lumamesh(
        &[
            "bundle",
            "--relays",
            relays,
            "--out",
            "lib/lumamesh.js",
            "--fee-rate",
            "10",
            "--json",
        ],
        dir,
    ));
    assert_eq!(out["relays"], 4);
    let js = std::fs::read_to_string(dir.join("lib/lumamesh.js")).unwrap();
    assert_eq!(out["bytes"], js.len());
    assert!(out["brotli_bytes"].as_u64().unwrap() < js.len() as u64);
    assert!(out["reveal_vsize_brotli"].as_u64().unwrap() < out["reveal_vsize"].as_u64().unwrap());
    let fee = out["reveal_fee"].as_u64().unwrap();
    assert_eq!(fee, out["reveal_vsize_brotli"].as_u64().unwrap() * 10);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("lib/lumamesh.js"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o044, 0, "a bundle is not a secret: {mode:o}");
    }

    // A tampered list is refused, naming the line; nothing is written.
    let tampered = fixtures::path("relay/tampered.txt");
    let bad = lumamesh(
        &[
            "bundle",
            "--relays",
            tampered.to_str().unwrap(),
            "--out",
            "bad.js",
        ],
        dir,
    );
    assert_eq!(code(&bad), 1);
    assert!(
        stderr(&bad).contains("tampered.txt:3: field `signature`"),
        "{}",
        stderr(&bad)
    );
    assert!(!dir.join("bad.js").exists());

    let id = "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799i0";
    ok(&lumamesh(&["page", "new", "lobby", "--lib", id], dir));
    let page = std::fs::read_to_string(dir.join("lobby.html")).unwrap();
    assert!(page.contains(&format!("import {{ connect }} from '/content/{id}';")));
    assert!(page.contains("joinRoom(\"lobby\""));
    let again = lumamesh(&["page", "new", "lobby", "--lib", id], dir);
    assert_eq!(code(&again), 2, "refuses to overwrite");

    ok(&lumamesh(
        &["page", "new", "inline", "--inline", "--relays", relays],
        dir,
    ));
    let inline = std::fs::read_to_string(dir.join("inline.html")).unwrap();
    assert!(inline.contains("globalThis.lumamesh"));
    assert!(!inline.contains("/content/"));

    for (args, needle) in [
        (vec!["page", "new", "x"], "--lib"),
        (
            vec!["page", "new", "x", "--lib", "nope"],
            "not an inscription id",
        ),
        (vec!["page", "new", "x", "--inline"], "--relays"),
        (
            vec!["bundle", "--relays", relays, "--fee-rate=-1"],
            "--fee-rate",
        ),
    ] {
        let out = lumamesh(&args, dir);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn demo_runs_the_whole_story() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(&lumamesh(&["demo"], tmp.path()));
    assert!(
        out.contains("A and B are connected to each other directly"),
        "{out}"
    );
    assert!(
        out.contains("B | ") && out.contains("hello from A"),
        "{out}"
    );
    // Two federated relays, one browser on each: the signaling crossed between the relays.
    assert!(
        out.contains("A and B each opened a DataChannel to a different relay"),
        "{out}"
    );
    assert!(
        out.contains("sealed signals between each other to connect A and B"),
        "{out}"
    );
    // The page came from a regtest publish, served from its reveal transaction.
    assert!(
        out.contains("signed and verified with libbitcoinconsensus (regtest)"),
        "{out}"
    );
    assert!(out.contains("page-reveal"), "{out}");
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("demo: ok"),
        "{out}"
    );
}
