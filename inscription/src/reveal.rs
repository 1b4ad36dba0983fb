//! Reading a reveal transaction: from hex text or consensus bytes into the inscriptions
//! ord's indexer makes of it, each with its id and its envelope's curse.

use bitcoin::consensus::encode;
use bitcoin::{Transaction, Txid};

use crate::envelope::scan;
use crate::{Envelope, InscriptionId, ScriptError};

/// Why bytes are not a reveal transaction, or a transaction reveals nothing.
#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    /// Nothing but whitespace.
    #[error("empty input: expected a transaction in hex or raw consensus bytes")]
    Empty,
    /// Only hex digits, but not whole bytes of them.
    #[error("not a transaction in hex ({digits} hex digits)")]
    Hex {
        /// How many hex digits there were.
        digits: usize,
        /// What the hex decoder said.
        #[source]
        source: hex::FromHexError,
    },
    /// Hex digits that decode to bytes which are not a transaction.
    #[error("the hex decodes to bytes that are not a transaction")]
    HexNotTransaction(#[source] encode::Error),
    /// Neither hex nor a transaction's consensus bytes.
    #[error("not a transaction: neither hex nor raw consensus bytes")]
    NotTransaction(#[source] encode::Error),
    /// A whole transaction, then more bytes.
    #[error("{extra} bytes follow the transaction")]
    TrailingBytes {
        /// How many bytes are left over.
        extra: usize,
    },
    /// No input has a witness, so none can hold a tapscript.
    #[error("transaction {0} has no witness: a reveal spends a taproot script path")]
    NoWitness(Txid),
    /// No tapscript holds an envelope, and one of them does not even decode.
    #[error(
        "transaction {txid} holds no inscription: the tapscript of input {input} does not decode"
    )]
    UndecodableTapscript {
        /// The transaction.
        txid: Txid,
        /// The first input whose tapscript does not decode.
        input: u32,
        /// Where decoding stopped.
        #[source]
        source: ScriptError,
    },
    /// Witnesses, but no envelope in any tapscript.
    #[error(
        "transaction {0} holds no inscription: no input's tapscript (the witness element \
         before the control block) has an envelope `OP_FALSE OP_IF \"ord\" … OP_ENDIF`"
    )]
    NoEnvelopes(Txid),
}

/// Reads one transaction from hex text (whitespace around it ignored) or from its raw
/// consensus bytes; anything after the transaction is an error.
///
/// ```
/// let err = inscription::parse_transaction(b"0200\n").unwrap_err();
/// assert!(matches!(err, inscription::RevealError::HexNotTransaction(_)));
/// ```
pub fn parse_transaction(bytes: &[u8]) -> Result<Transaction, RevealError> {
    let text = bytes.trim_ascii();
    if text.is_empty() {
        return Err(RevealError::Empty);
    }
    // Raw transactions start with a version (02 00 00 00 …), never with hex digits only.
    if text.iter().all(u8::is_ascii_hexdigit) {
        let raw = hex::decode(text).map_err(|source| RevealError::Hex {
            digits: text.len(),
            source,
        })?;
        return decode(&raw).map_err(|e| match e {
            Decoded::Bad(e) => RevealError::HexNotTransaction(e),
            Decoded::Trailing(extra) => RevealError::TrailingBytes { extra },
        });
    }
    decode(bytes).map_err(|e| match e {
        Decoded::Bad(e) => RevealError::NotTransaction(e),
        Decoded::Trailing(extra) => RevealError::TrailingBytes { extra },
    })
}

enum Decoded {
    Bad(encode::Error),
    Trailing(usize),
}

fn decode(bytes: &[u8]) -> Result<Transaction, Decoded> {
    let (tx, used) = encode::deserialize_partial::<Transaction>(bytes).map_err(Decoded::Bad)?;
    match bytes.len() - used {
        0 => Ok(tx),
        extra => Err(Decoded::Trailing(extra)),
    }
}

/// A transaction that reveals at least one inscription, read as ord's indexer reads it:
/// envelope `n` (counted across inputs in order) is inscription `<txid>i<n>`.
///
/// ```
/// use inscription::{Inscription, Reveal, RevealError};
/// # use bitcoin::{absolute, transaction, OutPoint, ScriptBuf, Sequence, TxIn, Witness};
/// let leaf = Inscription::new("text/plain", b"hi".to_vec()).envelope_script();
/// let tx = bitcoin::Transaction {
///     version: transaction::Version::TWO,
///     lock_time: absolute::LockTime::ZERO,
///     input: vec![TxIn {
///         previous_output: OutPoint::null(),
///         script_sig: ScriptBuf::new(),
///         sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
///         witness: Witness::from_slice(&[vec![0; 64], leaf.into_bytes(), vec![0xc0; 33]]),
///     }],
///     output: vec![],
/// };
/// let reveal = Reveal::from_transaction(&tx).unwrap();
/// let (id, envelope) = reveal.inscriptions().next().unwrap();
/// assert_eq!(id.to_string(), format!("{}i0", tx.compute_txid()));
/// assert_eq!(envelope.inscription.body(), b"hi");
/// assert_eq!(envelope.curse(), None);
///
/// let mut bare = tx.clone();
/// bare.input[0].witness = Witness::new();
/// assert!(matches!(Reveal::from_transaction(&bare), Err(RevealError::NoWitness(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reveal {
    txid: Txid,
    envelopes: Vec<Envelope>,
}

impl Reveal {
    /// Every envelope of `tx` (see [`Envelope::from_transaction`]); an error names why
    /// there is none.
    pub fn from_transaction(tx: &Transaction) -> Result<Self, RevealError> {
        let txid = tx.compute_txid();
        let scan = scan(tx);
        if !scan.envelopes.is_empty() {
            return Ok(Self {
                txid,
                envelopes: scan.envelopes,
            });
        }
        Err(match scan.undecodable {
            _ if !scan.witnessed => RevealError::NoWitness(txid),
            Some((input, source)) => RevealError::UndecodableTapscript {
                txid,
                input,
                source,
            },
            None => RevealError::NoEnvelopes(txid),
        })
    }

    /// [`parse_transaction`], then [`Reveal::from_transaction`].
    pub fn parse(bytes: &[u8]) -> Result<(Transaction, Self), RevealError> {
        let tx = parse_transaction(bytes)?;
        let reveal = Self::from_transaction(&tx)?;
        Ok((tx, reveal))
    }

    /// The reveal transaction's id.
    pub fn txid(&self) -> Txid {
        self.txid
    }

    /// Every envelope, in id order; never empty.
    pub fn envelopes(&self) -> &[Envelope] {
        &self.envelopes
    }

    /// Each inscription's id with its envelope, in id order.
    pub fn inscriptions(&self) -> impl Iterator<Item = (InscriptionId, &Envelope)> + '_ {
        self.envelopes
            .iter()
            .enumerate()
            .map(|(n, envelope)| (Envelope::id(self.txid, n), envelope))
    }

    /// The ids `<txid>i0`, `<txid>i1`, …
    pub fn ids(&self) -> Vec<InscriptionId> {
        self.inscriptions().map(|(id, _)| id).collect()
    }
}
