//! Reading the FILE|- arguments.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bootstrap_codec::{RelayEntry, RelayTxt};

use crate::UsageError;

/// The most `lumamesh` reads from one file or from standard input: 16 MiB, four times what
/// a whole block can carry, so no inscription body, relay list or UTXO file is near it, while
/// `/dev/zero`, a FIFO that never ends or a mistyped path to a disk image stops here instead
/// of filling memory.
pub const MAX_INPUT: u64 = 16 << 20;

/// Reads a text file, or standard input for `-`. Returns the name to use in messages.
pub fn read_text(path: &Path) -> anyhow::Result<(String, String)> {
    let (name, bytes) = if path == Path::new("-") {
        let name = "<stdin>".to_owned();
        let bytes =
            read_capped(std::io::stdin().lock(), &name).context("reading standard input")?;
        (name, bytes)
    } else {
        (path.display().to_string(), read_file(path)?)
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{name}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok((name, text))
}

/// Reads a file named on the command line, at most [`MAX_INPUT`] bytes: a missing or larger
/// one is the user's to fix (exit 2), any other failure names the file.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => UsageError(format!("{name}: no such file")).into(),
        _ => anyhow::Error::new(e).context(name.clone()),
    })?;
    read_capped(file, &name)
}

/// Reads `source` to its end unless it holds more than [`MAX_INPUT`] bytes.
fn read_capped(source: impl Read, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    source
        .take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .with_context(|| name.to_owned())?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(UsageError(format!(
            "{name}: larger than {} MiB, the most lumamesh reads from one input",
            MAX_INPUT >> 20
        ))
        .into());
    }
    Ok(bytes)
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
