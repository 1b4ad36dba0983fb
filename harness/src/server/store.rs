//! The in-memory inscription store and its folder format.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use bitcoin::{OutPoint, TxOut};
use bytes::Bytes;
use inscription::Curse;

use crate::InscriptionId;

/// One inscription as the content server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inscription {
    pub(super) content_type: Option<String>,
    pub(super) content_encoding: Option<String>,
    /// `None` when the envelope has no body separator: ord answers 404 for its content.
    pub(super) body: Option<Bytes>,
    pub(super) metadata: Option<Vec<u8>>,
    pub(super) parents: Vec<InscriptionId>,
    pub(super) delegate: Option<InscriptionId>,
    pub(super) curse: Option<Curse>,
    pub(super) unbound: bool,
    /// Where ord's index puts it, for an inscription read from a reveal transaction.
    pub(super) revealed: Option<Revealed>,
}

/// What ord's index records for an inscription revealed by a transaction the store read
/// (ord's `index/updater/inscription_updater.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Revealed {
    /// Where it sits now.
    pub(super) place: Place,
    /// The reveal's fee split evenly between its inscriptions; `None` unless the value of
    /// every input the reveal spends is known.
    pub(super) fee: Option<u64>,
    /// It landed on a sat that already held an inscription (ord's `reinscription` charm).
    pub(super) reinscription: bool,
    /// ord's `Curse::Reinscription`: otherwise blessed, but its input's first sat already
    /// held an inscription that was not cursed (or more than one).
    pub(super) reinscription_curse: bool,
}

/// Where an inscription sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// `offset` sats into this output, whose value and script are known.
    Output {
        /// The output.
        outpoint: OutPoint,
        /// Sats before it in that output.
        offset: u64,
        /// The output itself.
        txout: TxOut,
    },
    /// ord's unbound outpoint (all-zero txid, vout 0); the number says how many unbound
    /// inscriptions came before it.
    Unbound(u64),
    /// Not known here: it went to the fee (ord moves it into the block's coinbase), or an
    /// earlier input of the transaction has a value the store does not know.
    Unknown,
}

/// What [`Inscription::body`] returns for an inscription without a body.
static EMPTY: Bytes = Bytes::new();

impl Inscription {
    /// An inscription with a content type and an unencoded body.
    pub fn new(content_type: impl Into<String>, body: impl Into<Bytes>) -> Self {
        Self {
            content_type: Some(content_type.into()),
            content_encoding: None,
            body: Some(body.into()),
            metadata: None,
            parents: Vec::new(),
            delegate: None,
            curse: None,
            unbound: false,
            revealed: None,
        }
    }

    /// An inscription without a content type (served as `application/octet-stream`).
    pub fn untyped(body: impl Into<Bytes>) -> Self {
        Self {
            content_type: None,
            ..Self::new("", body)
        }
    }

    /// An inscription that only delegates (tag 11): no content type, no body; ord serves
    /// the delegate's content for `/content/<id>` and `/preview/<id>`.
    pub fn delegating(delegate: InscriptionId) -> Self {
        Self {
            content_type: None,
            body: None,
            ..Self::new("", Bytes::new())
        }
        .with_delegate(delegate)
    }

    /// The inscription ord's server would show for an envelope read from a reveal: every
    /// field as ord reads it (a content type or encoding that is not UTF-8 counts as
    /// absent or empty, as in ord), malformed parent and delegate values dropped, and the
    /// curse ord's indexer would give it.
    pub fn from_envelope(envelope: &inscription::Envelope) -> Self {
        let fields = &envelope.inscription;
        Self {
            content_type: fields.content_type().map(str::to_owned),
            // ord: `HeaderValue::from_str(from_utf8(..).unwrap_or_default()).ok()`.
            content_encoding: fields
                .content_encoding
                .as_ref()
                .map(|_| fields.content_encoding().unwrap_or_default().to_owned())
                .filter(|e| hyper::header::HeaderValue::from_str(e).is_ok()),
            body: fields.body.clone().map(Bytes::from),
            metadata: fields.metadata.clone(),
            parents: fields.parent_ids(),
            delegate: fields.delegate_id(),
            curse: envelope.curse(),
            unbound: envelope.unbound(),
            revealed: None,
        }
    }

    /// An inscription whose `body` is brotli-compressed here the way ord does it
    /// (quality 11, lgwin 24) and stored with content encoding `br`.
    pub fn brotli(content_type: impl Into<String>, body: &[u8]) -> Self {
        Self::new(content_type, compress_brotli(body)).with_content_encoding("br")
    }

    /// Sets the content encoding (tag 9); the body must already be encoded.
    pub fn with_content_encoding(mut self, encoding: impl Into<String>) -> Self {
        self.content_encoding = Some(encoding.into());
        self
    }

    /// Sets the raw CBOR metadata (tag 5).
    pub fn with_metadata(mut self, cbor: impl Into<Vec<u8>>) -> Self {
        self.metadata = Some(cbor.into());
        self
    }

    /// Adds a parent (tag 3).
    pub fn with_parent(mut self, parent: InscriptionId) -> Self {
        self.parents.push(parent);
        self
    }

    /// Sets the delegate (tag 11): `/content/<id>` and `/preview/<id>` serve the
    /// delegate's content (404 if the store lacks it), `/r/undelegated-content/<id>`
    /// this inscription's own.
    pub fn with_delegate(mut self, delegate: InscriptionId) -> Self {
        self.delegate = Some(delegate);
        self
    }

    /// Records the curse ord's indexer would give it (shown as a charm by
    /// `/r/inscription/<id>`).
    pub fn with_curse(mut self, curse: Curse) -> Self {
        self.curse = Some(curse);
        self
    }

    /// The content type, if the inscription has one.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The content encoding, if any.
    pub fn content_encoding(&self) -> Option<&str> {
        self.content_encoding.as_deref()
    }

    /// The body as stored (still encoded when a content encoding is set); empty when the
    /// inscription has none (see [`Inscription::has_body`]).
    pub fn body(&self) -> &Bytes {
        self.body.as_ref().unwrap_or(&EMPTY)
    }

    /// Whether the envelope had a body at all (ord answers 404 for content without one).
    pub fn has_body(&self) -> bool {
        self.body.is_some()
    }

    /// The raw CBOR metadata, if any.
    pub fn metadata(&self) -> Option<&[u8]> {
        self.metadata.as_deref()
    }

    /// The parents, in envelope order.
    pub fn parents(&self) -> &[InscriptionId] {
        &self.parents
    }

    /// The delegate, if any.
    pub fn delegate(&self) -> Option<InscriptionId> {
        self.delegate
    }

    /// The curse ord's indexer would give it, if any.
    pub fn curse(&self) -> Option<Curse> {
        self.curse
    }

    /// Whether ord binds it to no sat: an unknown even field, or (for an inscription read
    /// from a reveal whose spent values are known) an input worth nothing.
    pub fn unbound(&self) -> bool {
        self.unbound || matches!(self.place(), Some(Place::Unbound(_)))
    }

    /// Whether ord's indexer curses it (before the jubilee) or vindicates it (after): a
    /// curse from its envelope, or a reinscription curse from where it landed.
    pub(super) fn cursed(&self) -> bool {
        self.curse.is_some()
            || self
                .revealed
                .as_ref()
                .is_some_and(|revealed| revealed.reinscription_curse)
    }

    /// Where ord's index puts it, if it was read from a reveal transaction.
    pub(super) fn place(&self) -> Option<&Place> {
        self.revealed.as_ref().map(|revealed| &revealed.place)
    }
}

/// Compresses with the parameters ord's `inscribe` uses.
pub fn compress_brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 24);
        // Writing into a Vec cannot fail.
        writer.write_all(body).expect("write to Vec");
    }
    out
}

/// Why a store folder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The folder or one of its files could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A sidecar file is malformed.
    #[error("bad sidecar {path}: {reason}")]
    Sidecar {
        /// The sidecar file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Two body files claim the same inscription id.
    #[error("two bodies for inscription {0}")]
    Duplicate(InscriptionId),
    /// A reveal transaction file does not hold a transaction, or one without inscriptions.
    #[error("{path}: {reason}")]
    Reveal {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Inscriptions by id, in insertion order of their numbers.
#[derive(Clone, Debug, Default)]
pub struct Store {
    pub(super) entries: BTreeMap<InscriptionId, (u64, Inscription)>,
    next_number: u64,
    /// Outputs of the transactions read so far (reveals, commits, given prevouts): the
    /// values later reveals spend.
    pub(super) outputs: BTreeMap<OutPoint, TxOut>,
    /// How many inscriptions sit at ord's unbound outpoint.
    pub(super) unbound_count: u64,
}

const SIDECARS: [&str; 4] = ["type", "encoding", "metadata", "parents"];

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an inscription; a new id gets the next inscription number.
    pub fn insert(&mut self, id: InscriptionId, inscription: Inscription) {
        let number = match self.entries.get(&id) {
            Some((number, _)) => *number,
            None => {
                self.next_number += 1;
                self.next_number - 1
            }
        };
        self.entries.insert(id, (number, inscription));
    }

    /// The inscription with this id.
    pub fn get(&self, id: &InscriptionId) -> Option<&Inscription> {
        self.entries.get(id).map(|(_, inscription)| inscription)
    }

    /// The inscription number (0, 1, 2, … in insertion order).
    pub fn number(&self, id: &InscriptionId) -> Option<u64> {
        self.entries.get(id).map(|(number, _)| *number)
    }

    /// The children of `parent`, ordered by inscription number.
    pub fn children(&self, parent: &InscriptionId) -> Vec<InscriptionId> {
        let mut children: Vec<(u64, InscriptionId)> = self
            .entries
            .iter()
            .filter(|(_, (_, inscription))| inscription.parents.contains(parent))
            .map(|(id, (number, _))| (*number, *id))
            .collect();
        children.sort();
        children.into_iter().map(|(_, id)| id).collect()
    }

    /// Every inscription with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&InscriptionId, &Inscription)> + '_ {
        self.entries
            .iter()
            .map(|(id, (_, inscription))| (id, inscription))
    }

    /// Number of inscriptions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Loads a folder in the format described in the crate README: a body file
    /// `<id>` or `<id>.<ext>` per inscription, plus optional sidecars
    /// `<id>.type`, `<id>.encoding`, `<id>.metadata` and `<id>.parents`.
    /// Files whose name does not start with an inscription id are ignored.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self, LoadError> {
        let dir = dir.as_ref();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LoadError::Io { path, source }
        };
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()
            .map_err(io(dir))?;
        names.sort();

        let mut bodies: BTreeMap<InscriptionId, (PathBuf, Option<String>)> = BTreeMap::new();
        for name in &names {
            let (stem, ext) = match name.split_once('.') {
                Some((stem, ext)) => (stem, Some(ext)),
                None => (name.as_str(), None),
            };
            let Ok(id) = stem.parse::<InscriptionId>() else {
                continue;
            };
            if ext.is_some_and(|ext| SIDECARS.contains(&ext)) {
                continue;
            }
            let ext = ext.map(str::to_ascii_lowercase);
            if bodies.insert(id, (dir.join(name), ext)).is_some() {
                return Err(LoadError::Duplicate(id));
            }
        }

        let mut store = Self::new();
        for (id, (path, ext)) in bodies {
            let body = std::fs::read(&path).map_err(io(&path))?;
            let sidecar = |kind: &str| -> Result<Option<(PathBuf, Vec<u8>)>, LoadError> {
                let path = dir.join(format!("{id}.{kind}"));
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some((path, bytes))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(LoadError::Io { path, source }),
                }
            };
            let line = |path: &Path, bytes: Vec<u8>| -> Result<String, LoadError> {
                String::from_utf8(bytes)
                    .map(|s| s.trim_end_matches(['\r', '\n']).to_owned())
                    .map_err(|_| LoadError::Sidecar {
                        path: path.to_path_buf(),
                        reason: "not UTF-8".into(),
                    })
            };
            let content_type = match sidecar("type")? {
                Some((path, bytes)) => Some(line(&path, bytes)?),
                None => ext
                    .as_deref()
                    .and_then(content_type_for_extension)
                    .map(str::to_owned),
            };
            let mut inscription = Inscription::new("", body);
            inscription.content_type = content_type;
            if let Some((path, bytes)) = sidecar("encoding")? {
                inscription.content_encoding = Some(line(&path, bytes)?);
            }
            if let Some((_, bytes)) = sidecar("metadata")? {
                inscription.metadata = Some(bytes);
            }
            if let Some((path, bytes)) = sidecar("parents")? {
                for parent in line(&path, bytes)?.lines().map(str::trim) {
                    if parent.is_empty() {
                        continue;
                    }
                    let parent = parent.parse().map_err(|e| LoadError::Sidecar {
                        path: path.clone(),
                        reason: format!("`{parent}`: {e}"),
                    })?;
                    inscription.parents.push(parent);
                }
            }
            store.insert(id, inscription);
        }
        Ok(store)
    }
}

/// The content type ord's `inscribe` picks for a file extension (ord's
/// `Media::TABLE`), or `None` for an unknown extension.
pub fn content_type_for_extension(ext: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &[&str])] = &[
        ("application/cbor", &["cbor"]),
        ("application/json", &["json"]),
        ("application/octet-stream", &["bin"]),
        ("application/pdf", &["pdf"]),
        ("application/pgp-signature", &["asc"]),
        ("application/protobuf", &["binpb"]),
        ("application/x-bittorrent", &["torrent"]),
        ("application/yaml", &["yaml", "yml"]),
        ("audio/flac", &["flac"]),
        ("audio/mpeg", &["mp3"]),
        ("audio/ogg;codecs=opus", &["opus"]),
        ("audio/wav", &["wav"]),
        ("font/otf", &["otf"]),
        ("font/ttf", &["ttf"]),
        ("font/woff", &["woff"]),
        ("font/woff2", &["woff2"]),
        ("image/apng", &["apng"]),
        ("image/avif", &["avif"]),
        ("image/gif", &["gif"]),
        ("image/jpeg", &["jpg", "jpeg"]),
        ("image/jxl", &["jxl"]),
        ("image/png", &["png"]),
        ("image/svg+xml", &["svg"]),
        ("image/webp", &["webp"]),
        ("model/gltf+json", &["gltf"]),
        ("model/gltf-binary", &["glb"]),
        ("model/stl", &["stl"]),
        ("text/css", &["css"]),
        ("text/html;charset=utf-8", &["html"]),
        ("text/javascript", &["js", "mjs"]),
        ("text/markdown;charset=utf-8", &["md"]),
        ("text/plain;charset=utf-8", &["txt"]),
        ("text/x-python", &["py"]),
        ("video/mp4", &["mp4"]),
        ("video/webm", &["webm"]),
    ];
    let ext = ext.to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(_, exts)| exts.contains(&ext.as_str()))
        .map(|(content_type, _)| *content_type)
}
