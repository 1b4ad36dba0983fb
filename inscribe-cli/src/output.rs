//! Printing a command's result: human text, or JSON with `--json`.

use std::fmt::Display;

use serde::Serialize;

/// Prints `value` as pretty JSON if `json`, else via its `Display`. A reader that closed
/// standard output ends the command quietly ([`report::StdoutClosed`]).
pub fn print<T: Serialize + Display>(json: bool, value: &T) -> anyhow::Result<()> {
    let text = if json {
        format!("{}\n", serde_json::to_string_pretty(value)?)
    } else {
        value.to_string()
    };
    report::write_stdout(|out| out.write_all(text.as_bytes()))
}
