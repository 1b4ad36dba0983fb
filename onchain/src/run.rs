//! Ending a run: the fee cap, then a dry run's report, or signing and writing every file
//! with the recovery key first.

use std::path::Path;

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::Amount;
use keystore::write_atomic;

use crate::error::Error;
use crate::files::{write_secret_new, RunFiles};
use crate::psbt::commit_psbt;
use crate::recovery::recovery_text;
use crate::session::{Event, Session};
use crate::summary::{Stage, Summary};

/// Where a run's results go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output<'a> {
    /// Size and report only: sign nothing, write nothing.
    DryRun,
    /// Sign, verify and write into `dir`, which may hold no file of an earlier run.
    Write {
        /// The output directory (created if missing).
        dir: &'a Path,
    },
}

impl Session {
    /// Checks the fee cap over all `stages`, then either reports a dry run or signs,
    /// verifies and writes: the recovery descriptors (mode 0600) first, then each commit's
    /// PSBT, then the signed transactions and the summary (`inscriptions.json`). Every file
    /// is written atomically, so a failure leaves none half-written; a directory holding an
    /// earlier run's files is refused ([`Error::OutputsExist`]) and nothing there is
    /// replaced.
    pub fn finish(self, stages: Vec<Stage>, output: Output<'_>) -> Result<Summary, Error> {
        let fees: Amount = stages.iter().map(|s| s.prepared.fees()).sum();
        self.spending().caps.check_fees(fees)?;
        let dir = match output {
            Output::DryRun => return Ok(Summary::new(&self, &stages, true)),
            Output::Write { dir } => dir,
        };
        let mut summary = Summary::new(&self, &stages, false);
        let files = RunFiles::new(dir, &stages)?;

        // The recovery keys go to disk before anything that could be broadcast exists, and
        // never over another file (a run racing into the same directory).
        self.event(Event::WritingRecovery);
        let recovery = recovery_text(self.secp(), &stages, self.network());
        write_secret_new(&files.recovery, recovery.as_bytes()).map_err(|error| {
            match error.kind() {
                std::io::ErrorKind::AlreadyExists => Error::OutputsExist {
                    dir: dir.to_owned(),
                    files: vec![files.recovery.clone()],
                },
                _ => Error::Write {
                    file: files.recovery.clone(),
                    error,
                },
            }
        })?;

        let mut signed = Vec::new();
        for (stage, paths) in stages.into_iter().zip(&files.stages) {
            let psbt = commit_psbt(self.wallet(), &stage.prepared)?;
            write(&paths.psbt, psbt.to_string().as_bytes())?;
            self.event(Event::Signing {
                stage: stage.label(),
            });
            let wallet = self.wallet();
            let pair = stage.prepared.sign(self.secp(), &mut |tx, i, prevouts| {
                wallet
                    .sign_key_path(tx, i, prevouts)
                    .map_err(|e| e.to_string())
            })?;
            signed.push(pair);
        }
        for (pair, paths) in signed.iter().zip(&files.stages) {
            let commit = format!("{}\n", serialize_hex(&pair.commit));
            write(&paths.commit, commit.as_bytes())?;
            let reveal = format!("{}\n", serialize_hex(&pair.reveal));
            write(&paths.reveal, reveal.as_bytes())?;
        }
        summary.files = Some(files.listing());
        // Plain data with string keys: serializing it cannot fail.
        let json = serde_json::to_vec_pretty(&summary).expect("summary serializes");
        write(&files.summary, &json)?;
        Ok(summary)
    }
}

fn write(file: &Path, contents: &[u8]) -> Result<(), Error> {
    write_atomic(file, contents).map_err(|error| Error::Write {
        file: file.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests;
