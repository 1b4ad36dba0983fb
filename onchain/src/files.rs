//! The files of a run in its output directory, all named and checked before any is written.
//!
//! An output directory holds one run: a directory with any file of an earlier run in it
//! (a recovery file, a summary, a commit or reveal, a PSBT, under any stage's name) is
//! refused, and the recovery file is put in place with a hard link, which never replaces a
//! file, so even two runs racing into one directory cannot overwrite each other's key.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::summary::{FileListing, Stage};

/// The recovery file's name.
pub const RECOVERY_FILE: &str = "recovery.txt";

/// The summary's name.
pub const SUMMARY_FILE: &str = "inscriptions.json";

/// Every file of one run.
#[derive(Debug, Clone)]
pub(crate) struct RunFiles {
    pub(crate) recovery: PathBuf,
    pub(crate) summary: PathBuf,
    pub(crate) stages: Vec<StageFiles>,
}

/// The files of one commit/reveal pair.
#[derive(Debug, Clone)]
pub(crate) struct StageFiles {
    pub(crate) commit: PathBuf,
    pub(crate) reveal: PathBuf,
    pub(crate) psbt: PathBuf,
}

impl RunFiles {
    /// Creates `out` if missing and names the run's files in it; refuses a directory that
    /// holds any file of an earlier run (see the module documentation).
    pub(crate) fn new(out: &Path, stages: &[Stage]) -> Result<RunFiles, Error> {
        std::fs::create_dir_all(out).map_err(|error| Error::CreateDir {
            dir: out.to_owned(),
            error,
        })?;
        let files = RunFiles {
            recovery: out.join(RECOVERY_FILE),
            summary: out.join(SUMMARY_FILE),
            stages: stages
                .iter()
                .map(|s| StageFiles {
                    commit: out.join(s.file_name("commit.hex")),
                    reveal: out.join(s.file_name("reveal.hex")),
                    psbt: out.join(s.file_name("commit.psbt")),
                })
                .collect(),
        };
        let mut existing: Vec<PathBuf> = files
            .all()
            .into_iter()
            .filter(|p| p.symlink_metadata().is_ok())
            .cloned()
            .collect();
        let entries = std::fs::read_dir(out).map_err(|error| Error::CreateDir {
            dir: out.to_owned(),
            error,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if is_run_file(&entry.file_name().to_string_lossy()) && !existing.contains(&path) {
                existing.push(path);
            }
        }
        if !existing.is_empty() {
            existing.sort();
            return Err(Error::OutputsExist {
                dir: out.to_owned(),
                files: existing,
            });
        }
        Ok(files)
    }

    fn all(&self) -> Vec<&PathBuf> {
        let mut all = vec![&self.recovery, &self.summary];
        for s in &self.stages {
            all.extend([&s.commit, &s.reveal, &s.psbt]);
        }
        all
    }

    /// The listing the summary reports.
    pub(crate) fn listing(&self) -> FileListing {
        FileListing {
            recovery: self.recovery.clone(),
            summary: self.summary.clone(),
            transactions: self
                .stages
                .iter()
                .flat_map(|s| [s.commit.clone(), s.reveal.clone()])
                .collect(),
            psbts: self.stages.iter().map(|s| s.psbt.clone()).collect(),
        }
    }
}

/// Whether `name` is the name of a file some run writes (of any stage).
fn is_run_file(name: &str) -> bool {
    name == RECOVERY_FILE
        || name == SUMMARY_FILE
        || ["commit.hex", "reveal.hex", "commit.psbt"]
            .iter()
            .any(|kind| name == *kind || name.ends_with(&format!("-{kind}")))
}

/// Writes a secret file that must never replace another: staged whole under a temporary
/// name (mode 0600), then hard-linked into place, which fails if `target` exists.
pub(crate) fn write_secret_new(target: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut staging = target.as_os_str().to_owned();
    staging.push(format!(".new-{}", std::process::id()));
    let staging = PathBuf::from(staging);
    keystore::write_secret_atomic(&staging, contents)?;
    let linked = std::fs::hard_link(&staging, target);
    let _ = std::fs::remove_file(&staging);
    linked
}
