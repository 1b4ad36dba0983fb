//! The reveal transaction: spends the commit output by its one script path, whose leaf holds
//! the envelopes, and sends each inscription to its own output.

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::key::{Keypair, Secp256k1, TapTweak};
use bitcoin::secp256k1::{All, Message, SecretKey};
use bitcoin::sighash::{Prevouts, SighashCache, TapSighashType};
use bitcoin::taproot::{ControlBlock, LeafVersion, TapLeafHash, TaprootBuilder, TaprootSpendInfo};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness, XOnlyPublicKey,
};
use inscription::{Inscription, InscriptionId};

use super::amount::{add, check_postage, sum, times};
use super::fee::FeeRate;
use super::BuildError;

/// An inscription already on chain that becomes the parent of everything in a reveal: its
/// output is spent by the reveal and sent on, unchanged in value, before the new outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentInput {
    /// The parent.
    pub id: InscriptionId,
    /// The output that holds it now.
    pub outpoint: OutPoint,
    /// That output (a wallet key-path P2TR output).
    pub txout: TxOut,
    /// Where it goes after the reveal.
    pub return_to: ScriptBuf,
}

/// What one reveal inscribes, and where each inscription goes.
#[derive(Debug, Clone)]
pub struct RevealPlan {
    /// The inscriptions, in id order: the n-th gets `<reveal txid>i<n>`.
    pub inscriptions: Vec<Inscription>,
    /// One destination per inscription, each its own output.
    pub destinations: Vec<ScriptBuf>,
    /// Sats in each inscription's output.
    pub postage: Amount,
    /// Parents: spent first and returned first; every inscription names them all.
    pub parents: Vec<ParentInput>,
}

/// A reveal built and sized, waiting for the commit outpoint and its signature.
#[derive(Debug, Clone)]
pub struct RevealTx {
    /// The transaction; the commit input's witness is a placeholder until [`Self::sign`].
    pub tx: Transaction,
    /// The output the commit transaction must create: the tweaked taproot key and exactly
    /// the reveal fee plus postage.
    pub commit_output: TxOut,
    /// Reveal fee at the plan's rate.
    pub fee: Amount,
    /// Virtual size of the signed reveal.
    pub vsize: u64,
    /// The inscriptions as they were written (pointers and parents filled in).
    pub inscriptions: Vec<Inscription>,
    key: Keypair,
    script: ScriptBuf,
    spend_info: TaprootSpendInfo,
    control_block: ControlBlock,
    parent_prevouts: Vec<TxOut>,
}

/// Signature of a key-path spend with SIGHASH_DEFAULT: always 64 bytes.
const SCHNORR_SIG_LEN: usize = 64;

impl RevealTx {
    /// Builds the reveal for `plan` with leaf key `key` (the x-only key both signs the leaf
    /// and is the taproot internal key, as in ord).
    pub fn build(
        secp: &Secp256k1<All>,
        plan: &RevealPlan,
        key: Keypair,
        fee_rate: FeeRate,
    ) -> Result<Self, BuildError> {
        if plan.inscriptions.is_empty() {
            return Err(BuildError::Empty);
        }
        if plan.destinations.len() != plan.inscriptions.len() {
            return Err(BuildError::Destinations {
                inscriptions: plan.inscriptions.len(),
                destinations: plan.destinations.len(),
            });
        }
        check_postage(plan.postage, &plan.destinations)?;
        let parent_value = sum("parent outputs", plan.parents.iter().map(|p| p.txout.value))?;
        let all_postage = times(
            "postage of all inscriptions",
            plan.postage,
            plan.inscriptions.len(),
        )?;
        // Every pointer below is at most this, so none of them overflows.
        add("parent outputs and postage", parent_value, all_postage)?;
        let inscriptions: Vec<Inscription> = plan
            .inscriptions
            .iter()
            .enumerate()
            .map(|(i, inscription)| {
                let mut inscription = inscription.clone();
                for parent in &plan.parents {
                    if !inscription.parent_ids().contains(&parent.id) {
                        inscription = inscription.with_parent(parent.id);
                    }
                }
                // The commit input's first sat is the first sat after the parents', which
                // is where output `parents.len()` starts: the first inscription needs no
                // pointer; the others point at their own outputs.
                if i > 0 {
                    // At most parents plus all postage, checked above: no overflow.
                    let offset = parent_value + plan.postage * i as u64;
                    inscription = inscription.with_pointer(offset.to_sat());
                }
                inscription
            })
            .collect();

        let (xonly, _) = XOnlyPublicKey::from_keypair(&key);
        let script = Inscription::reveal_script(&xonly, &inscriptions);
        let spend_info = TaprootBuilder::new()
            .add_leaf(0, script.clone())
            .expect("one leaf at depth 0")
            .finalize(secp, xonly)
            .expect("a single-leaf tree is complete");
        let control_block = spend_info
            .control_block(&(script.clone(), LeafVersion::TapScript))
            .expect("the leaf is in the tree");

        let mut input: Vec<TxIn> = plan
            .parents
            .iter()
            .map(|p| tx_in(p.outpoint, Witness::from_slice(&[[0u8; SCHNORR_SIG_LEN]])))
            .collect();
        let mut placeholder = Witness::new();
        placeholder.push([0u8; SCHNORR_SIG_LEN]);
        placeholder.push(script.as_bytes());
        placeholder.push(control_block.serialize());
        input.push(tx_in(OutPoint::null(), placeholder));

        let mut output: Vec<TxOut> = plan
            .parents
            .iter()
            .map(|p| TxOut {
                value: p.txout.value,
                script_pubkey: p.return_to.clone(),
            })
            .collect();
        output.extend(plan.destinations.iter().map(|d| TxOut {
            value: plan.postage,
            script_pubkey: d.clone(),
        }));
        let tx = Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input,
            output,
        };
        let vsize = tx.vsize() as u64;
        let fee = fee_rate.checked_fee(vsize)?;
        let commit_output = TxOut {
            value: add("reveal fee and postage", fee, all_postage)?,
            script_pubkey: ScriptBuf::new_p2tr_tweaked(spend_info.output_key()),
        };
        add("reveal inputs", parent_value, commit_output.value)?;
        Ok(Self {
            tx,
            commit_output,
            fee,
            vsize,
            inscriptions,
            key,
            script,
            spend_info,
            control_block,
            parent_prevouts: plan.parents.iter().map(|p| p.txout.clone()).collect(),
        })
    }

    /// Index of the input that spends the commit output (after the parents).
    pub fn commit_input(&self) -> usize {
        self.tx.input.len() - 1
    }

    /// Points the reveal at the commit output. The reveal's txid, and so every
    /// inscription id, is fixed from here on: witnesses are not part of a txid.
    pub fn set_commit_outpoint(&mut self, outpoint: OutPoint) {
        let i = self.commit_input();
        self.tx.input[i].previous_output = outpoint;
    }

    /// The reveal's txid.
    pub fn txid(&self) -> Txid {
        self.tx.compute_txid()
    }

    /// The ids the inscriptions get: `<txid>i0`, `<txid>i1`, …
    pub fn ids(&self) -> Vec<InscriptionId> {
        let txid = self.txid();
        (0..self.inscriptions.len() as u32)
            .map(|i| InscriptionId::new(txid, i))
            .collect()
    }

    /// The outputs this reveal spends, in input order.
    pub fn prevouts(&self) -> Vec<TxOut> {
        let mut prevouts = self.parent_prevouts.clone();
        prevouts.push(self.commit_output.clone());
        prevouts
    }

    /// The leaf script (`<key> OP_CHECKSIG` and the envelopes).
    pub fn script(&self) -> &ScriptBuf {
        &self.script
    }

    /// The secret key that spends the commit output by key path: the internal key tweaked
    /// with the script tree's merkle root. ord keeps it as `rawtr(<WIF>)` so a commit whose
    /// reveal never confirms can be swept.
    pub fn recovery_key(&self, secp: &Secp256k1<All>) -> SecretKey {
        let tweaked = self
            .key
            .tap_tweak(secp, self.spend_info.merkle_root())
            .to_keypair();
        SecretKey::from_keypair(&tweaked)
    }

    /// Signs the commit input by its script path (SIGHASH_DEFAULT). Parent inputs are
    /// signed by `sign_parent`, a wallet's key-path signer, given all spent outputs.
    pub fn sign(
        &mut self,
        secp: &Secp256k1<All>,
        sign_parent: &mut super::SignKeyPath,
    ) -> Result<(), BuildError> {
        let prevouts = self.prevouts();
        for input in 0..self.parent_prevouts.len() {
            sign_parent(&mut self.tx, input, &prevouts).map_err(BuildError::Sign)?;
        }
        let commit = self.commit_input();
        let leaf_hash = TapLeafHash::from_script(&self.script, LeafVersion::TapScript);
        let sighash = SighashCache::new(&self.tx)
            .taproot_script_spend_signature_hash(
                commit,
                &Prevouts::All(&prevouts),
                leaf_hash,
                TapSighashType::Default,
            )
            .map_err(|e| BuildError::Sign(e.to_string()))?;
        let message = Message::from_digest(sighash.to_byte_array());
        let signature = secp.sign_schnorr(&message, &self.key);
        let mut witness = Witness::new();
        witness.push(signature.as_ref());
        witness.push(self.script.as_bytes());
        witness.push(self.control_block.serialize());
        self.tx.input[commit].witness = witness;
        Ok(())
    }
}

fn tx_in(previous_output: OutPoint, witness: Witness) -> TxIn {
    TxIn {
        previous_output,
        script_sig: ScriptBuf::new(),
        sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
        witness,
    }
}
