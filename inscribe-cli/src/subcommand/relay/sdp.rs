//! `lumamesh relay sdp`

use std::fmt;

use bootstrap_codec::{static_answer, AnswerOptions};

use super::RelayFile;
use crate::input::InputPath;
use crate::{output, UsageError};

#[derive(Debug, clap::Args)]
pub struct Sdp {
    /// The relay list to read, or - for standard input.
    #[arg(value_name = "FILE|-")]
    file: InputPath,
    /// Which valid entry to use, counting from 0 in file order.
    #[arg(long, default_value_t = 0, value_name = "N")]
    index: usize,
    /// The `a=mid` of the browser's offer.
    #[arg(long, default_value = "0")]
    mid: String,
    /// Leave out `a=ice-lite` (Chromium then nominates on its first check and opens the
    /// channel sooner; the relay is a lite agent either way).
    #[arg(long)]
    no_ice_lite: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Output {
    index: usize,
    line: usize,
    sdp: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sdp)
    }
}

impl Sdp {
    pub fn run(self) -> anyhow::Result<()> {
        let file = RelayFile::read(&self.file)?;
        for e in file.error_lines() {
            eprintln!("warning: skipping {e}");
        }
        let count = file.txt.entries.len();
        let Some(chosen) = file.txt.entries.get(self.index) else {
            return Err(UsageError(format!(
                "{}: --index {} but the file has {count} valid entr{} (indexes start at 0)",
                file.name,
                self.index,
                if count == 1 { "y" } else { "ies" }
            ))
            .into());
        };
        let options = AnswerOptions {
            mid: self.mid,
            ice_lite: !self.no_ice_lite,
        };
        let sdp = static_answer(&chosen.entry, &options).map_err(|e| UsageError(e.to_string()))?;
        output::print(
            self.json,
            &Output {
                index: self.index,
                line: chosen.line,
                sdp,
            },
        )
    }
}
