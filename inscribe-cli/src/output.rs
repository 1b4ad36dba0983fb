//! Printing a command's result: human text, or JSON with `--json`.

use std::fmt::Display;
use std::io::Write;

use serde::Serialize;

/// Prints `value` as pretty JSON if `json`, else via its `Display`.
pub fn print<T: Serialize + Display>(json: bool, value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, value)?;
        writeln!(out)?;
    } else {
        write!(out, "{value}")?;
    }
    out.flush()?;
    Ok(())
}
