//! `lumamesh inspect`

use std::fmt;
use std::path::Path;

use bitcoin::Transaction;
use harness::server::{LoadError, Store};
use inscription::{
    decompress_brotli_limited, parse_transaction, CompressError, Curse, Envelope, InscriptionId,
    MAX_DECOMPRESSED,
};

use crate::{output, UsageError};

#[derive(Debug, clap::Args)]
pub struct Inspect {
    /// A transaction as hex, or a file holding one (hex text or raw bytes).
    #[arg(value_name = "TX_HEX|FILE")]
    transaction: String,
    /// Decode a `br` body only up to this many bytes (larger ones are reported, not
    /// decoded): a few kilobytes of brotli can decode to gigabytes.
    #[arg(long, value_name = "BYTES", default_value_t = MAX_DECOMPRESSED)]
    max_decoded: usize,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Output {
    txid: String,
    inputs: usize,
    outputs: usize,
    vsize: usize,
    inscriptions: Vec<Found>,
}

#[derive(Debug, serde::Serialize)]
struct Found {
    id: InscriptionId,
    input: u32,
    offset: u32,
    content_type: Option<String>,
    content_encoding: Option<String>,
    /// Bytes of the body as inscribed.
    body_bytes: usize,
    /// Bytes once the content encoding is undone (when it is `br` and decodes).
    decoded_bytes: Option<usize>,
    /// Why a `br` body was not decoded (not brotli, or past --max-decoded).
    #[serde(skip_serializing_if = "Option::is_none")]
    decode_error: Option<String>,
    metaprotocol: Option<String>,
    parents: Vec<InscriptionId>,
    delegate: Option<InscriptionId>,
    pointer: Option<u64>,
    /// CBOR metadata, hex.
    metadata: Option<String>,
    note: Option<String>,
    /// What ord's indexer holds against it (vindicated after the jubilee).
    curse: Option<Curse>,
    unbound: bool,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "transaction {} ({} inputs, {} outputs, {} vB): {} inscription{}",
            self.txid,
            self.inputs,
            self.outputs,
            self.vsize,
            self.inscriptions.len(),
            if self.inscriptions.len() == 1 {
                ""
            } else {
                "s"
            }
        )?;
        for i in &self.inscriptions {
            writeln!(f, "{}", i.id)?;
            let ct = i.content_type.as_deref().unwrap_or("(none)");
            write!(f, "  content   {ct}, {} B", i.body_bytes)?;
            if let Some(enc) = &i.content_encoding {
                write!(f, " {enc}")?;
                if let Some(n) = i.decoded_bytes {
                    write!(f, " ({n} B decoded)")?;
                }
                if let Some(e) = &i.decode_error {
                    write!(f, " (not decoded: {e})")?;
                }
            }
            writeln!(f)?;
            writeln!(f, "  input     {} offset {}", i.input, i.offset)?;
            for p in &i.parents {
                writeln!(f, "  parent    {p}")?;
            }
            if let Some(d) = &i.delegate {
                writeln!(f, "  delegate  {d}")?;
            }
            if let Some(p) = i.pointer {
                writeln!(f, "  pointer   {p}")?;
            }
            if let Some(m) = &i.metaprotocol {
                writeln!(f, "  protocol  {m}")?;
            }
            if let Some(m) = &i.metadata {
                writeln!(f, "  metadata  {} B CBOR", m.len() / 2)?;
            }
            if let Some(n) = &i.note {
                writeln!(f, "  note      {n}")?;
            }
            if let Some(c) = i.curse {
                let after = if i.unbound {
                    " (unbound: bound to no sat, even after the jubilee)"
                } else {
                    " (vindicated after the jubilee: an ordinary inscription today)"
                };
                writeln!(f, "  curse     {c}{after}")?;
            }
        }
        Ok(())
    }
}

impl Inspect {
    pub fn run(self) -> anyhow::Result<()> {
        let tx = read_transaction(&self.transaction)?;
        let txid = tx.compute_txid();
        let inscriptions = Envelope::from_transaction(&tx)
            .into_iter()
            .enumerate()
            .map(|(n, e)| {
                let i = &e.inscription;
                let (decoded_bytes, decode_error) = match i.content_encoding() {
                    Some("br") => match decompress_brotli_limited(i.body(), self.max_decoded) {
                        Ok(body) => (Some(body.len()), None),
                        Err(CompressError::TooLarge { limit }) => (
                            None,
                            Some(format!(
                                "decodes to more than {limit} B, past --max-decoded; stopped there"
                            )),
                        ),
                        Err(e) => (None, Some(e.to_string())),
                    },
                    _ => (None, None),
                };
                let text = |v: &Option<Vec<u8>>| {
                    v.as_deref()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                };
                Found {
                    id: Envelope::id(txid, n),
                    input: e.input,
                    offset: e.offset,
                    content_type: text(&i.content_type),
                    content_encoding: text(&i.content_encoding),
                    body_bytes: i.body().len(),
                    decoded_bytes,
                    decode_error,
                    metaprotocol: text(&i.metaprotocol),
                    parents: i.parent_ids(),
                    delegate: i.delegate_id(),
                    pointer: i.pointer(),
                    metadata: i.metadata.as_deref().map(hex::encode),
                    note: text(&i.note),
                    curse: e.curse(),
                    unbound: e.unbound(),
                }
            })
            .collect();
        output::print(
            self.json,
            &Output {
                txid: txid.to_string(),
                inputs: tx.input.len(),
                outputs: tx.output.len(),
                vsize: tx.vsize(),
                inscriptions,
            },
        )
    }
}

/// A transaction from an argument: hex, or a file of hex text or raw consensus bytes
/// ([`inscription::parse_transaction`]) no larger than any transaction's hex can be
/// ([`Store::MAX_TRANSACTION_FILE`]).
fn read_transaction(arg: &str) -> anyhow::Result<Transaction> {
    let hex = arg.trim();
    let (name, bytes) = if Path::new(arg).is_file() {
        let bytes =
            Store::read_file_limited(Path::new(arg), Store::MAX_TRANSACTION_FILE, "a transaction")
                .map_err(|e| match e {
                    LoadError::TooLarge { .. } => UsageError(e.to_string()).into(),
                    e => anyhow::Error::new(e),
                })?;
        (arg, bytes)
    } else if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        ("the argument", hex.as_bytes().to_vec())
    } else {
        return Err(UsageError(format!(
            "{arg:.40}: neither a file nor a transaction in hex"
        ))
        .into());
    };
    parse_transaction(&bytes).map_err(|e| {
        anyhow::Error::new(e).context(UsageError(format!("{name} is not a transaction")))
    })
}
