//! Commit/reveal pairs built, signed and checked by libbitcoinconsensus, with a plain
//! taproot key standing in for the wallet.

use bitcoin::hashes::Hash;
use bitcoin::key::{Keypair, Secp256k1, TapTweak};
use bitcoin::secp256k1::{All, Message, SecretKey};
use bitcoin::sighash::{Prevouts, SighashCache, TapSighashType};
use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction, TxOut, Txid, Witness, XOnlyPublicKey};
use inscription::{Envelope, Inscription, InscriptionId};

use super::{
    check_standard, verify_transaction, BuildError, Coin, CommitTx, FeeRate, ParentInput, Prepared,
    RevealPlan, RevealTx, Signed, VerifyError,
};

struct TestWallet {
    secp: Secp256k1<All>,
    key: Keypair,
}

impl TestWallet {
    fn new(seed: u8) -> Self {
        let secp = Secp256k1::new();
        let key = Keypair::from_secret_key(&secp, &SecretKey::from_slice(&[seed; 32]).unwrap());
        Self { secp, key }
    }

    fn script(&self) -> ScriptBuf {
        let (xonly, _) = XOnlyPublicKey::from_keypair(&self.key);
        ScriptBuf::new_p2tr(&self.secp, xonly, None)
    }

    fn coin(&self, n: u8, sats: u64) -> Coin {
        Coin {
            outpoint: OutPoint::new(Txid::from_byte_array([n; 32]), 1),
            txout: TxOut {
                value: Amount::from_sat(sats),
                script_pubkey: self.script(),
            },
        }
    }

    fn sign(&self, tx: &mut Transaction, input: usize, prevouts: &[TxOut]) -> Result<(), String> {
        let sighash = SighashCache::new(&*tx)
            .taproot_key_spend_signature_hash(
                input,
                &Prevouts::All(prevouts),
                TapSighashType::Default,
            )
            .map_err(|e| e.to_string())?;
        let tweaked = self.key.tap_tweak(&self.secp, None).to_keypair();
        let sig = self
            .secp
            .sign_schnorr(&Message::from_digest(sighash.to_byte_array()), &tweaked);
        tx.input[input].witness = Witness::from_slice(&[sig.as_ref()]);
        Ok(())
    }
}

fn leaf_key(seed: u8) -> Keypair {
    Keypair::from_secret_key(
        &Secp256k1::new(),
        &SecretKey::from_slice(&[seed; 32]).unwrap(),
    )
}

fn rate(r: f64) -> FeeRate {
    FeeRate::from_sat_per_vb(r).unwrap()
}

fn plan(wallet: &TestWallet, inscriptions: Vec<Inscription>) -> RevealPlan {
    RevealPlan {
        destinations: vec![wallet.script(); inscriptions.len()],
        inscriptions,
        postage: Amount::from_sat(10_000),
        parents: vec![],
    }
}

/// A pair for `plan` paid from one 100,000-sat coin of `wallet`, with leaf key `seed`.
fn one_coin(
    wallet: &TestWallet,
    plan: &RevealPlan,
    seed: u8,
    sat_per_vb: f64,
) -> Result<Prepared, BuildError> {
    Prepared::build(
        &wallet.secp,
        plan,
        leaf_key(seed),
        &[wallet.coin(1, 100_000)],
        vec![],
        wallet.script(),
        rate(sat_per_vb),
    )
}

fn sign_all(wallet: &TestWallet, prepared: Prepared) -> Result<Signed, BuildError> {
    prepared.sign(&wallet.secp, &mut |tx, i, prevouts| {
        wallet.sign(tx, i, prevouts)
    })
}

#[test]
fn single_inscription_matches_ords_vsize_and_verifies() {
    let wallet = TestWallet::new(1);
    let html = Inscription::new("text/html;charset=utf-8", vec![b'x'; 1000]);
    let prepared = one_coin(&wallet, &plan(&wallet, vec![html.clone()]), 2, 10.0).unwrap();
    // ord's reveal for 1,000 bytes of html is 389 vB (shared reference ord.md).
    assert_eq!(prepared.reveal.vsize, 389);
    assert_eq!(prepared.reveal.fee.to_sat(), 3_890);
    assert_eq!(prepared.reveal.commit_output.value.to_sat(), 13_890);
    let ids = prepared.ids();
    let signed = sign_all(&wallet, prepared).unwrap();
    assert_eq!(signed.reveal.vsize(), 389);
    assert_eq!(
        ids,
        vec![InscriptionId::new(signed.reveal.compute_txid(), 0)]
    );
    let found = Envelope::from_transaction(&signed.reveal);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].inscription, html);
    assert_eq!(found[0].curse(), None);
    // Commit: in = out + fee, change back to the wallet.
    let out: u64 = signed.commit.output.iter().map(|o| o.value.to_sat()).sum();
    assert_eq!(100_000 - out, signed.commit.vsize() as u64 * 10);
    assert_eq!(signed.commit.output[0], signed.reveal_prevouts[0]);
}

#[test]
fn batch_puts_each_inscription_on_its_own_output() {
    let wallet = TestWallet::new(1);
    let items = vec![
        Inscription::new("text/javascript", b"export const a = 1;".to_vec()),
        Inscription::new("text/plain", b"relay list".to_vec()),
        Inscription::new("text/html;charset=utf-8", b"<p>page</p>".to_vec()),
    ];
    let prepared = Prepared::build(
        &wallet.secp,
        &plan(&wallet, items),
        leaf_key(3),
        &[wallet.coin(1, 20_000), wallet.coin(2, 50_000)],
        vec![],
        wallet.script(),
        rate(2.0),
    )
    .unwrap();
    let signed = sign_all(&wallet, prepared).unwrap();
    assert_eq!(signed.reveal.output.len(), 3);
    let found = Envelope::from_transaction(&signed.reveal);
    let pointers: Vec<Option<u64>> = found.iter().map(|e| e.inscription.pointer()).collect();
    assert_eq!(pointers, vec![None, Some(10_000), Some(20_000)]);
    assert_eq!(found[1].offset, 1);
    // Largest coin first; it is enough alone.
    assert_eq!(signed.commit.input.len(), 1);
    assert_eq!(
        signed.commit.input[0].previous_output.txid,
        Txid::from_byte_array([2; 32])
    );
}

#[test]
fn parent_is_spent_first_and_returned_first() {
    let wallet = TestWallet::new(1);
    let parent_id: InscriptionId =
        "2222222222222222222222222222222222222222222222222222222222222222i0"
            .parse()
            .unwrap();
    let parent = wallet.coin(9, 10_000);
    let mut plan = plan(
        &wallet,
        vec![Inscription::new("text/plain", b"child".to_vec())],
    );
    plan.parents.push(ParentInput {
        id: parent_id,
        outpoint: parent.outpoint,
        txout: parent.txout.clone(),
        return_to: wallet.script(),
    });
    let prepared = one_coin(&wallet, &plan, 4, 1.0).unwrap();
    let signed = sign_all(&wallet, prepared).unwrap();
    assert_eq!(signed.reveal.input[0].previous_output, parent.outpoint);
    assert_eq!(signed.reveal.output[0].value.to_sat(), 10_000);
    let found = Envelope::from_transaction(&signed.reveal);
    assert_eq!(found[0].input, 1);
    assert_eq!(found[0].inscription.parent_ids(), vec![parent_id]);
    assert_eq!(found[0].inscription.pointer(), None);
}

#[test]
fn tampered_transactions_are_refused_by_consensus() {
    let wallet = TestWallet::new(1);
    let prepared = one_coin(
        &wallet,
        &plan(
            &wallet,
            vec![Inscription::new("text/plain", b"hi".to_vec())],
        ),
        5,
        1.0,
    )
    .unwrap();
    let signed = sign_all(&wallet, prepared).unwrap();

    let mut reveal = signed.reveal.clone();
    reveal.output[0].value = Amount::from_sat(9_999);
    let err = verify_transaction(&reveal, &signed.reveal_prevouts).unwrap_err();
    assert!(
        matches!(err, VerifyError::Consensus { input: 0, .. }),
        "{err}"
    );

    // A changed envelope no longer matches the committed leaf.
    let mut reveal = signed.reveal.clone();
    let mut items: Vec<Vec<u8>> = reveal.input[0].witness.iter().map(<[u8]>::to_vec).collect();
    let last = items[1].len() - 2;
    items[1][last] ^= 1;
    reveal.input[0].witness = Witness::from_slice(&items);
    assert!(verify_transaction(&reveal, &signed.reveal_prevouts).is_err());

    let mut commit = signed.commit.clone();
    commit.output[0].value += Amount::from_sat(1);
    assert!(verify_transaction(&commit, &signed.commit_prevouts).is_err());

    // Spent outputs that lie about the amount change the taproot sighash.
    let mut prevouts = signed.commit_prevouts.clone();
    prevouts[0].value += Amount::from_sat(1);
    assert!(verify_transaction(&signed.commit, &prevouts).is_err());
}

#[test]
fn money_and_standardness_limits() {
    let wallet = TestWallet::new(1);
    let poor = Prepared::build(
        &wallet.secp,
        &plan(&wallet, vec![Inscription::new("text/plain", vec![0; 4000])]),
        leaf_key(6),
        &[wallet.coin(1, 5_000)],
        vec![],
        wallet.script(),
        rate(1.0),
    );
    assert!(matches!(
        poor,
        Err(BuildError::InsufficientFunds {
            available: 5_000,
            ..
        })
    ));

    let mut dusty = plan(&wallet, vec![Inscription::new("text/plain", vec![])]);
    dusty.postage = Amount::from_sat(329);
    let err = RevealTx::build(&wallet.secp, &dusty, leaf_key(7), rate(1.0)).unwrap_err();
    assert_eq!(
        err,
        BuildError::PostageBelowDust {
            postage: 329,
            dust: 330
        }
    );

    let heavy = RevealTx::build(
        &wallet.secp,
        &plan(
            &wallet,
            vec![Inscription::new("text/plain", vec![0; 400_000])],
        ),
        leaf_key(8),
        rate(1.0),
    )
    .unwrap();
    let err = check_standard(&heavy.tx, &heavy.prevouts()).unwrap_err();
    assert!(matches!(err, VerifyError::TooHeavy { .. }), "{err}");
}

#[test]
fn change_below_dust_goes_to_the_fee() {
    let wallet = TestWallet::new(1);
    let reveal = RevealTx::build(
        &wallet.secp,
        &plan(&wallet, vec![Inscription::new("text/plain", b"x".to_vec())]),
        leaf_key(9),
        rate(1.0),
    )
    .unwrap();
    let need = reveal.commit_output.value.to_sat();
    // One key-path input, one P2TR output: 111 vB at 1 sat/vB; 100 sat over leaves no change.
    let commit = CommitTx::build(
        vec![reveal.commit_output.clone()],
        &[wallet.coin(1, need + 111 + 100)],
        wallet.script(),
        rate(1.0),
    )
    .unwrap();
    assert_eq!(commit.change, None);
    assert_eq!(commit.tx.output.len(), 1);
    assert_eq!(commit.fee.to_sat(), 211);
}

mod props {
    use bitcoin::hashes::Hash;
    use bitcoin::{Amount, TxOut, Txid};
    use inscription::{Envelope, Inscription, InscriptionId};
    use proptest::prelude::*;

    use super::{leaf_key, plan, rate, sign_all, TestWallet};
    use crate::reveal::{smaller_encoding, FeeRate, ParentInput, Prepared, RevealTx};

    fn inscription() -> impl Strategy<Value = Inscription> {
        (
            prop_oneof![
                Just("text/html;charset=utf-8"),
                Just("text/javascript"),
                Just("image/png")
            ],
            proptest::collection::vec(any::<u8>(), 0..1_500),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 1..700)),
        )
            .prop_map(|(content_type, body, metadata)| {
                let i = Inscription::new(content_type, body);
                match metadata {
                    Some(m) => i.with_metadata(m),
                    None => i,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever the content, our reveal (brotli only when it pays) is never larger than
        /// ord's reveal of the same bytes as they are.
        #[test]
        fn never_larger_than_ords_reveal(
            content_type in prop_oneof![Just("text/html;charset=utf-8"), Just("text/javascript"), Just("image/png")],
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..3_000),
                proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'<'), Just(b' ')], 0..6_000),
            ],
        ) {
            let wallet = TestWallet::new(1);
            let ord = crate::estimate::reveal_vsize(content_type, None, body.len());
            let chosen = smaller_encoding(Inscription::new(content_type, body)).unwrap();
            let ours = RevealTx::build(&wallet.secp, &plan(&wallet, vec![chosen]), leaf_key(3), rate(1.0))
                .unwrap()
                .vsize;
            prop_assert!(ours <= ord, "ours {} > ord {}", ours, ord);
        }

        /// Any batch, with or without a parent, at any rate: both transactions pass
        /// libbitcoinconsensus, every envelope reads back as built, and the money adds up.
        #[test]
        fn any_batch_verifies_and_adds_up(
            items in proptest::collection::vec(inscription(), 1..4),
            rate in 1.0f64..60.0,
            with_parent in any::<bool>(),
            seed in 1u8..200,
        ) {
            let wallet = TestWallet::new(1);
            let mut plan = plan(&wallet, items.clone());
            if with_parent {
                let parent = wallet.coin(9, 10_000);
                plan.parents.push(ParentInput {
                    id: InscriptionId::new(Txid::from_byte_array([9; 32]), 0),
                    outpoint: parent.outpoint,
                    txout: parent.txout,
                    return_to: wallet.script(),
                });
            }
            let rate = FeeRate::from_sat_per_vb(rate).unwrap();
            let prepared = Prepared::build(
                &wallet.secp,
                &plan,
                leaf_key(seed),
                &[wallet.coin(1, 300_000), wallet.coin(2, 40_000)],
                vec![],
                wallet.script(),
                rate,
            )
            .unwrap();
            let ids = prepared.ids();
            let (commit_fee, reveal_fee, reveal_vsize) =
                (prepared.commit.fee, prepared.reveal.fee, prepared.reveal.vsize);
            let signed = sign_all(&wallet, prepared).unwrap();

            prop_assert_eq!(signed.reveal.vsize() as u64, reveal_vsize);
            prop_assert_eq!(reveal_fee, rate.fee(reveal_vsize));
            let sum = |outs: &[TxOut]| outs.iter().map(|o| o.value).sum::<Amount>();
            prop_assert_eq!(sum(&signed.commit_prevouts) - sum(&signed.commit.output), commit_fee);
            prop_assert_eq!(sum(&signed.reveal_prevouts) - sum(&signed.reveal.output), reveal_fee);

            let found = Envelope::from_transaction(&signed.reveal);
            prop_assert_eq!(found.len(), items.len());
            for (n, (envelope, item)) in found.iter().zip(&items).enumerate() {
                prop_assert_eq!(ids[n], InscriptionId::new(signed.reveal.compute_txid(), n as u32));
                prop_assert_eq!(envelope.inscription.body(), item.body());
                prop_assert_eq!(&envelope.inscription.metadata, &item.metadata);
                prop_assert_eq!(envelope.inscription.parent_ids().len(), usize::from(with_parent));
                // Each inscription's sat is the first of its own output.
                let offset = envelope.inscription.pointer().unwrap_or(if with_parent { 10_000 } else { 0 });
                let first_output = usize::from(with_parent);
                let before: u64 = signed.reveal.output[..first_output + n].iter().map(|o| o.value.to_sat()).sum();
                prop_assert_eq!(offset, before);
            }
        }
    }
}
