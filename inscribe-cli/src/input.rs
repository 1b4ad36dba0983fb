//! Reading the FILE|- arguments.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bootstrap_codec::{RelayEntry, RelayTxt};

use crate::UsageError;

/// Reads a text file, or standard input for `-`. Returns the name to use in messages.
pub fn read_text(path: &Path) -> anyhow::Result<(String, String)> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        return Ok(("<stdin>".to_owned(), text));
    }
    let name = path.display().to_string();
    let text = String::from_utf8(read_file(path)?).map_err(|e| {
        anyhow::anyhow!(
            "{name}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok((name, text))
}

/// Reads a file named on the command line: a missing one is the user's to fix (exit 2),
/// any other failure names the file.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            UsageError(format!("{}: no such file", path.display())).into()
        }
        _ => anyhow::Error::new(e).context(path.display().to_string()),
    })
}

/// Reads a relay list whose every entry must verify (for anything that embeds or dials
/// them): each bad line is printed as `FILE:LINE: reason` and the whole list is refused.
pub fn read_verified_relays(path: &Path) -> anyhow::Result<Vec<RelayEntry>> {
    let (name, text) = read_text(path)?;
    let txt = RelayTxt::parse(&text);
    if !txt.errors.is_empty() {
        for e in &txt.errors {
            eprintln!("{name}:{}: {}", e.line, e.error);
        }
        anyhow::bail!(
            "{name}: {} bad entr{}; only verified relays are used",
            txt.errors.len(),
            if txt.errors.len() == 1 { "y" } else { "ies" }
        );
    }
    if txt.entries.is_empty() {
        anyhow::bail!("{name}: no relay entries; nothing for the page to connect to");
    }
    Ok(txt.entries.into_iter().map(|e| e.entry).collect())
}

/// The path argument type for FILE|-.
pub type InputPath = PathBuf;
