//! Ending a run in a temporary directory: the recovery file first, nothing half-written,
//! earlier runs never replaced by accident, and the commit PSBT's contents.

use std::path::Path;
use std::str::FromStr;

use bitcoin::bip32::DerivationPath;
use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::psbt::Psbt;
use bitcoin::{Amount, Transaction};

use super::Output;
use crate::policy::{FeeCaps, PolicyError};
use crate::reveal::{verify_transaction, BuildError};
use crate::session::{Session, Spending};
use crate::summary::Stage;
use crate::testing::{foreign_script, rate, session, utxo, utxo_at, wallet};
use crate::wallet::descriptor::verify_checksum;
use crate::wallet::{Chain, Utxo};
use crate::{commit_psbt, ContentSummary, Error};

/// One pair inscribing a short text, paid from `session`'s fee coins.
fn stage(session: &Session) -> Stage {
    let content = session
        .content(
            "hello.txt",
            "text/plain;charset=utf-8",
            b"hello".to_vec(),
            false,
        )
        .unwrap();
    let prepared = session
        .prepare(&session.plan(vec![content.inscription.clone()], vec![]))
        .unwrap();
    Stage {
        name: "",
        prepared,
        contents: vec![ContentSummary::of(&content)],
    }
}

/// Ends `session`'s run of one [`stage`] into `dir`.
fn write_one(session: Session, dir: &Path) -> Result<crate::Summary, Error> {
    let stage = stage(&session);
    session.finish(vec![stage], Output::Write { dir })
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every descriptor line of a recovery file, each with a valid checksum.
fn recovery_descriptors(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("recovery.txt")).unwrap();
    assert!(text.ends_with('\n'), "complete, to its last line");
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    for line in &lines {
        assert!(line.starts_with("rawtr("), "{line}");
        verify_checksum(line).unwrap();
    }
    lines
}

#[test]
fn a_dry_run_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session(vec![utxo(1, 100_000)]);
    let stage = stage(&session);
    let summary = session.finish(vec![stage], Output::DryRun).unwrap();
    assert!(summary.dry_run && summary.files.is_none());
    assert!(names(tmp.path()).is_empty());
}

#[test]
fn a_run_writes_every_file_and_each_transaction_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let session = session(vec![utxo(1, 100_000)]);
    let stage = stage(&session);
    let commit_txid = stage.prepared.commit.tx.compute_txid();
    let summary = session
        .finish(vec![stage], Output::Write { dir: &out })
        .unwrap();
    assert_eq!(
        names(&out),
        [
            "commit.hex",
            "commit.psbt",
            "inscriptions.json",
            "recovery.txt",
            "reveal.hex"
        ]
    );
    assert_eq!(recovery_descriptors(&out).len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("recovery.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let read = |name: &str| -> Transaction {
        deserialize_hex(std::fs::read_to_string(out.join(name)).unwrap().trim()).unwrap()
    };
    let commit = read("commit.hex");
    let reveal = read("reveal.hex");
    assert_eq!(commit.compute_txid(), commit_txid);
    verify_transaction(&commit, &[utxo(1, 100_000).txout()]).unwrap();
    verify_transaction(&reveal, &[commit.output[0].clone()]).unwrap();
    let files = summary.files.as_ref().unwrap();
    assert_eq!(
        files.transactions,
        [out.join("commit.hex"), out.join("reveal.hex")]
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("inscriptions.json")).unwrap()).unwrap();
    assert_eq!(
        json["inscriptions"][0]["id"],
        format!("{}i0", reveal.compute_txid())
    );
    assert_eq!(json["total_cost"], summary.fees + 10_000);
}

#[test]
fn the_fee_cap_is_checked_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let spending = Spending {
        caps: FeeCaps {
            max_fee: Amount::from_sat(100),
            ..FeeCaps::default()
        },
        ..Spending::at(rate(10.0))
    };
    let session = Session::new(wallet(), vec![utxo(1, 100_000)], None, spending).unwrap();
    let err = write_one(session, tmp.path()).unwrap_err();
    assert!(
        matches!(err, Error::Policy(PolicyError::FeesAboveCap { .. })),
        "{err}"
    );
    assert!(names(tmp.path()).is_empty());
}

#[test]
fn an_earlier_run_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let write = || write_one(session(vec![utxo(1, 100_000)]), tmp.path());
    write().unwrap();
    let first = std::fs::read(tmp.path().join("recovery.txt")).unwrap();
    let err = write().unwrap_err();
    match &err {
        Error::OutputsExist { dir, files } => {
            assert_eq!(dir, tmp.path());
            assert_eq!(files.len(), 5, "{err}");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("recovery.txt"), "{err}");
    // Any one file of any run's stage is enough, even a dangling link.
    for name in [
        "commit.hex",
        "recovery.txt",
        "page-reveal.hex",
        "library-commit.psbt",
        "inscriptions.json",
    ] {
        for entry in std::fs::read_dir(tmp.path()).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink("/nonexistent", tmp.path().join(name)).unwrap();
        match write() {
            Err(Error::OutputsExist { files, .. }) => {
                assert_eq!(files, [tmp.path().join(name)], "{name}")
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(names(tmp.path()), [name], "nothing else written");
    }
    // Other files do not make a run.
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    write().unwrap();
    assert_ne!(
        std::fs::read(tmp.path().join("recovery.txt")).unwrap(),
        first,
        "a fresh run draws fresh keys"
    );
}

#[test]
fn the_recovery_file_is_never_written_over_another() {
    // A file appears under the recovery file's name after the check (a racing run).
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("recovery.txt");
    std::fs::write(&target, "the other run's key").unwrap();
    let err = crate::files::write_secret_new(&target, b"ours").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&target).unwrap(), b"the other run's key");
    assert_eq!(names(tmp.path()), ["recovery.txt"], "no staging file left");
}

#[test]
fn the_recovery_file_comes_first_and_a_later_failure_leaves_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    // A stage name too long for the PSBT's file name (over 255 bytes): its write fails
    // after the recovery file's.
    const LONG: &str = concat!(
        "a-stage-name-of-two-hundred-and-fifty-bytes-a-stage-name-of-two-hundred-and-fifty-",
        "bytes-a-stage-name-of-two-hundred-and-fifty-bytes-a-stage-name-of-two-hundred-and-",
        "fifty-bytes-a-stage-name-of-two-hundred-and-fifty-bytes-a-stage-name-of-two-hundred"
    );
    assert!(LONG.len() + "-commit.psbt".len() > 255);
    let session = session(vec![utxo(1, 100_000)]);
    let stage = Stage {
        name: LONG,
        ..stage(&session)
    };
    let err = session
        .finish(vec![stage], Output::Write { dir: tmp.path() })
        .unwrap_err();
    match &err {
        Error::Write { file, .. } => {
            assert_eq!(file, &tmp.path().join(format!("{LONG}-commit.psbt")))
        }
        other => panic!("{other}"),
    }
    assert_eq!(recovery_descriptors(tmp.path()).len(), 1);
    // No temporary file left behind, no transaction, no summary.
    assert_eq!(names(tmp.path()), ["recovery.txt"]);
}

#[test]
fn a_signing_failure_leaves_the_recovery_file_and_a_whole_psbt_only() {
    let tmp = tempfile::tempdir().unwrap();
    // A coin of another key: the PSBT can be written, but this wallet cannot sign it.
    let foreign = utxo_at(3, 0, 100_000, foreign_script());
    let session = session(vec![foreign]);
    let err = write_one(session, tmp.path()).unwrap_err();
    assert!(matches!(err, Error::Build(BuildError::Sign(_))), "{err}");
    assert_eq!(names(tmp.path()), ["commit.psbt", "recovery.txt"]);
    assert_eq!(recovery_descriptors(tmp.path()).len(), 1);
    let text = std::fs::read_to_string(tmp.path().join("commit.psbt")).unwrap();
    let psbt = Psbt::from_str(&text).expect("a whole PSBT");
    assert_eq!(psbt.inputs.len(), 1);
    assert_eq!(psbt.inputs[0].witness_utxo, Some(foreign_txout()));
    assert!(
        psbt.inputs[0].tap_key_origins.is_empty(),
        "not this wallet's key"
    );
}

fn foreign_txout() -> bitcoin::TxOut {
    utxo_at(3, 0, 100_000, foreign_script()).txout()
}

#[test]
fn the_commit_psbt_carries_spent_outputs_internal_keys_and_bip32_origins() {
    // Two coins, so both are spent: one at receive/0, one at change/5.
    let w = wallet();
    let change5 = w.script_pubkey(Chain::Change, 5).unwrap();
    let coins: Vec<Utxo> = vec![utxo(1, 6_000), utxo_at(2, 1, 6_000, change5)];
    let session = session(coins.clone());
    let content = session
        .content("a", "text/plain", vec![b'a'; 900], false)
        .unwrap();
    let prepared = session
        .prepare(&session.plan(vec![content.inscription], vec![]))
        .unwrap();
    assert_eq!(prepared.commit.tx.input.len(), 2);
    let psbt = commit_psbt(session.wallet(), &prepared).unwrap();
    assert_eq!(
        psbt.unsigned_tx.compute_txid(),
        prepared.commit.tx.compute_txid()
    );
    assert!(psbt.unsigned_tx.input.iter().all(|i| i.witness.is_empty()));
    for (input, txin) in psbt.inputs.iter().zip(&psbt.unsigned_tx.input) {
        let coin = coins
            .iter()
            .find(|c| c.outpoint == txin.previous_output)
            .unwrap();
        assert_eq!(input.witness_utxo.as_ref(), Some(&coin.txout()));
        let (chain, index) = session.wallet().find(&coin.script_pubkey).unwrap();
        let key = session.wallet().internal_key(chain, index).unwrap();
        assert_eq!(input.tap_internal_key, Some(key));
        let (leaves, (fingerprint, path)) = &input.tap_key_origins[&key];
        assert!(leaves.is_empty());
        assert_eq!(fingerprint.to_string(), "73c5da0a");
        let want = format!("m/86'/1'/0'/{}/{index}", chain.number());
        assert_eq!(path, &DerivationPath::from_str(&want).unwrap());
        assert!(input.final_script_witness.is_none());
    }
    // It survives its own text form, as an external wallet reads it.
    assert_eq!(Psbt::from_str(&psbt.to_string()).unwrap(), psbt);
}
