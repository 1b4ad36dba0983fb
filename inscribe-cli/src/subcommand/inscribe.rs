//! `lumamesh inscribe`

use std::path::{Path, PathBuf};

use inscription::InscriptionId;
use onchain::{Content, ContentSummary, Stage};

use crate::onchain::{usage, OnchainArgs, Run};
use crate::UsageError;

/// Whether to brotli-compress the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compress {
    /// Brotli (quality 11, window 24, as ord) when it makes the body smaller.
    Auto,
    /// Inscribe the bytes as they are.
    Never,
}

#[derive(Debug, clap::Args)]
pub struct Inscribe {
    /// The file to inscribe (optional with --delegate: a delegate needs no body).
    #[arg(long, value_name = "FILE", required_unless_present = "delegate")]
    file: Option<PathBuf>,
    /// MIME type (default: from the file's extension, as ord guesses it).
    #[arg(long, value_name = "TYPE")]
    content_type: Option<String>,
    /// Brotli-compress the body when that makes it smaller.
    #[arg(long, value_enum, default_value_t = Compress::Auto)]
    compress: Compress,
    /// Metadata: a .cbor file inscribed as is, or a .json file converted to CBOR.
    #[arg(long, value_name = "FILE")]
    metadata: Option<PathBuf>,
    /// Parent inscription; the UTXO file must list it under "inscriptions" of a wallet
    /// output. Repeat for several parents.
    #[arg(long, value_name = "INSCRIPTION_ID")]
    parent: Vec<InscriptionId>,
    /// Metaprotocol name (tag 7).
    #[arg(long, value_name = "NAME")]
    metaprotocol: Option<String>,
    /// Delegate (tag 11): ord serves this id's content in place of the body.
    #[arg(long, value_name = "INSCRIPTION_ID")]
    delegate: Option<InscriptionId>,
    /// A note (tag 15, ignored by ord).
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    #[command(flatten)]
    onchain: OnchainArgs,
}

impl Inscribe {
    pub fn run(self) -> anyhow::Result<()> {
        let body = match &self.file {
            Some(file) => Some((file.display().to_string(), crate::input::read_file(file)?)),
            None => None,
        };
        let metadata = self.metadata.as_deref().map(read_metadata).transpose()?;
        let run = Run::open(self.onchain)?;
        let session = &run.session;
        let mut content = match body {
            Some((name, body)) => {
                let content_type = match &self.content_type {
                    Some(t) => t.clone(),
                    None => guess_content_type(Path::new(&name))?,
                };
                session
                    .content(&name, &content_type, body, self.compress == Compress::Auto)
                    .map_err(usage)?
            }
            // Only a delegate: no content type, no body, as ord writes one.
            None => Content::bodiless("(delegate only)"),
        };
        let mut inscription = content.inscription;
        if let Some(cbor) = metadata {
            inscription = inscription.with_metadata(cbor);
        }
        if let Some(m) = &self.metaprotocol {
            inscription = inscription.with_metaprotocol(m);
        }
        if let Some(d) = self.delegate {
            inscription = inscription.with_delegate(d);
        }
        if let Some(n) = &self.note {
            inscription = inscription.with_note(n);
        }
        content.inscription = inscription;
        let parents = self
            .parent
            .iter()
            .map(|p| session.parent(*p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(usage)?;
        let plan = session.plan(vec![content.inscription.clone()], parents);
        let prepared = session.prepare(&plan).map_err(usage)?;
        let stage = Stage {
            name: "",
            prepared,
            contents: vec![ContentSummary::of(&content)],
        };
        run.finish(vec![stage])
    }
}

/// The content type ord would pick for the file's extension.
fn guess_content_type(file: &Path) -> anyhow::Result<String> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    inscription::content_type_for_extension(&ext)
        .map(str::to_owned)
        .ok_or_else(|| {
            UsageError(format!(
                "{}: no content type known for extension {ext:?}; pass --content-type",
                file.display()
            ))
            .into()
        })
}

/// Metadata as CBOR: a `.cbor` file must already be one CBOR item; a `.json` file is
/// converted as ord converts its metadata documents ([`inscription::metadata_from_json`]).
pub fn read_metadata(path: &Path) -> anyhow::Result<Vec<u8>> {
    let name = path.display().to_string();
    let bytes = crate::input::read_file(path)?;
    let metadata = match path.extension().and_then(|e| e.to_str()) {
        Some("cbor") => inscription::metadata_from_cbor(&bytes),
        Some("json") => inscription::metadata_from_json(&bytes),
        _ => {
            return Err(
                UsageError(format!("{name}: metadata must be a .cbor or .json file")).into(),
            )
        }
    };
    metadata.map_err(|e| -> anyhow::Error {
        match e {
            inscription::MetadataError::NotJson { .. } => UsageError(format!("{name}:{e}")),
            inscription::MetadataError::NotCbor(_) => UsageError(format!("{name}: {e}")),
        }
        .into()
    })
}
