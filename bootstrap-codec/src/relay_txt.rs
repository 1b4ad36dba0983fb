//! relay.txt: one signed entry per line, base64url without padding.
//!
//! Blank lines and lines starting with `#` are ignored; an entry may be followed by
//! white space and a `#` comment.

use std::fmt;

use base64::Engine;

use crate::{DecodeError, RelayEntry};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

impl RelayEntry {
    /// The relay.txt text of this entry (base64url of [`RelayEntry::to_bytes`], no padding).
    pub fn to_line(&self) -> String {
        B64.encode(self.to_bytes())
    }

    /// Decodes one relay.txt token (no comment, no surrounding white space).
    pub fn from_line(token: &str) -> Result<Self, DecodeError> {
        let bytes = B64.decode(token).map_err(|_| DecodeError::NotBase64)?;
        // base64 decoders accept some non-canonical trailing bits; refuse them so that
        // every entry has exactly one text form.
        if B64.encode(&bytes) != token {
            return Err(DecodeError::NotBase64);
        }
        RelayEntry::decode(&bytes)
    }
}

/// A valid entry and the 1-based line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEntry {
    /// 1-based line number.
    pub line: usize,
    /// The verified entry.
    pub entry: RelayEntry,
}

/// A line that is not a valid entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    #[source]
    pub error: DecodeError,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

/// A parsed relay.txt: its valid entries and its bad lines, both in file order.
///
/// ```
/// use bootstrap_codec::RelayTxt;
///
/// let txt = RelayTxt::parse("# my relays\n\nnot-an-entry\n");
/// assert!(txt.entries.is_empty());
/// assert_eq!(txt.errors[0].line, 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayTxt {
    /// Entries that decoded and verified.
    pub entries: Vec<LineEntry>,
    /// Lines that did not.
    pub errors: Vec<LineError>,
}

/// The entry token of a line, or `None` for a blank or comment line.
fn token(line: &str) -> Option<&str> {
    let code = line.split('#').next().unwrap_or("").trim();
    (!code.is_empty()).then_some(code)
}

impl RelayTxt {
    /// Parses every line; never fails as a whole.
    pub fn parse(text: &str) -> Self {
        let mut txt = RelayTxt::default();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let Some(token) = token(line) else { continue };
            let token = match token.split_whitespace().collect::<Vec<_>>().as_slice() {
                [one] => *one,
                _ => {
                    txt.errors.push(LineError {
                        line: line_no,
                        error: DecodeError::NotBase64,
                    });
                    continue;
                }
            };
            match RelayEntry::from_line(token) {
                Ok(entry) => txt.entries.push(LineEntry {
                    line: line_no,
                    entry,
                }),
                Err(error) => txt.errors.push(LineError {
                    line: line_no,
                    error,
                }),
            }
        }
        txt
    }

    /// True if `entry` is already listed (byte-identical).
    pub fn contains(&self, entry: &RelayEntry) -> bool {
        self.entries.iter().any(|e| &e.entry == entry)
    }
}

/// Returns `text` with `entry`'s line appended, or `None` if an identical entry is already
/// there. Existing lines, comments and bad lines are kept as they are.
pub fn append_entry(text: &str, entry: &RelayEntry) -> Option<String> {
    let line = entry.to_line();
    if text.lines().filter_map(token).any(|t| t == line) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + line.len() + 2);
    out.push_str(text);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&line);
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU16;

    use super::*;
    use crate::{Field, Fingerprint, IcePwd, IceUfrag, NodeSecret, UnsignedEntry};

    fn sample(port: u16) -> RelayEntry {
        let secret = NodeSecret::from_seed(&[5; 32]);
        let fingerprint = Fingerprint::from_bytes([0x11; 32]);
        UnsignedEntry {
            address: "127.0.0.1".parse().unwrap(),
            port: NonZeroU16::new(port).unwrap(),
            fingerprint,
            ufrag: IceUfrag::default_relay(),
            pwd: IcePwd::derived(&secret.public(), &fingerprint),
        }
        .sign(&secret)
    }

    #[test]
    fn comments_blank_lines_and_errors() {
        let a = sample(3478);
        let b = sample(3479);
        let text = format!(
            "# relays\n\n{}  # first\n   \n{}\nAAAA\n{} extra\n",
            a.to_line(),
            b.to_line(),
            a.to_line()
        );
        let txt = RelayTxt::parse(&text);
        assert_eq!(
            txt.entries,
            vec![
                LineEntry {
                    line: 3,
                    entry: a.clone()
                },
                LineEntry { line: 5, entry: b }
            ]
        );
        assert_eq!(txt.errors.len(), 2);
        assert_eq!(txt.errors[0].line, 6);
        assert_eq!(txt.errors[0].error, DecodeError::UnknownVersion(0));
        assert_eq!(txt.errors[1].line, 7);
        assert!(txt.contains(&a));
    }

    #[test]
    fn non_canonical_base64_is_refused() {
        let line = sample(3478).to_line();
        // The last character carries 4 padding bits for a 136-byte entry; flip one.
        let mut chars: Vec<char> = line.chars().collect();
        let last = chars.last_mut().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.find(*last).unwrap();
        *last = alphabet.chars().nth(idx ^ 1).unwrap();
        let tweaked: String = chars.into_iter().collect();
        assert_eq!(
            RelayEntry::from_line(&tweaked).unwrap_err(),
            DecodeError::NotBase64
        );
        assert_eq!(
            RelayEntry::from_line("a+b").unwrap_err(),
            DecodeError::NotBase64
        );
    }

    #[test]
    fn tampered_line_names_field() {
        let mut bytes = sample(3478).to_bytes();
        bytes[6] ^= 0xFF; // first port byte
        let line = B64.encode(&bytes);
        let txt = RelayTxt::parse(&format!("\n{line}\n"));
        assert_eq!(txt.errors[0].line, 2);
        assert_eq!(txt.errors[0].error, DecodeError::BadSignature);
        assert!(txt.errors[0]
            .to_string()
            .starts_with("line 2: field `signature`"));
        bytes[6] = 0;
        bytes[7] = 0;
        let err = RelayEntry::decode(&bytes).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::Invalid {
                field: Field::Port,
                ..
            }
        ));
    }

    #[test]
    fn append_never_duplicates() {
        let a = sample(3478);
        let once = append_entry("# list", &a).unwrap();
        assert_eq!(once, format!("# list\n{}\n", a.to_line()));
        assert_eq!(append_entry(&once, &a), None);
        let twice = append_entry(&once, &sample(1)).unwrap();
        assert_eq!(RelayTxt::parse(&twice).entries.len(), 2);
    }
}
