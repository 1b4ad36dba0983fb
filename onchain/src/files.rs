//! The files of a run in its output directory, all named and checked before any is written.

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
    /// Creates `out` if missing and names the run's files in it; refuses files that exist
    /// already unless `replace`.
    pub(crate) fn new(out: &Path, stages: &[Stage], replace: bool) -> Result<RunFiles, Error> {
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
        if !replace {
            let existing: Vec<PathBuf> = files
                .all()
                .into_iter()
                .filter(|p| p.symlink_metadata().is_ok())
                .cloned()
                .collect();
            if !existing.is_empty() {
                return Err(Error::OutputsExist { files: existing });
            }
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
