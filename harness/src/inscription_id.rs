//! Inscription ids as ord writes them: `<reveal txid>i<index>`.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// An inscription id, `<64 lowercase hex>i<n>`.
///
/// Parsing accepts upper- or lowercase hex (as ord's `Txid` parser does) and
/// displays lowercase, so a parsed id always prints in ord's canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InscriptionId {
    /// The txid in display (RPC) byte order.
    txid: [u8; 32],
    index: u32,
}

/// Why a string is not an inscription id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseIdError {
    /// The separator `i` is missing.
    #[error("inscription id has no `i` separator")]
    Separator,
    /// The txid part is not 64 hex digits.
    #[error("inscription id txid must be 64 hex digits")]
    Txid,
    /// The index part is not a decimal u32.
    #[error("inscription id index must be a decimal number")]
    Index,
}

impl InscriptionId {
    /// Builds an id from a txid in display byte order and an envelope index.
    pub fn new(txid: [u8; 32], index: u32) -> Self {
        Self { txid, index }
    }

    /// The txid in display byte order.
    pub fn txid(&self) -> [u8; 32] {
        self.txid
    }

    /// The envelope index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The txid as 64 lowercase hex digits.
    pub fn txid_hex(&self) -> String {
        hex(&self.txid)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

impl FromStr for InscriptionId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (txid, index) = s.split_once('i').ok_or(ParseIdError::Separator)?;
        if txid.len() != 64 {
            return Err(ParseIdError::Txid);
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in txid.as_bytes().chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16).ok_or(ParseIdError::Txid)?;
            let lo = (pair[1] as char).to_digit(16).ok_or(ParseIdError::Txid)?;
            // Both digits are < 16, so the value fits in a byte.
            bytes[i] = (hi * 16 + lo) as u8;
        }
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseIdError::Index);
        }
        let index = index.parse().map_err(|_| ParseIdError::Index)?;
        Ok(Self { txid: bytes, index })
    }
}

impl fmt::Display for InscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}i{}", hex(&self.txid), self.index)
    }
}

impl Serialize for InscriptionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::{InscriptionId, ParseIdError};

    #[test]
    fn round_trips() {
        let s = "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799i0";
        let id: InscriptionId = s.parse().unwrap();
        assert_eq!(id.to_string(), s);
        assert_eq!(id.index(), 0);
        let upper: InscriptionId = s.to_uppercase().replace('I', "i").parse().unwrap();
        assert_eq!(upper, id);
    }

    #[test]
    fn rejects() {
        assert_eq!("abc".parse::<InscriptionId>(), Err(ParseIdError::Separator));
        assert_eq!("abi0".parse::<InscriptionId>(), Err(ParseIdError::Txid));
        let txid = "g".repeat(64);
        assert_eq!(
            format!("{txid}i0").parse::<InscriptionId>(),
            Err(ParseIdError::Txid)
        );
        let txid = "0".repeat(64);
        assert_eq!(
            format!("{txid}i").parse::<InscriptionId>(),
            Err(ParseIdError::Index)
        );
        assert_eq!(
            format!("{txid}i+1").parse::<InscriptionId>(),
            Err(ParseIdError::Index)
        );
        assert!(format!("{txid}i7").parse::<InscriptionId>().is_ok());
    }
}
