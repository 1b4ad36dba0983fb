//! The relay's DTLS certificate fingerprint.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// SHA-256 of a DER certificate: what the browser checks during the DTLS handshake.
///
/// Displays as upper-case colon-separated hex (`AB:CD:…`), the form SDP uses after
/// `a=fingerprint:sha-256 `.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// Length of the digest in bytes.
    pub const LEN: usize = 32;

    /// Wraps a SHA-256 digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Fingerprint(bytes)
    }

    /// Computes the fingerprint of a DER-encoded certificate.
    pub fn of_certificate(der: &[u8]) -> Self {
        Fingerprint(Sha256::digest(der).into())
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Error for a fingerprint string that is not 32 colon-separated hex bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a fingerprint is 32 colon-separated hex bytes (AB:CD:…)")]
pub struct ParseFingerprintError;

impl FromStr for Fingerprint {
    type Err = ParseFingerprintError;

    /// Parses `AB:CD:…` (either case), optionally prefixed by `sha-256 `.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("sha-256 ").unwrap_or(s);
        let mut out = [0u8; 32];
        let mut parts = s.split(':');
        for byte in out.iter_mut() {
            let part = parts.next().ok_or(ParseFingerprintError)?;
            if part.len() != 2 {
                return Err(ParseFingerprintError);
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| ParseFingerprintError)?;
        }
        if parts.next().is_some() {
            return Err(ParseFingerprintError);
        }
        Ok(Fingerprint(out))
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_parse_round_trip() {
        let fp = Fingerprint::from_bytes(std::array::from_fn(|i| (i * 7) as u8));
        let text = fp.to_string();
        assert_eq!(text.len(), 32 * 3 - 1);
        assert!(text.starts_with("00:07:0E:15"));
        assert_eq!(text.parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(
            format!("sha-256 {text}").parse::<Fingerprint>().unwrap(),
            fp
        );
        assert_eq!(text.to_lowercase().parse::<Fingerprint>().unwrap(), fp);
    }

    #[test]
    fn rejects_malformed() {
        assert!("".parse::<Fingerprint>().is_err());
        assert!("AB:CD".parse::<Fingerprint>().is_err());
        let long = vec!["AB"; 33].join(":");
        assert!(long.parse::<Fingerprint>().is_err());
        let bad = vec!["G0"; 32].join(":");
        assert!(bad.parse::<Fingerprint>().is_err());
    }

    #[test]
    fn digest_of_certificate() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        let fp = Fingerprint::of_certificate(b"abc");
        assert!(fp.to_string().starts_with("BA:78:16:BF:8F:01:CF:EA"));
    }
}
