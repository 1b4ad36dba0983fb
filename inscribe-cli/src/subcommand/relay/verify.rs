//! `lumamesh relay verify`

use std::fmt;

use super::{LineProblem, RelayFile};
use crate::input::InputPath;
use crate::{output, Failed};

#[derive(Debug, clap::Args)]
pub struct Verify {
    /// The relay list to check, or - for standard input. Exit 0 only if it has at least one
    /// entry and every entry is well-formed and signed by its node key; otherwise exit 1 and
    /// list each bad line with the reason.
    #[arg(value_name = "FILE|-")]
    file: InputPath,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Output {
    file: String,
    ok: bool,
    valid: usize,
    errors: Vec<LineProblem>,
    #[serde(skip)]
    error_lines: Vec<String>,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.error_lines {
            writeln!(f, "{line}")?;
        }
        if self.ok {
            writeln!(f, "{}: ok, {} signed entries", self.file, self.valid)
        } else if self.valid + self.errors.len() == 0 {
            writeln!(f, "{}: FAILED, no relay entries found", self.file)
        } else {
            writeln!(
                f,
                "{}: FAILED, {} bad line(s), {} valid entries",
                self.file,
                self.errors.len(),
                self.valid
            )
        }
    }
}

impl Verify {
    pub fn run(self) -> anyhow::Result<()> {
        let file = RelayFile::read(&self.file)?;
        let valid = file.txt.entries.len();
        let ok = valid > 0 && file.txt.errors.is_empty();
        let out = Output {
            ok,
            valid,
            errors: file.json_errors(),
            error_lines: file.error_lines(),
            file: file.name,
        };
        output::print(self.json, &out)?;
        if ok {
            Ok(())
        } else {
            Err(Failed.into())
        }
    }
}
