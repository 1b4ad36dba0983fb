//! BIP39 mnemonics: creating one, reading one back from a file, and writing it safely.
//!
//! A mnemonic is the whole wallet. It is written only with mode 0600 (temp file + rename), a
//! file is never replaced unless asked, and nothing here prints or logs it: [`Mnemonic`]'s own
//! `Debug` shows the words, so callers keep it out of messages.

use std::io;
use std::path::{Path, PathBuf};

use bip39::Language;
pub use bip39::Mnemonic;

/// Word counts [`generate`] accepts: 12 (128 bits of entropy) or 24 (256 bits).
pub const WORD_COUNTS: [usize; 2] = [12, 24];

/// The default word count of a new mnemonic.
pub const DEFAULT_WORDS: usize = 12;

/// What can go wrong creating, reading or writing a mnemonic or passphrase file.
#[derive(Debug, thiserror::Error)]
pub enum MnemonicError {
    /// A word count other than 12 or 24.
    #[error("a mnemonic has 12 or 24 words, not {0}")]
    WordCount(usize),
    /// The file could not be read.
    #[error("{file}: {error}")]
    Read { file: PathBuf, error: io::Error },
    /// The file is not UTF-8 text.
    #[error("{file}: not UTF-8 text")]
    NotText { file: String },
    /// The text is not a valid English BIP39 mnemonic (the words are not repeated here).
    #[error("{file}: not a valid English BIP39 mnemonic: {reason}")]
    Invalid { file: String, reason: String },
    /// The target exists and `force` was not given.
    #[error("{0} exists already; refusing to replace it")]
    Exists(PathBuf),
    /// The file could not be written.
    #[error("writing {file}: {error}")]
    Write { file: PathBuf, error: io::Error },
}

/// A fresh English mnemonic of `words` words (12 or 24) from the OS random generator.
pub fn generate(words: usize) -> Result<Mnemonic, MnemonicError> {
    if !WORD_COUNTS.contains(&words) {
        return Err(MnemonicError::WordCount(words));
    }
    Mnemonic::generate_in(Language::English, words).map_err(|e| MnemonicError::Invalid {
        file: "<generated>".to_owned(),
        reason: e.to_string(),
    })
}

/// Parses mnemonic text read from `file` (the name is for messages only): whitespace of any
/// kind and amount between words is accepted, and upper case is folded. Only 12 or 24 words.
pub fn parse_mnemonic(text: &str, file: &str) -> Result<Mnemonic, MnemonicError> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    if !WORD_COUNTS.contains(&words.len()) {
        return Err(MnemonicError::Invalid {
            file: file.to_owned(),
            reason: format!("{} words; a mnemonic has 12 or 24", words.len()),
        });
    }
    Mnemonic::parse_in(Language::English, words.join(" ")).map_err(|e| MnemonicError::Invalid {
        file: file.to_owned(),
        reason: describe(&e),
    })
}

/// Reads and parses a mnemonic file (see [`parse_mnemonic`]).
pub fn read_mnemonic_file(path: &Path) -> Result<Mnemonic, MnemonicError> {
    let text = read_text(path)?;
    parse_mnemonic(&text, &path.display().to_string())
}

/// Reads a BIP39 passphrase file: its text with one trailing line break (`\n` or `\r\n`)
/// removed; every other character, spaces included, is part of the passphrase. An empty file
/// means no passphrase.
pub fn read_passphrase_file(path: &Path) -> Result<String, MnemonicError> {
    let text = read_text(path)?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    Ok(text.to_owned())
}

/// Writes `mnemonic` to `path` as one line of words, mode 0600, atomically. An existing file
/// is replaced only if `force`.
pub fn write_mnemonic_file(
    path: &Path,
    mnemonic: &Mnemonic,
    force: bool,
) -> Result<(), MnemonicError> {
    let text = format!("{mnemonic}\n");
    write_secret(path, text.as_bytes(), force)
}

/// Writes a secret file (mode 0600, temp + rename), refusing to replace one unless `force`.
pub(crate) fn write_secret(path: &Path, contents: &[u8], force: bool) -> Result<(), MnemonicError> {
    if !force && path.symlink_metadata().is_ok() {
        return Err(MnemonicError::Exists(path.to_owned()));
    }
    keystore::write_secret_atomic(path, contents).map_err(|error| MnemonicError::Write {
        file: path.to_owned(),
        error,
    })
}

fn read_text(path: &Path) -> Result<String, MnemonicError> {
    let bytes = std::fs::read(path).map_err(|error| MnemonicError::Read {
        file: path.to_owned(),
        error,
    })?;
    String::from_utf8(bytes).map_err(|_| MnemonicError::NotText {
        file: path.display().to_string(),
    })
}

/// bip39's messages, without quoting words back (an unknown word may be a real one mistyped).
fn describe(e: &bip39::Error) -> String {
    match e {
        bip39::Error::UnknownWord(i) => format!("word {} is not in the English list", i + 1),
        bip39::Error::BadWordCount(n) => format!("{n} words; a mnemonic has 12 or 24"),
        bip39::Error::InvalidChecksum => "the checksum does not match (a word is wrong)".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{
        generate, parse_mnemonic, read_mnemonic_file, read_passphrase_file, write_mnemonic_file,
        MnemonicError,
    };

    #[test]
    fn generates_12_and_24_words_only() {
        assert_eq!(generate(12).unwrap().word_count(), 12);
        assert_eq!(generate(24).unwrap().word_count(), 24);
        assert!(matches!(generate(18), Err(MnemonicError::WordCount(18))));
        assert_ne!(generate(12).unwrap(), generate(12).unwrap());
    }

    #[test]
    fn parsing_normalises_whitespace_and_case() {
        let text = "  Abandon abandon\tabandon\nabandon abandon abandon   abandon abandon\r\n\
                    abandon abandon abandon ABOUT\n\n";
        let m = parse_mnemonic(text, "m.txt").unwrap();
        assert_eq!(m.to_string(), format!("{}about", "abandon ".repeat(11)));
    }

    #[test]
    fn bad_mnemonics_are_refused_without_echoing_words() {
        let wrong_checksum = "abandon ".repeat(12);
        let err = parse_mnemonic(&wrong_checksum, "m.txt")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("m.txt: ") && err.contains("checksum"),
            "{err}"
        );
        let unknown = format!("{}zzzsecret", "abandon ".repeat(11));
        let err = parse_mnemonic(&unknown, "m.txt").unwrap_err().to_string();
        assert!(
            err.contains("word 12") && !err.contains("zzzsecret"),
            "{err}"
        );
        let err = parse_mnemonic("abandon about", "m.txt")
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 words"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private_and_never_replaced_unless_forced() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("sub/mnemonic");
        let first = generate(12).unwrap();
        write_mnemonic_file(&path, &first, false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(read_mnemonic_file(&path).unwrap(), first);

        let second = generate(24).unwrap();
        assert!(matches!(
            write_mnemonic_file(&path, &second, false),
            Err(MnemonicError::Exists(_))
        ));
        assert_eq!(read_mnemonic_file(&path).unwrap(), first);
        write_mnemonic_file(&path, &second, true).unwrap();
        assert_eq!(read_mnemonic_file(&path).unwrap(), second);
    }

    #[test]
    fn passphrase_files_keep_spaces_and_drop_one_line_break() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("pass");
        std::fs::write(&path, " two words \n").unwrap();
        assert_eq!(read_passphrase_file(&path).unwrap(), " two words ");
        std::fs::write(&path, "x\r\n\n").unwrap();
        assert_eq!(read_passphrase_file(&path).unwrap(), "x\r\n");
        std::fs::write(&path, "").unwrap();
        assert_eq!(read_passphrase_file(&path).unwrap(), "");
        let err = read_passphrase_file(&tmp.path().join("none")).unwrap_err();
        assert!(matches!(err, MnemonicError::Read { .. }));
    }
}
