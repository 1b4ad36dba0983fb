//! `lumamesh relay decode`

use std::fmt;

use bootstrap_codec::RelayEntry;

use super::{LineProblem, RelayFile};
use crate::input::InputPath;
use crate::{output, Failed};

#[derive(Debug, clap::Args)]
pub struct Decode {
    /// The relay list to read, or - for standard input.
    #[arg(value_name = "FILE|-")]
    file: InputPath,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Shown {
    line: usize,
    #[serde(flatten)]
    entry: RelayEntry,
}

#[derive(Debug, serde::Serialize)]
struct Output {
    entries: Vec<Shown>,
    errors: Vec<LineProblem>,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.entries.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let e = &s.entry;
            writeln!(f, "entry {i} (line {})", s.line)?;
            writeln!(f, "  address      {}", e.address())?;
            writeln!(f, "  port         {}", e.port())?;
            writeln!(f, "  fingerprint  sha-256 {}", e.fingerprint())?;
            writeln!(f, "  ufrag        {}", e.ufrag())?;
            writeln!(f, "  pwd          {}", e.pwd())?;
            writeln!(f, "  nk           {}", e.node_key())?;
        }
        Ok(())
    }
}

impl Decode {
    pub fn run(self) -> anyhow::Result<()> {
        let file = RelayFile::read(&self.file)?;
        let errors = file.error_lines();
        let out = Output {
            errors: file.json_errors(),
            entries: file
                .txt
                .entries
                .into_iter()
                .map(|e| Shown {
                    line: e.line,
                    entry: e.entry,
                })
                .collect(),
        };
        output::print(self.json, &out)?;
        for e in &errors {
            eprintln!("error: {e}");
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Failed.into())
        }
    }
}
