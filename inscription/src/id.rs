//! Inscription ids: `<reveal txid>i<n>`, and their byte form in parent and delegate tags.

use std::fmt;
use std::str::FromStr;

use bitcoin::hashes::Hash;
use bitcoin::Txid;

/// An inscription id, `<64 hex txid>i<index>`: the reveal transaction and the envelope's
/// position among all envelopes of that transaction, counted across inputs in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InscriptionId {
    /// The reveal transaction.
    pub txid: Txid,
    /// The envelope's index in it.
    pub index: u32,
}

/// Why a string or tag value is not an inscription id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseIdError {
    /// No `i` between txid and index.
    #[error("{0:?} is not an inscription id: no `i` separator (expected <64 hex txid>i<n>)")]
    Separator(String),
    /// The txid part is not 64 hex digits.
    #[error("{0:?} is not an inscription id: the txid must be 64 hex digits")]
    Txid(String),
    /// The index is not a decimal u32.
    #[error("{0:?} is not an inscription id: the index must be a decimal number below 2^32")]
    Index(String),
    /// A tag value of the wrong length, or a short index ending in a zero byte.
    #[error("a parent or delegate value must be 32 txid bytes and a little-endian index of at most 4 bytes (no trailing zero byte unless 4 bytes), got {0} bytes")]
    Value(usize),
}

impl InscriptionId {
    /// Builds an id.
    pub fn new(txid: Txid, index: u32) -> Self {
        Self { txid, index }
    }

    /// The value of a parent or delegate tag: the txid's 32 bytes in internal order, then
    /// the index little-endian with trailing zero bytes removed (index 0 adds nothing).
    pub fn to_value(&self) -> Vec<u8> {
        let mut value = self.txid.to_byte_array().to_vec();
        let index = self.index.to_le_bytes();
        let len = 4 - index.iter().rev().take_while(|b| **b == 0).count();
        value.extend_from_slice(&index[..len]);
        value
    }

    /// Reads a parent or delegate tag value as ord does: 32 to 36 bytes; an index of one to
    /// three bytes must not end in a zero byte (variable length), while a four-byte index may
    /// (fixed length), so `…i0` also reads from 32 txid bytes and `00 00 00 00`.
    pub fn from_value(value: &[u8]) -> Result<Self, ParseIdError> {
        if !(32..=36).contains(&value.len()) {
            return Err(ParseIdError::Value(value.len()));
        }
        let (txid, index) = value.split_at(32);
        if index.len() != 4 && index.last() == Some(&0) {
            return Err(ParseIdError::Value(value.len()));
        }
        let txid = Txid::from_slice(txid).map_err(|_| ParseIdError::Value(value.len()))?;
        let mut le = [0u8; 4];
        le[..index.len()].copy_from_slice(index);
        Ok(Self::new(txid, u32::from_le_bytes(le)))
    }
}

/// Reads ids as ord's `InscriptionId::from_str` does: 64 hex digits (either case), `i`,
/// then whatever Rust's `u32` parser takes, so `…i007` and `…i+7` are `…i7` as in ord.
impl FromStr for InscriptionId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (txid, index) = s
            .split_once('i')
            .ok_or_else(|| ParseIdError::Separator(s.to_owned()))?;
        if txid.len() != 64 || !txid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseIdError::Txid(s.to_owned()));
        }
        let txid = txid.parse().map_err(|_| ParseIdError::Txid(s.to_owned()))?;
        let index = index
            .parse()
            .map_err(|_| ParseIdError::Index(s.to_owned()))?;
        Ok(Self::new(txid, index))
    }
}

impl fmt::Display for InscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}i{}", self.txid, self.index)
    }
}

impl serde::Serialize for InscriptionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for InscriptionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use bitcoin::hashes::Hash;
    use bitcoin::Txid;

    use super::{InscriptionId, ParseIdError};

    const TXID: &str = "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799";

    #[test]
    fn display_round_trips_and_lowercases() {
        let id: InscriptionId = format!("{TXID}i0").parse().unwrap();
        assert_eq!(id.to_string(), format!("{TXID}i0"));
        let upper: InscriptionId = format!("{}i12", TXID.to_uppercase()).parse().unwrap();
        assert_eq!(upper.to_string(), format!("{TXID}i12"));
    }

    #[test]
    fn bad_strings_are_refused() {
        assert!(matches!(
            "abc".parse::<InscriptionId>(),
            Err(ParseIdError::Separator(_))
        ));
        assert!(matches!(
            "abi0".parse::<InscriptionId>(),
            Err(ParseIdError::Txid(_))
        ));
        for index in ["", "-1", "1.0", " 1", "4294967296"] {
            let r = format!("{TXID}i{index}").parse::<InscriptionId>();
            assert!(matches!(r, Err(ParseIdError::Index(_))), "{index}");
        }
    }

    #[test]
    fn index_reads_like_ords_u32_parse() {
        // ord's FromStr hands the index to `u32::from_str`, which takes these.
        for (index, n) in [("01", 1), ("+1", 1), ("007", 7), ("4294967295", u32::MAX)] {
            let id: InscriptionId = format!("{TXID}i{index}").parse().unwrap();
            assert_eq!(id.index, n, "{index}");
            assert_eq!(id.to_string(), format!("{TXID}i{n}"));
        }
    }

    #[test]
    fn value_is_internal_txid_then_minimal_index() {
        let id: InscriptionId = format!("{TXID}i0").parse().unwrap();
        let value = id.to_value();
        assert_eq!(value.len(), 32);
        // Internal order is the display order reversed.
        assert_eq!(value[0], 0x99);
        assert_eq!(value[31], 0x6f);
        assert_eq!(InscriptionId::from_value(&value), Ok(id));

        let id = InscriptionId::new(id.txid, 0x0100);
        let value = id.to_value();
        assert_eq!(&value[32..], &[0x00, 0x01]);
        assert_eq!(InscriptionId::from_value(&value), Ok(id));
    }

    #[test]
    fn odd_values_are_refused() {
        let mut value = InscriptionId::new(TXID.parse().unwrap(), 1).to_value();
        value.push(0);
        assert!(InscriptionId::from_value(&value).is_err());
        assert!(InscriptionId::from_value(&value[..31]).is_err());
        assert!(InscriptionId::from_value(&[0; 37]).is_err());
        // A 2- or 3-byte index ending in zero is not variable-length minimal.
        value.push(0);
        assert!(InscriptionId::from_value(&value).is_err());
    }

    #[test]
    fn fixed_length_index_may_end_in_zero() {
        // ord's `inscription_with_parent_field_index_with_trailing_zeroes_and_fixed_length_has_parent`
        // and `inscription_parent_returns_multiple_parents`.
        let txid: Txid = TXID.parse().unwrap();
        let mut value = txid.to_byte_array().to_vec();
        value.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            InscriptionId::from_value(&value),
            Ok(InscriptionId::new(txid, 0))
        );
        value.truncate(32);
        value.extend_from_slice(&[0x00, 0x02, 0x03, 0x04]);
        assert_eq!(
            InscriptionId::from_value(&value),
            Ok(InscriptionId::new(txid, 67_305_984))
        );
    }
}
