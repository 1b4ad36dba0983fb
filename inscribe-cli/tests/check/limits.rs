//! Untrusted input has limits: a brotli bomb in a reveal (kilobytes that decode to 64 MiB)
//! is reported by `inspect` and refused by `check` with the limit named, and files larger
//! than any transaction or inscription can be are refused unread, naming the file. None of
//! these needs a browser: each stops before one starts.

use std::io::Write;
use std::path::Path;

use inscription::{Inscription, MAX_DECOMPRESSED};

use super::write_reveal;
use crate::{code, json, lumamesh, stderr};

/// `len` zeros as brotli, made fast (quality 1, small window): the bomb.
fn zeros(len: usize) -> Vec<u8> {
    let mut writer = brotli::CompressorWriter::new(Vec::new(), 4096, 1, 16);
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..len / chunk.len() {
        writer.write_all(&chunk).unwrap();
    }
    writer.into_inner()
}

/// A reveal whose one inscription is an HTML page that is a brotli bomb.
fn bomb_reveal(dir: &Path) -> std::path::PathBuf {
    write_reveal(dir, "bomb.hex", |_| {
        vec![Inscription::new("text/html;charset=utf-8", zeros(64 << 20))
            .with_content_encoding("br")]
    })
}

/// A file of `len` bytes that takes no disk space (sparse).
fn sparse(dir: &Path, name: &str, len: u64) {
    std::fs::File::create(dir.join(name))
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[test]
fn inspect_reports_a_brotli_bomb_undecoded() {
    let tmp = tempfile::tempdir().unwrap();
    bomb_reveal(tmp.path());
    let out = lumamesh(&["inspect", "bomb.hex", "--json"], tmp.path());
    let report = json(&out);
    let found = &report["inscriptions"][0];
    assert_eq!(found["content_encoding"], "br");
    assert!(found["decoded_bytes"].is_null(), "{found}");
    let why = found["decode_error"].as_str().unwrap_or_default();
    assert!(
        why.contains(&format!("more than {MAX_DECOMPRESSED} B")),
        "{found}"
    );

    // A smaller limit of the user's; people see it too.
    let out = lumamesh(
        &["inspect", "bomb.hex", "--max-decoded", "1000"],
        tmp.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("not decoded: decodes to more than 1000 B"),
        "{text}"
    );
}

#[test]
fn inspect_refuses_a_file_larger_than_any_transaction() {
    let tmp = tempfile::tempdir().unwrap();
    sparse(tmp.path(), "huge.hex", 100_000_000);
    let out = lumamesh(&["inspect", "huge.hex"], tmp.path());
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("huge.hex: larger than"), "{err}");
    assert!(err.contains("a transaction"), "{err}");
}

#[test]
fn check_refuses_a_brotli_bomb_page_naming_it_and_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    bomb_reveal(tmp.path());
    let out = lumamesh(&["check", "--reveal", "bomb.hex", "--json"], tmp.path());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("bomb.hex") && err.contains("i0"), "{err}");
    assert!(
        err.contains(&format!("more than {MAX_DECOMPRESSED} bytes")),
        "{err}"
    );
}

#[test]
fn check_refuses_files_larger_than_any_inscription() {
    let tmp = tempfile::tempdir().unwrap();
    sparse(tmp.path(), "huge.hex", 100_000_000);
    let out = lumamesh(&["check", "--reveal", "huge.hex"], tmp.path());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("huge.hex: larger than"),
        "{}",
        stderr(&out)
    );

    sparse(tmp.path(), "page.html", 100_000_000);
    let out = lumamesh(&["check", "page.html"], tmp.path());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("page.html: larger than"),
        "{}",
        stderr(&out)
    );

    let folder = tmp.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let id = format!("{}i0", "ab".repeat(32));
    sparse(&folder, &format!("{id}.html"), 100_000_000);
    let out = lumamesh(&["check", "folder"], tmp.path());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{id}.html: larger than")),
        "{}",
        stderr(&out)
    );
}
