//! The in-memory inscription store and its folder format.
//!
//! The store holds [`inscription::Inscription`] itself; what ord's index knows beyond the
//! envelope (number, curse, where it sits) is kept beside it in an [`Entry`].

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use bitcoin::{OutPoint, TxOut};
use inscription::{content_type_for_extension, Curse, Inscription};

use super::reveal::InsertRevealError;
use crate::InscriptionId;

/// One stored inscription and what ord's index holds about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    /// The inscription number (0, 1, 2, … in insertion order).
    pub(super) number: u64,
    /// The envelope's fields, as inscribed.
    pub(super) inscription: Inscription,
    /// The curse ord's indexer gives its envelope (only for one read from a reveal).
    pub(super) curse: Option<Curse>,
    /// Its envelope has an unknown even field: bound to no sat.
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
    /// The parents ord gives it: those of its parent tags that name an inscription sitting
    /// on an output the reveal spends (only the parent's holder can add a child).
    pub(super) parents: Vec<InscriptionId>,
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

impl Entry {
    /// Whether ord binds it to no sat: an unknown even field, or (for an inscription read
    /// from a reveal whose spent values are known) an input worth nothing.
    pub(super) fn unbound(&self) -> bool {
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
    /// A file larger than anything it could hold (an inscription body, a transaction): it
    /// is refused unread.
    #[error("{path}: larger than {limit} bytes, more than {what} can be; not read")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The most bytes read from it.
        limit: u64,
        /// What the file should hold (`an inscription`, `a transaction in hex`).
        what: &'static str,
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
    #[error("{path}: not a transaction that reveals an inscription")]
    Reveal {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: InsertRevealError,
    },
}

/// Inscriptions by id, in insertion order of their numbers.
#[derive(Clone, Debug, Default)]
pub struct Store {
    pub(super) entries: BTreeMap<InscriptionId, Entry>,
    next_number: u64,
    /// Outputs of the transactions read so far (reveals, commits, given prevouts): the
    /// values later reveals spend.
    pub(super) outputs: BTreeMap<OutPoint, TxOut>,
    /// How many inscriptions sit at ord's unbound outpoint.
    pub(super) unbound_count: u64,
}

const SIDECARS: [&str; 4] = ["type", "encoding", "metadata", "parents"];

impl Store {
    /// The largest file read as an inscription body or sidecar: 4,000,000 bytes. An
    /// envelope lives in a witness, and a block holds at most 4,000,000 weight units, one
    /// per witness byte, so no inscription can be larger.
    pub const MAX_BODY_FILE: u64 = 4_000_000;

    /// The largest file read as a transaction ([`read_reveal`](super::read_reveal)): the
    /// hex of a block-sized transaction (2 × 4,000,000 characters) and 1 MiB of whitespace.
    pub const MAX_TRANSACTION_FILE: u64 = 2 * 4_000_000 + (1 << 20);

    /// Reads `path` whole, or refuses it with [`LoadError::TooLarge`] once it passes
    /// `limit` bytes, holding no more than that (a pipe or device that never ends too).
    /// `what` says what the file should hold, for the message.
    pub fn read_file_limited(
        path: &Path,
        limit: u64,
        what: &'static str,
    ) -> Result<Vec<u8>, LoadError> {
        let io = |source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > limit {
            return Err(LoadError::TooLarge {
                path: path.to_path_buf(),
                limit,
                what,
            });
        }
        Ok(bytes)
    }

    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an inscription; a new id gets the next inscription number.
    pub fn insert(&mut self, id: InscriptionId, inscription: Inscription) {
        self.insert_entry(id, inscription, None, false);
    }

    /// [`Store::insert`] with what ord's indexer makes of the envelope.
    pub(super) fn insert_entry(
        &mut self,
        id: InscriptionId,
        inscription: Inscription,
        curse: Option<Curse>,
        unbound: bool,
    ) {
        let number = match self.entries.get(&id) {
            Some(entry) => entry.number,
            None => {
                self.next_number += 1;
                self.next_number - 1
            }
        };
        let entry = Entry {
            number,
            inscription,
            curse,
            unbound,
            revealed: None,
        };
        self.entries.insert(id, entry);
    }

    /// The inscription with this id.
    pub fn get(&self, id: &InscriptionId) -> Option<&Inscription> {
        self.entry(id).map(|entry| &entry.inscription)
    }

    /// The inscription with this id and what the index holds about it.
    pub(super) fn entry(&self, id: &InscriptionId) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// The inscription number (0, 1, 2, … in insertion order).
    pub fn number(&self, id: &InscriptionId) -> Option<u64> {
        self.entry(id).map(|entry| entry.number)
    }

    /// The curse ord's indexer gives the envelope of this inscription, if it was read
    /// from a reveal (see [`Store::insert_reveal`]).
    pub fn curse(&self, id: &InscriptionId) -> Option<Curse> {
        self.entry(id).and_then(|entry| entry.curse)
    }

    /// The children of `parent`, ordered by inscription number: as ord, for one read from a
    /// reveal, only if the reveal spent the output `parent` sat on; for one loaded from a
    /// folder, whenever its well-formed parent tags name it.
    pub fn children(&self, parent: &InscriptionId) -> Vec<InscriptionId> {
        let mut children: Vec<(u64, InscriptionId)> = self
            .entries
            .iter()
            .filter(|(_, entry)| match &entry.revealed {
                Some(revealed) => revealed.parents.contains(parent),
                None => entry.inscription.parent_ids().contains(parent),
            })
            .map(|(id, entry)| (entry.number, *id))
            .collect();
        children.sort();
        children.into_iter().map(|(_, id)| id).collect()
    }

    /// Every inscription with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&InscriptionId, &Inscription)> + '_ {
        self.entries
            .iter()
            .map(|(id, entry)| (id, &entry.inscription))
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
            let body = Self::read_file_limited(&path, Self::MAX_BODY_FILE, "an inscription")?;
            let sidecar = |kind: &str| -> Result<Option<(PathBuf, Vec<u8>)>, LoadError> {
                let path = dir.join(format!("{id}.{kind}"));
                match Self::read_file_limited(&path, Self::MAX_BODY_FILE, "an inscription") {
                    Ok(bytes) => Ok(Some((path, bytes))),
                    Err(LoadError::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(e),
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
            let mut inscription = Inscription {
                content_type: content_type.map(String::into_bytes),
                body: Some(body),
                ..Inscription::default()
            };
            if let Some((path, bytes)) = sidecar("encoding")? {
                inscription.content_encoding = Some(line(&path, bytes)?.into_bytes());
            }
            if let Some((_, bytes)) = sidecar("metadata")? {
                inscription.metadata = Some(bytes);
            }
            if let Some((path, bytes)) = sidecar("parents")? {
                for parent in line(&path, bytes)?.lines().map(str::trim) {
                    if parent.is_empty() {
                        continue;
                    }
                    let parent: InscriptionId = parent.parse().map_err(|e| LoadError::Sidecar {
                        path: path.clone(),
                        reason: format!("`{parent}`: {e}"),
                    })?;
                    inscription.parents.push(parent.to_value());
                }
            }
            store.insert(id, inscription);
        }
        Ok(store)
    }
}
