//! Filling the store straight from reveal transactions, as ord's index would.

use std::collections::BTreeMap;
use std::path::Path;

use bitcoin::{OutPoint, Transaction, TxOut, Txid};
use inscription::{parse_transaction, Envelope, Reveal, RevealError};

use super::store::{Entry, LoadError, Place, Revealed, Store};
use crate::InscriptionId;

/// Why a transaction gave the store nothing.
#[derive(Debug, thiserror::Error)]
pub enum InsertRevealError {
    /// The transaction reveals no inscription (see [`inscription::RevealError`]).
    #[error(transparent)]
    Reveal(#[from] RevealError),
    /// The outputs given as spent do not match the transaction's inputs one to one.
    #[error("transaction {txid} has {inputs} inputs but {prevouts} spent outputs were given")]
    Prevouts {
        /// The transaction.
        txid: Txid,
        /// Its number of inputs.
        inputs: usize,
        /// The number of spent outputs given.
        prevouts: usize,
    },
}

/// An inscription on the move in one transaction (ord's `Flotsam`): a new one from an
/// envelope, or one already in the store that sat on an output the transaction spends.
struct Flotsam {
    kind: Kind,
    /// Sats before it among all the transaction's inputs; `None` when an earlier input's
    /// value is unknown.
    offset: Option<u64>,
}

enum Kind {
    New {
        envelope: usize,
        reinscription: bool,
        reinscription_curse: bool,
        unbound: bool,
    },
    Old(InscriptionId),
}

impl Store {
    /// Puts every inscription of the reveal `tx` under its id `<txid>i<n>` (envelopes
    /// counted across inputs in order), as ord serves them: content type from tag 1 (none:
    /// `application/octet-stream`), body as inscribed with its content encoding, metadata,
    /// parents, delegate, and the curse ord's indexer would give it. Cursed and unbound
    /// inscriptions are stored too; ord serves them. Returns the ids in order.
    ///
    /// Each also gets the place ord's index gives it: the output of `tx` its sat (its
    /// input's first sat, or its pointer) lands in, and the reveal's fee when every spent
    /// value is known: from [`Store::insert_commit`], from an earlier reveal this store
    /// read, or from [`Store::insert_reveal_with_prevouts`]. Inscriptions of this store
    /// that sat on an output `tx` spends move into `tx`'s outputs, as in ord.
    pub fn insert_reveal(
        &mut self,
        tx: &Transaction,
    ) -> Result<Vec<InscriptionId>, InsertRevealError> {
        let reveal = Reveal::from_transaction(tx)?;
        Ok(self.insert_read(tx, &reveal))
    }

    /// [`Store::insert_reveal`] of a transaction already read.
    fn insert_read(&mut self, tx: &Transaction, reveal: &Reveal) -> Vec<InscriptionId> {
        let txid = reveal.txid();
        let (flotsam, fee) = self.flotsam(txid, tx, reveal.envelopes());
        let ids = reveal.ids();
        for (id, envelope) in reveal.inscriptions() {
            let inscription = envelope.inscription.clone();
            self.insert_entry(id, inscription, envelope.curse(), envelope.unbound());
        }
        self.remember_outputs(txid, tx);

        // ord places them output by output in the order of their offsets; unbound ones get
        // the next number at the unbound outpoint in that order.
        // ord honours a parent tag only for an inscription on an output this reveal spends.
        let spent: Vec<InscriptionId> = flotsam
            .iter()
            .filter_map(|f| match &f.kind {
                Kind::Old(id) => Some(*id),
                Kind::New { .. } => None,
            })
            .collect();
        let mut order: Vec<&Flotsam> = flotsam.iter().collect();
        order.sort_by_key(|f| f.offset.unwrap_or(u64::MAX));
        for flotsam in order {
            let place = place(txid, tx, flotsam.offset);
            match &flotsam.kind {
                Kind::New {
                    envelope,
                    reinscription,
                    reinscription_curse,
                    unbound,
                } => {
                    let place = if *unbound {
                        self.unbound_count += 1;
                        Place::Unbound(self.unbound_count - 1)
                    } else {
                        place
                    };
                    if let Some(entry) = self.entries.get_mut(&ids[*envelope]) {
                        let mut parents = entry.inscription.parent_ids();
                        parents.retain(|p| spent.contains(p));
                        entry.revealed = Some(Revealed {
                            place,
                            fee,
                            reinscription: *reinscription,
                            reinscription_curse: *reinscription_curse,
                            parents,
                        });
                    }
                }
                Kind::Old(id) => {
                    if let Some(revealed) = self
                        .entries
                        .get_mut(id)
                        .and_then(|entry| entry.revealed.as_mut())
                    {
                        revealed.place = place;
                    }
                }
            }
        }
        ids
    }

    /// Like [`Store::insert_reveal`], with the outputs the reveal spends (one per input, in
    /// order), so that the fee and the place of every inscription are known.
    pub fn insert_reveal_with_prevouts(
        &mut self,
        tx: &Transaction,
        prevouts: &[TxOut],
    ) -> Result<Vec<InscriptionId>, InsertRevealError> {
        if prevouts.len() != tx.input.len() {
            return Err(InsertRevealError::Prevouts {
                txid: tx.compute_txid(),
                inputs: tx.input.len(),
                prevouts: prevouts.len(),
            });
        }
        let reveal = Reveal::from_transaction(tx)?;
        for (input, prevout) in tx.input.iter().zip(prevouts) {
            self.outputs.insert(input.previous_output, prevout.clone());
        }
        Ok(self.insert_read(tx, &reveal))
    }

    /// Remembers the outputs of a transaction that reveals spend, usually the commit, so
    /// that a reveal read afterwards gets its fee and places (see [`Store::insert_reveal`]).
    /// It adds no inscription.
    pub fn insert_commit(&mut self, tx: &Transaction) {
        self.remember_outputs(tx.compute_txid(), tx);
    }

    fn remember_outputs(&mut self, txid: Txid, tx: &Transaction) {
        for (vout, txout) in tx.output.iter().enumerate() {
            let vout = u32::try_from(vout).expect("fewer than 2^32 outputs");
            self.outputs
                .insert(OutPoint::new(txid, vout), txout.clone());
        }
    }

    /// ord's `index_inscriptions` up to the placing: each input's inscriptions already in
    /// the store, then its envelopes, each at the offset of the input's first sat (or its
    /// pointer, if that is below the outputs' total), and the fee per new inscription.
    fn flotsam(
        &self,
        txid: Txid,
        tx: &Transaction,
        envelopes: &[Envelope],
    ) -> (Vec<Flotsam>, Option<u64>) {
        let total_output = tx
            .output
            .iter()
            .fold(0u64, |sum, txout| sum.saturating_add(txout.value.to_sat()));
        let mut flotsam = Vec::new();
        // ord's `inscribed_offsets`: the first inscription at each offset, and how many.
        let mut inscribed: BTreeMap<u64, (InscriptionId, usize)> = BTreeMap::new();
        let inscribe = |inscribed: &mut BTreeMap<_, _>, offset: Option<u64>, id| {
            if let Some(offset) = offset {
                inscribed.entry(offset).or_insert((id, 0)).1 += 1;
            }
        };
        let mut total_input = Some(0u64);
        let mut next = envelopes.iter().enumerate().peekable();
        for (index, input) in tx.input.iter().enumerate() {
            let mut sitting: Vec<(u64, InscriptionId, u64)> = self
                .entries
                .iter()
                .filter_map(|(id, entry)| match entry.place() {
                    Some(Place::Output {
                        outpoint, offset, ..
                    }) if *outpoint == input.previous_output => Some((entry.number, *id, *offset)),
                    _ => None,
                })
                .collect();
            sitting.sort();
            for (_, id, old_offset) in sitting {
                let offset = total_input.map(|total| total.saturating_add(old_offset));
                inscribe(&mut inscribed, offset, id);
                flotsam.push(Flotsam {
                    kind: Kind::Old(id),
                    offset,
                });
            }

            let first_sat = total_input;
            let value = self
                .outputs
                .get(&input.previous_output)
                .map(|txout| txout.value.to_sat());
            total_input = total_input
                .zip(value)
                .map(|(total, value)| total.saturating_add(value));
            while let Some((n, envelope)) = next.next_if(|(_, e)| e.input as usize == index) {
                // ord: an otherwise blessed envelope on a sat that already holds inscriptions
                // is cursed, unless it holds exactly one and that one was cursed itself.
                let reinscription_curse = envelope.curse().is_none()
                    && first_sat.and_then(|sat| inscribed.get(&sat)).is_some_and(
                        |(initial, count)| {
                            *count > 1 || !self.entry(initial).is_some_and(Entry::cursed)
                        },
                    );
                let offset = envelope
                    .inscription
                    .pointer()
                    .filter(|pointer| *pointer < total_output)
                    .or(first_sat);
                let reinscription = offset.is_some_and(|offset| inscribed.contains_key(&offset));
                inscribe(&mut inscribed, offset, Envelope::id(txid, n));
                flotsam.push(Flotsam {
                    kind: Kind::New {
                        envelope: n,
                        reinscription,
                        reinscription_curse,
                        unbound: value == Some(0) || envelope.unbound(),
                    },
                    offset,
                });
            }
        }
        let count = u64::try_from(envelopes.len()).expect("fewer than 2^64 envelopes");
        let fee = total_input.map(|total| total.saturating_sub(total_output) / count);
        (flotsam, fee)
    }

    /// A store holding every inscription of the reveal transactions in these files (see
    /// [`read_reveal`] for the file format), inserted in order.
    pub fn load_reveals<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<Self, LoadError> {
        let mut store = Self::new();
        for path in paths {
            let path = path.as_ref();
            let tx = read_reveal(path)?;
            store
                .insert_reveal(&tx)
                .map_err(|source| LoadError::Reveal {
                    path: path.to_path_buf(),
                    source,
                })?;
        }
        Ok(store)
    }
}

/// The output of `tx` holding the sat `offset` sats into its inputs: ord's placing loop.
fn place(txid: Txid, tx: &Transaction, offset: Option<u64>) -> Place {
    let Some(offset) = offset else {
        return Place::Unknown;
    };
    let mut start = 0u64;
    for (vout, txout) in tx.output.iter().enumerate() {
        let end = start.saturating_add(txout.value.to_sat());
        if offset < end {
            return Place::Output {
                outpoint: OutPoint::new(txid, u32::try_from(vout).expect("fewer than 2^32")),
                offset: offset - start,
                txout: txout.clone(),
            };
        }
        start = end;
    }
    Place::Unknown
}

/// Reads a file holding one transaction: hex (surrounding whitespace ignored), or else its
/// raw consensus bytes ([`inscription::parse_transaction`]). Errors name the file; one
/// larger than [`Store::MAX_TRANSACTION_FILE`] is refused unread.
pub fn read_reveal(path: impl AsRef<Path>) -> Result<Transaction, LoadError> {
    let path = path.as_ref();
    let bytes = Store::read_file_limited(path, Store::MAX_TRANSACTION_FILE, "a transaction")?;
    parse_transaction(&bytes).map_err(|e| LoadError::Reveal {
        path: path.to_path_buf(),
        source: e.into(),
    })
}

#[cfg(test)]
mod tests {
    use bitcoin::consensus::encode::serialize_hex;
    use bitcoin::script::ScriptBuf;
    use bitcoin::{absolute, transaction, Amount, OutPoint, TxIn, TxOut, Witness};
    use inscription::Inscription;

    use super::{read_reveal, InsertRevealError, LoadError, RevealError, Store, Transaction};
    use crate::InscriptionId;

    fn reveal(witness: Vec<Vec<u8>>) -> Transaction {
        Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: ScriptBuf::new(),
                sequence: bitcoin::Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::from_slice(&witness),
            }],
            output: vec![TxOut {
                value: Amount::from_sat(10_000),
                script_pubkey: ScriptBuf::new(),
            }],
        }
    }

    #[test]
    fn hex_and_raw_files_read_alike() {
        let script = Inscription::new("text/plain", b"x".to_vec()).envelope_script();
        let tx = reveal(vec![vec![0; 64], script.into_bytes(), vec![0xc0; 33]]);
        let dir = tempfile::tempdir().unwrap();
        let hex = dir.path().join("reveal.hex");
        std::fs::write(&hex, format!("\n  {}\n", serialize_hex(&tx))).unwrap();
        let raw = dir.path().join("reveal.bin");
        std::fs::write(&raw, bitcoin::consensus::serialize(&tx)).unwrap();
        assert_eq!(read_reveal(&hex).unwrap(), tx);
        assert_eq!(read_reveal(&raw).unwrap(), tx);
        let mut store = Store::new();
        let ids = store.insert_reveal(&tx).unwrap();
        assert_eq!(ids, [InscriptionId::new(tx.compute_txid(), 0)]);
        assert_eq!(store.get(&ids[0]).unwrap().body(), b"x");
    }

    /// A file far larger than any transaction (here sparse: no disk used) is refused by
    /// its size, naming the file and the limit, before it is read into memory.
    #[test]
    fn huge_file_is_refused_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.hex");
        std::fs::File::create(&path)
            .unwrap()
            .set_len(100_000_000)
            .unwrap();
        let err = read_reveal(&path).unwrap_err().to_string();
        assert!(err.contains("huge.hex"), "{err}");
        assert!(err.contains("larger than"), "{err}");
        let mut store = Store::new();
        // A device that never ends is cut off at the limit, not read until memory runs out.
        let zero = read_reveal("/dev/zero").unwrap_err();
        assert!(
            matches!(zero, LoadError::TooLarge { limit, .. } if limit == Store::MAX_TRANSACTION_FILE),
            "{zero:?}"
        );
        let err = Store::load_reveals([&path]).unwrap_err().to_string();
        assert!(
            err.contains("huge.hex") && err.contains("larger than"),
            "{err}"
        );
        assert!(store.insert_reveal(&reveal(vec![vec![0; 64]])).is_err());
    }

    /// A store folder's body file larger than any inscription is refused, naming it.
    #[test]
    fn huge_body_file_is_refused_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let id = format!("{}i0", "ab".repeat(32));
        let path = dir.path().join(format!("{id}.html"));
        std::fs::File::create(&path)
            .unwrap()
            .set_len(100_000_000)
            .unwrap();
        let err = Store::load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&format!("{id}.html")), "{err}");
        assert!(err.contains("larger than"), "{err}");
    }

    #[test]
    fn bad_input_says_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("empty", " \n"), ("odd", "abc"), ("short", "0200")] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let err = read_reveal(&path).unwrap_err();
            assert!(
                matches!(err, LoadError::Reveal { ref path, .. } if path.ends_with(name)),
                "{err:?}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
        let missing = dir.path().join("missing");
        assert!(matches!(read_reveal(&missing), Err(LoadError::Io { .. })));
        let plain = reveal(vec![vec![0; 64]]);
        assert!(matches!(
            Store::new().insert_reveal(&plain),
            Err(InsertRevealError::Reveal(RevealError::NoEnvelopes(txid))) if txid == plain.compute_txid()
        ));
        let prevouts = Store::new().insert_reveal_with_prevouts(&plain, &[]);
        assert!(matches!(
            prevouts,
            Err(InsertRevealError::Prevouts {
                inputs: 1,
                prevouts: 0,
                ..
            })
        ));
    }
}
