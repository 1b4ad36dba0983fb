//! Money near the edges: coins near `u64::MAX` or 21,000,000 BTC, postage times many
//! inscriptions, absurd fee rates. Building never panics or wraps: it is refused with the
//! amount named, or every total adds up to the sat.

use bitcoin::hashes::Hash;
use bitcoin::key::{Keypair, Secp256k1};
use bitcoin::secp256k1::SecretKey;
use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut, Txid, XOnlyPublicKey};
use inscription::{Inscription, InscriptionId};
use proptest::prelude::{any, prop_assert, prop_assert_eq, prop_oneof, proptest, Just, Strategy};
use proptest::test_runner::Config as ProptestConfig;

use super::{
    check_standard, verify_transaction, BuildError, Coin, FeeRate, ParentInput, Prepared,
    RevealPlan,
};

/// 21,000,000 BTC in sat.
const MAX_MONEY: u64 = 21_000_000 * 100_000_000;

fn key(seed: u8) -> Keypair {
    Keypair::from_secret_key(
        &Secp256k1::new(),
        &SecretKey::from_slice(&[seed; 32]).unwrap(),
    )
}

fn script() -> ScriptBuf {
    let (xonly, _) = XOnlyPublicKey::from_keypair(&key(1));
    ScriptBuf::new_p2tr(&Secp256k1::new(), xonly, None)
}

fn coin(n: u8, sats: u64) -> Coin {
    Coin {
        outpoint: OutPoint::new(Txid::from_byte_array([n; 32]), 0),
        txout: TxOut {
            value: Amount::from_sat(sats),
            script_pubkey: script(),
        },
    }
}

fn plan(count: usize, postage: u64, parents: &[u64]) -> RevealPlan {
    RevealPlan {
        inscriptions: vec![Inscription::new("text/plain", b"x".to_vec()); count],
        destinations: vec![script(); count],
        postage: Amount::from_sat(postage),
        parents: parents
            .iter()
            .enumerate()
            .map(|(n, &sats)| ParentInput {
                id: InscriptionId::new(Txid::from_byte_array([100 + n as u8; 32]), 0),
                outpoint: OutPoint::new(Txid::from_byte_array([100 + n as u8; 32]), 0),
                txout: TxOut {
                    value: Amount::from_sat(sats),
                    script_pubkey: script(),
                },
                return_to: script(),
            })
            .collect(),
    }
}

fn build(plan: &RevealPlan, coins: &[Coin], rate: f64) -> Result<Prepared, BuildError> {
    Prepared::build(
        &Secp256k1::new(),
        plan,
        key(2),
        coins,
        vec![],
        script(),
        FeeRate::from_sat_per_vb(rate).unwrap(),
    )
}

/// The error's message, which must say which amount was out of range.
fn refused(result: Result<Prepared, BuildError>) -> String {
    match result {
        Ok(p) => panic!("built, fees {}", p.fees()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn coins_summing_past_u64_are_refused() {
    // Neither coin alone pays the fee at this rate; together they overflow u64.
    let message = refused(build(
        &plan(1, 10_000, &[]),
        &[coin(1, u64::MAX - 5), coin(2, u64::MAX - 7)],
        1e17,
    ));
    assert!(message.contains("21,000,000 BTC"), "{message}");
}

#[test]
fn a_coin_above_all_bitcoin_is_refused() {
    let message = refused(build(&plan(1, 10_000, &[]), &[coin(1, MAX_MONEY + 1)], 1.0));
    assert!(message.contains("21,000,000 BTC"), "{message}");
}

#[test]
fn fee_rate_past_all_bitcoin_is_refused() {
    // With --force a rate has no cap; its fee must still be refused, not wrap or panic.
    let message = refused(build(&plan(1, 10_000, &[]), &[coin(1, 100_000)], 1e300));
    assert!(message.contains("fee"), "{message}");
    assert!(message.contains("21,000,000 BTC"), "{message}");
}

#[test]
fn huge_postage_times_inscriptions_is_refused() {
    let message = refused(build(&plan(3, u64::MAX / 2, &[]), &[coin(1, 100_000)], 1.0));
    assert!(message.contains("postage"), "{message}");
}

#[test]
fn postage_above_ords_maximum_is_refused() {
    let message = refused(build(&plan(1, 20_001, &[]), &[coin(1, 100_000)], 1.0));
    assert!(message.contains("20000 sat"), "{message}");
    // ord's own ceiling is allowed.
    build(&plan(1, 20_000, &[]), &[coin(1, 100_000)], 1.0).unwrap();
}

#[test]
fn parents_summing_past_u64_are_refused() {
    let message = refused(build(
        &plan(2, 10_000, &[u64::MAX - 1, u64::MAX - 1]),
        &[coin(1, 100_000)],
        1.0,
    ));
    assert!(message.contains("21,000,000 BTC"), "{message}");
}

/// Values that matter at the edges: dust, ord's postage, whole bitcoin, all of it, u64.
fn sats() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..1_000,
        Just(330u64),
        Just(10_000u64),
        1_000u64..100_000_000,
        (MAX_MONEY - 1_000)..=MAX_MONEY,
        MAX_MONEY..=(MAX_MONEY + 1_000),
        (u64::MAX - 1_000)..=u64::MAX,
        any::<u64>(),
    ]
}

fn rates() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.1f64..100.0,
        1e6f64..1e12,
        1e15f64..1e20,
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
    ]
}

fn sum(outs: &[TxOut]) -> u128 {
    outs.iter().map(|o| u128::from(o.value.to_sat())).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the coins, postage, parents and rate: no panic; either a refusal, or two
    /// transactions whose inputs equal outputs plus fee, every amount a bitcoin amount.
    #[test]
    fn money_always_adds_up_or_is_refused(
        coins in proptest::collection::vec(sats(), 1..4),
        postage in prop_oneof![sats(), 330u64..=20_000],
        parents in proptest::collection::vec(sats(), 0..3),
        count in 1usize..4,
        rate in rates(),
    ) {
        let coins: Vec<Coin> = coins.iter().enumerate().map(|(n, &s)| coin(n as u8, s)).collect();
        let plan = plan(count, postage, &parents);
        // A panic fails the property: proptest catches it and shrinks the case.
        if let Ok(p) = build(&plan, &coins, rate) {
            let commit_in = sum(&p.commit.prevouts);
            let commit_out = sum(&p.commit.tx.output);
            prop_assert_eq!(commit_in, commit_out + u128::from(p.commit.fee.to_sat()));
            let reveal_in = sum(&p.reveal.prevouts());
            let reveal_out = sum(&p.reveal.tx.output);
            prop_assert_eq!(reveal_in, reveal_out + u128::from(p.reveal.fee.to_sat()));
            prop_assert_eq!(p.reveal.commit_output.value, p.commit.tx.output[0].value);
            prop_assert!(commit_in <= u128::from(MAX_MONEY));
            prop_assert!(reveal_in <= u128::from(MAX_MONEY));
            for out in p.commit.tx.output.iter().chain(&p.reveal.tx.output) {
                prop_assert!(out.value.to_sat() <= MAX_MONEY);
            }
            prop_assert!(postage <= 20_000);
            prop_assert_eq!(p.fees().to_sat(), p.commit.fee.to_sat() + p.reveal.fee.to_sat());
        }
    }
}

/// Bitcoin Core refuses outputs (one, or all together) and spent outputs past 21,000,000
/// BTC before anything else (`bad-txns-vout-toolarge`, `bad-txns-txouttotal-toolarge`,
/// `bad-txns-inputvalues-outofrange`); so do the checks every transaction passes here.
#[test]
fn values_past_all_bitcoin_fail_verification() {
    let p = build(&plan(1, 10_000, &[]), &[coin(1, 100_000)], 1.0).unwrap();
    let mut tx = p.commit.tx.clone();
    let huge = Amount::from_sat(u64::MAX - 1);
    tx.output[0].value = huge;
    tx.output[1].value = huge;
    let err = check_standard(&tx, &p.commit.prevouts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("21,000,000 BTC"), "{err}");
    let err = verify_transaction(&tx, &p.commit.prevouts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("21,000,000 BTC"), "{err}");

    let tx = p.commit.tx.clone();
    let mut prevouts = p.commit.prevouts.clone();
    prevouts[0].value = Amount::from_sat(MAX_MONEY + 1);
    let err = verify_transaction(&tx, &prevouts).unwrap_err().to_string();
    assert!(err.contains("21,000,000 BTC"), "{err}");
}
