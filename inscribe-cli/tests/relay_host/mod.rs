//! Issue 16: a relay published by host name. `relay encode --host` signs the name, warns that
//! Firefox cannot use it (docs/relay-txt.md, "Host names"), and the static answer carries the
//! name in its candidate.

use super::{json, lumamesh, ok, stderr};

const FIREFOX: &str = "warning: Firefox cannot reach a relay by host name";

#[test]
fn encode_host_warns_that_firefox_cannot_use_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&lumamesh(&["relay", "init", "--dir", "id"], dir));
    let encode = |args: &[&str]| {
        let mut all = vec![
            "relay",
            "encode",
            "--dir",
            "id",
            "--out",
            "relay.txt",
            "--json",
        ];
        all.extend_from_slice(args);
        lumamesh(&all, dir)
    };

    let by_name = encode(&["--host", "Relay.Example.ORG"]);
    assert!(stderr(&by_name).contains(FIREFOX), "{}", stderr(&by_name));
    let out = json(&by_name);
    assert!(
        out["warning"].as_str().unwrap().starts_with(&FIREFOX[9..]),
        "{out}"
    );
    // Lower-cased: one name, one encoding, one line.
    assert_eq!(out["entry"]["address"], "relay.example.org", "{out}");

    let by_ip = encode(&["--ip", "192.0.2.7"]);
    assert!(!stderr(&by_ip).contains("warning"), "{}", stderr(&by_ip));
    assert!(json(&by_ip).get("warning").is_none());

    let sdp = ok(&lumamesh(
        &["relay", "sdp", "relay.txt", "--index", "0"],
        dir,
    ));
    assert!(sdp.contains("\r\nc=IN IP4 0.0.0.0\r\n"), "{sdp}");
    assert!(
        sdp.contains("a=candidate:1 1 udp 2130706431 relay.example.org 3478 typ host\r\n"),
        "{sdp}"
    );
}
