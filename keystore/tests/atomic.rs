//! All-or-nothing writes: a reader sees the old file or the new one, never a part; secrets
//! are 0600 in 0700 directories; a failed or killed write leaves the old contents.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keystore::{write_atomic, write_secret_atomic};

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn secrets_are_private_and_replace_whole() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("new/dir/mnemonic.txt");
    write_secret_atomic(&secret, b"first").unwrap();
    write_secret_atomic(&secret, b"second").unwrap();
    assert_eq!(fs::read(&secret).unwrap(), b"second");
    #[cfg(unix)]
    {
        assert_eq!(mode(&secret), 0o600);
        assert_eq!(mode(secret.parent().unwrap()), 0o700);
    }
    assert!(leftovers(secret.parent().unwrap()).is_empty());
}

#[test]
fn ordinary_outputs_follow_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle.js");
    write_atomic(&out, b"export {}").unwrap();
    #[cfg(unix)]
    assert_ne!(mode(&out) & 0o044, 0, "a bundle is not a secret");
}

#[test]
fn a_failed_write_keeps_the_old_file_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("summary.json");
    write_atomic(&target, b"old").unwrap();
    // A directory in the way of the rename: staging succeeds, the rename fails.
    let blocked = dir.path().join("blocked");
    fs::create_dir(&blocked).unwrap();
    fs::write(blocked.join("inside"), b"x").unwrap();
    assert!(write_atomic(&blocked, b"new").is_err());
    assert!(blocked.is_dir());
    // A file where a parent directory should be.
    assert!(write_secret_atomic(&target.join("child"), b"new").is_err());
    assert_eq!(fs::read(&target).unwrap(), b"old");
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    assert!(write_atomic(dir.path(), b"no file name").is_err());
}

const CHILD: &str = "KEYSTORE_TEST_CHILD_TARGET";

/// Not a test on its own: the body of the child process `killed_mid_write` starts.
#[test]
fn child_writes_forever() {
    let Some(target) = std::env::var_os(CHILD) else {
        return;
    };
    let big = vec![b'n'; 64 << 20];
    loop {
        write_atomic(Path::new(&target), &big).unwrap();
    }
}

#[test]
fn killed_mid_write_leaves_old_or_new_never_a_part() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        write_atomic(&target, b"old").unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_writes_forever", "--nocapture"])
            .env(CHILD, &target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill while a temporary file is being filled (its size is still growing).
        let deadline = Instant::now() + Duration::from_secs(20);
        while leftovers(dir.path()).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        let contents = fs::read(&target).unwrap();
        assert!(
            contents == b"old"
                || (contents.len() == 64 << 20 && contents.iter().all(|&b| b == b'n')),
            "round {round}: target holds {} bytes that are neither the old nor the new file",
            contents.len()
        );
    }
}
