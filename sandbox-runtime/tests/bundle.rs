//! The bundle is one self-contained ES module that node can import, with the relays embedded
//! and none of the APIs an inscription's CSP blocks.

use std::process::Command;

use bootstrap_codec::{RelayEntry, RelayTxt};

fn fixture_entries() -> Vec<RelayEntry> {
    let txt = RelayTxt::parse(&fixtures::read("relay/relay.txt"));
    assert!(txt.errors.is_empty());
    txt.entries.into_iter().map(|e| e.entry).collect()
}

#[test]
fn bundle_imports_in_node_with_relays_embedded() {
    let entries = fixture_entries();
    let bundle = sandbox_runtime::bundle(&entries).unwrap();
    eprintln!(
        "bundle: {} bytes source, {} minified, {} brotli",
        bundle.source_len,
        bundle.js.len(),
        bundle.brotli_len
    );
    // The goal (BENCHMARKS.md): the full API in at most 8 KiB as `publish` inscribes it.
    assert!(
        bundle.brotli_len <= 8 * 1024,
        "the bundle grew past 8 KiB brotli: {} bytes",
        bundle.brotli_len
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lumamesh.mjs");
    std::fs::write(&path, &bundle.js).unwrap();
    let expected: Vec<String> = entries.iter().map(|e| e.to_line()).collect();
    let script = format!(
        r#"const m = await import({path:?});
const want = {want};
if (JSON.stringify(m.RELAYS) !== JSON.stringify(want)) throw Error('RELAYS differ');
if (typeof m.connect !== 'function') throw Error('no connect');
if (Object.keys(m).sort().join() !== 'RELAYS,connect') throw Error('exports: ' + Object.keys(m));
// Node has no RTCPeerConnection: connect must fail cleanly, after decoding every entry.
const err = await m.connect().then(() => null, (e) => e);
if (!/RTCPeerConnection|no relay reachable/.test(String(err))) throw Error('unexpected: ' + err);
console.log('ok');"#,
        path = path.to_str().unwrap(),
        want = serde_json_lines(&expected),
    );
    let out = Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .output()
        .expect("node is installed");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "node: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn serde_json_lines(lines: &[String]) -> String {
    format!(
        "[{}]",
        lines
            .iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
            .join(",")
    )
}

#[test]
fn bundle_uses_no_api_the_sandbox_blocks() {
    let bundle = sandbox_runtime::bundle(&fixture_entries()).unwrap();
    for banned in [
        "fetch(",
        "XMLHttpRequest",
        "WebSocket",
        "EventSource",
        "sendBeacon",
        "import(",
        "importScripts",
        "http://",
        "https://",
    ] {
        assert!(!bundle.js.contains(banned), "bundle contains {banned}");
    }
    assert!(
        !bundle.js.contains("import "),
        "bundle still imports a module"
    );
}

#[test]
fn no_relays_no_bundle() {
    assert!(matches!(
        sandbox_runtime::bundle(&[]),
        Err(sandbox_runtime::BundleError::NoRelays)
    ));
}
