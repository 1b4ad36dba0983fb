//! Funding UTXOs, loaded from a JSON file such as `bitcoin-cli listunspent` prints.
//!
//! The file is an array of objects. Each has `txid`, `vout`, its value as `value` (integer
//! satoshis) or `amount` (a BTC decimal, converted exactly: a non-zero digit past the eighth
//! decimal is refused), and `address` and/or `scriptPubKey` (hex). `inscriptions`, a list of
//! inscription ids (`<txid>i<n>`), says what the output carries: a non-empty list means it is
//! never spent as fees, and the field present at all (even `[]`) means the user vouches the
//! list is complete ([`Checked::File`]). Without it the output is [`Checked::No`], and
//! [`crate::policy`] keeps it from fees if it is small enough to be an inscription's postage.
//! Other fields are ignored, so `listunspent` output loads as is.
//!
//! Every error names the file, the entry (counted from 0) and the field.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use bitcoin::hashes::hex::FromHex;
use bitcoin::{Amount, Network, OutPoint, ScriptBuf, TxOut, Txid};
use serde_json::value::RawValue;

use super::network::{check_address, AddressError};

/// The most satoshis any output can hold (21 million BTC).
const MAX_MONEY: u64 = 21_000_000 * 100_000_000;

/// An output the wallet may spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utxo {
    /// The transaction output's id.
    pub outpoint: OutPoint,
    /// Its value.
    pub value: Amount,
    /// Its output script.
    pub script_pubkey: ScriptBuf,
    /// Inscription ids (`<txid>i<n>`) it carries; non-empty means: never spend as fees.
    pub inscriptions: Vec<String>,
    /// Runes an ord server reports on it (spaced names); non-empty means: never spend as fees.
    pub runes: Vec<String>,
    /// Who said `inscriptions` is the whole list (an empty one then means "none").
    pub checked: Checked,
}

/// Who vouched for what a UTXO carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Checked {
    /// Nobody: a node's output, or a file entry without an `"inscriptions"` field.
    No,
    /// The UTXO file listed `"inscriptions"` (perhaps `[]`): the user vouches for it.
    File,
    /// An ord server that has indexed the output (`--ord-url`).
    Ord,
}

impl Utxo {
    /// Whether the output carries inscriptions (and so must not fund fees).
    pub fn is_inscribed(&self) -> bool {
        !self.inscriptions.is_empty()
    }

    /// The output, as a transaction input's prevout.
    pub fn txout(&self) -> TxOut {
        TxOut {
            value: self.value,
            script_pubkey: self.script_pubkey.clone(),
        }
    }
}

/// A UTXO file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UtxoError {
    /// The file could not be read.
    #[error("{file}: {error}")]
    Read { file: String, error: std::io::Error },
    /// Not JSON, or not an array at the top.
    #[error("{file}: {reason}")]
    Json { file: String, reason: String },
    /// One entry is wrong.
    #[error("{file}: entry {index}: {error}")]
    Entry {
        file: String,
        /// The entry's position in the array, from 0.
        index: usize,
        error: Box<EntryError>,
    },
}

/// What is wrong with one entry of a UTXO file.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The entry is not a JSON object.
    #[error("not a JSON object")]
    NotObject,
    /// A required field is absent (or null).
    #[error("field {field:?}: missing")]
    Missing { field: &'static str },
    /// A field has a value of the wrong kind or range.
    #[error("field {field:?}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Neither `value` nor `amount`.
    #[error("needs \"value\" (integer satoshis) or \"amount\" (BTC)")]
    NoValue,
    /// `value` and `amount` disagree.
    #[error("field \"amount\": {amount} disagrees with \"value\" {value}")]
    ValueMismatch { value: Amount, amount: Amount },
    /// Neither `address` nor `scriptPubKey`.
    #[error("needs \"address\" or \"scriptPubKey\"")]
    NoScript,
    /// `address` is not one for the network.
    #[error("field \"address\": {0}")]
    Address(AddressError),
    /// `scriptPubKey` is not the address's script.
    #[error("field \"scriptPubKey\": {script_pubkey} is not the script of {address} ({expected})")]
    ScriptMismatch {
        script_pubkey: String,
        address: String,
        expected: String,
    },
    /// The same outpoint twice.
    #[error("outpoint {outpoint} is listed twice (also entry {first})")]
    Duplicate { outpoint: OutPoint, first: usize },
}

impl EntryError {
    /// The field the error is about, if one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            EntryError::Missing { field } | EntryError::Invalid { field, .. } => Some(field),
            EntryError::ValueMismatch { .. } => Some("amount"),
            EntryError::Address(_) => Some("address"),
            EntryError::ScriptMismatch { .. } => Some("scriptPubKey"),
            _ => None,
        }
    }
}

/// Reads and checks a UTXO file for `network` (see the module documentation).
pub fn load_utxos(path: &Path, network: Network) -> Result<Vec<Utxo>, UtxoError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| UtxoError::Read {
        file: file.clone(),
        error,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| UtxoError::Json {
        file: file.clone(),
        reason: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })?;
    parse_utxos(&text, &file, network)
}

/// Parses and checks UTXO JSON; `file` names it in errors.
pub fn parse_utxos(text: &str, file: &str, network: Network) -> Result<Vec<Utxo>, UtxoError> {
    let entries: Vec<Box<RawValue>> = serde_json::from_str(text).map_err(|e| UtxoError::Json {
        file: file.to_owned(),
        reason: if e.classify() == serde_json::error::Category::Data {
            "expected a JSON array of UTXO objects (as `bitcoin-cli listunspent` prints)".into()
        } else {
            format!("not valid JSON: {e}")
        },
    })?;
    let mut seen: HashMap<OutPoint, usize> = HashMap::with_capacity(entries.len());
    let mut utxos = Vec::with_capacity(entries.len());
    for (index, raw) in entries.iter().enumerate() {
        let entry_error = |error| UtxoError::Entry {
            file: file.to_owned(),
            index,
            error: Box::new(error),
        };
        let utxo = parse_entry(raw, network).map_err(entry_error)?;
        if let Some(&first) = seen.get(&utxo.outpoint) {
            return Err(entry_error(EntryError::Duplicate {
                outpoint: utxo.outpoint,
                first,
            }));
        }
        seen.insert(utxo.outpoint, index);
        utxos.push(utxo);
    }
    Ok(utxos)
}

/// One entry's fields, as raw JSON (null fields dropped: null counts as absent).
struct Fields(BTreeMap<String, Box<RawValue>>);

impl Fields {
    fn get(&self, field: &'static str) -> Option<&str> {
        self.0.get(field).map(|v| v.get()).filter(|v| *v != "null")
    }

    fn require(&self, field: &'static str) -> Result<&str, EntryError> {
        self.get(field).ok_or(EntryError::Missing { field })
    }

    fn string(&self, field: &'static str) -> Result<Option<String>, EntryError> {
        self.get(field)
            .map(|raw| {
                serde_json::from_str::<String>(raw).map_err(|_| invalid(field, "a string", raw))
            })
            .transpose()
    }
}

fn invalid(field: &'static str, expected: &str, raw: &str) -> EntryError {
    let shown: String = raw.chars().take(40).collect();
    let ellipsis = if shown.len() < raw.len() { "…" } else { "" };
    EntryError::Invalid {
        field,
        reason: format!("expected {expected}, found {shown}{ellipsis}"),
    }
}

fn parse_entry(raw: &RawValue, network: Network) -> Result<Utxo, EntryError> {
    let fields = Fields(serde_json::from_str(raw.get()).map_err(|_| EntryError::NotObject)?);

    let txid_text = fields
        .string("txid")?
        .ok_or(EntryError::Missing { field: "txid" })?;
    let txid: Txid = txid_text.parse().map_err(|_| {
        invalid(
            "txid",
            "64 hex digits",
            fields.get("txid").unwrap_or_default(),
        )
    })?;
    let vout_raw = fields.require("vout")?;
    let vout: u32 = serde_json::from_str(vout_raw)
        .map_err(|_| invalid("vout", "an integer from 0 to 4294967295", vout_raw))?;

    let value = fields
        .get("value")
        .map(|raw| {
            serde_json::from_str::<u64>(raw)
                .ok()
                .filter(|sats| *sats <= MAX_MONEY)
                .map(Amount::from_sat)
                .ok_or_else(|| {
                    invalid("value", "an integer number of satoshis, at most 21e14", raw)
                })
        })
        .transpose()?;
    let amount = fields
        .get("amount")
        .map(|raw| {
            parse_btc(raw).map_err(|reason| EntryError::Invalid {
                field: "amount",
                reason,
            })
        })
        .transpose()?;
    let value = match (value, amount) {
        (Some(value), Some(amount)) if value != amount => {
            return Err(EntryError::ValueMismatch { value, amount })
        }
        (Some(value), _) | (None, Some(value)) => value,
        (None, None) => return Err(EntryError::NoValue),
    };

    let address = fields
        .string("address")?
        .map(|a| check_address(&a, network).map_err(EntryError::Address))
        .transpose()?;
    let script = fields
        .string("scriptPubKey")?
        .map(|hex| {
            Vec::<u8>::from_hex(&hex)
                .map(ScriptBuf::from_bytes)
                .map_err(|_| {
                    invalid(
                        "scriptPubKey",
                        "hex",
                        fields.get("scriptPubKey").unwrap_or_default(),
                    )
                })
        })
        .transpose()?;
    let script_pubkey = match (address, script) {
        (Some(address), Some(script)) => {
            let expected = address.script_pubkey();
            if expected != script {
                return Err(EntryError::ScriptMismatch {
                    script_pubkey: script.to_hex_string(),
                    address: address.to_string(),
                    expected: expected.to_hex_string(),
                });
            }
            script
        }
        (Some(address), None) => address.script_pubkey(),
        (None, Some(script)) => script,
        (None, None) => return Err(EntryError::NoScript),
    };

    let checked = match fields.get("inscriptions") {
        None => Checked::No,
        Some(_) => Checked::File,
    };
    let inscriptions = match fields.get("inscriptions") {
        None => Vec::new(),
        Some(raw) => {
            let ids: Vec<String> = serde_json::from_str(raw)
                .map_err(|_| invalid("inscriptions", "an array of inscription ids", raw))?;
            for id in &ids {
                if !is_inscription_id(id) {
                    return Err(EntryError::Invalid {
                        field: "inscriptions",
                        reason: format!("{id:?} is not an inscription id (<txid>i<n>)"),
                    });
                }
            }
            ids
        }
    };

    Ok(Utxo {
        outpoint: OutPoint { txid, vout },
        value,
        script_pubkey,
        inscriptions,
        runes: Vec::new(),
        checked,
    })
}

/// `<64 hex digits>i<decimal u32>`.
fn is_inscription_id(id: &str) -> bool {
    match id.split_once('i') {
        Some((txid, n)) => {
            txid.len() == 64
                && txid.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && n.parse::<u32>().is_ok()
        }
        None => false,
    }
}

/// Converts a JSON number in BTC to an exact [`Amount`]: `0.0001`, `1e-05`, `21000000`.
/// A non-zero digit below one satoshi, a negative number, or more than 21 million BTC is an
/// error (the message is the reason, for the "amount" field).
pub fn parse_btc(raw: &str) -> Result<Amount, String> {
    let bad = || format!("expected a BTC amount as a JSON number, found {raw}");
    let text = raw.trim();
    if text.starts_with('-') {
        return Err(format!("{text} is negative"));
    }
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (
            m,
            e.strip_prefix('+')
                .unwrap_or(e)
                .parse::<i32>()
                .map_err(|_| bad())?,
        ),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || !digits_ok(int)
        || !digits_ok(frac)
        || (mantissa.contains('.') && frac.is_empty())
    {
        return Err(bad());
    }
    // value = digits × 10^(exponent − frac.len()) BTC = digits × 10^scale sat.
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let scale = i64::from(exponent) - frac.len() as i64 + 8;
    let too_large = || format!("{text} BTC is more than 21 million");
    let sats: u64 = if digits.is_empty() {
        0
    } else if scale >= 0 {
        if digits.len() as i64 + scale > 16 {
            return Err(too_large());
        }
        digits.parse::<u64>().map_err(|_| bad())? * 10u64.pow(scale as u32)
    } else {
        let cut = (-scale) as usize;
        let (kept, dropped) = digits.split_at(digits.len().saturating_sub(cut));
        if dropped.bytes().any(|b| b != b'0') || cut > digits.len() {
            return Err(format!(
                "{text} BTC has more than 8 decimals (smaller than a satoshi)"
            ));
        }
        if kept.len() > 16 {
            return Err(too_large());
        }
        if kept.is_empty() {
            0
        } else {
            kept.parse::<u64>().map_err(|_| bad())?
        }
    };
    if sats > MAX_MONEY {
        return Err(too_large());
    }
    Ok(Amount::from_sat(sats))
}

#[cfg(test)]
mod tests;
