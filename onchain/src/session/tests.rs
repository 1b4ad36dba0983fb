//! Where a session sends inscriptions and change: fresh, distinct addresses from the
//! recorded next indices; and, over random wallets, coins and bodies, the money adds up.

use std::sync::OnceLock;

use bitcoin::{Amount, Transaction};
use proptest::prelude::{prop_assert, prop_assert_eq, prop_assert_ne, proptest};
use proptest::test_runner::Config as ProptestConfig;

use super::{Session, Spending};
use crate::policy::POSSIBLY_INSCRIBED;
use crate::testing::{rate, utxo_at, wallet};
use crate::wallet::{Chain, Checked, NextIndices, Utxo, Wallet};

fn open(utxos: Vec<Utxo>, next: NextIndices) -> Session {
    Session::open(wallet(), utxos, None, Spending::at(rate(2.0)), next).unwrap()
}

/// The test wallet, derived once for all cases.
fn cached() -> &'static Wallet {
    static WALLET: OnceLock<Wallet> = OnceLock::new();
    WALLET.get_or_init(wallet)
}

fn receive(index: u32) -> bitcoin::ScriptBuf {
    cached().script_pubkey(Chain::Receive, index).unwrap()
}

fn change(index: u32) -> bitcoin::ScriptBuf {
    cached().script_pubkey(Chain::Change, index).unwrap()
}

#[test]
fn inscriptions_never_default_to_the_first_funding_address() {
    let coin = utxo_at(1, 0, 100_000, receive(0));
    let session = open(vec![coin], NextIndices::default());
    assert_eq!(session.destination(), &receive(1));
    assert_eq!(session.holder(), &receive(1));
    assert_eq!(session.change(), &change(0));
    assert_eq!(
        session.next_indices(),
        NextIndices {
            receive: 2,
            change: 1
        }
    );
}

#[test]
fn the_next_indices_are_used_and_indices_holding_coins_are_skipped() {
    // Coins at receive/5 and change/3 (funded there by another tool): not reused.
    let coins = vec![
        utxo_at(1, 0, 100_000, receive(5)),
        utxo_at(2, 0, 100_000, change(3)),
    ];
    let next = NextIndices {
        receive: 5,
        change: 3,
    };
    let session = open(coins, next);
    assert_eq!(session.destination(), &receive(6));
    assert_eq!(session.change(), &change(4));
    assert_eq!(
        session.next_indices(),
        NextIndices {
            receive: 7,
            change: 5
        }
    );
}

#[test]
fn a_far_index_is_still_recognised_as_the_wallets() {
    let next = NextIndices {
        receive: 5_000,
        change: 5_000,
    };
    let session = open(vec![utxo_at(1, 0, 100_000, receive(5_000))], next);
    assert_eq!(
        session.wallet().find(session.change()),
        Some((Chain::Change, 5_000))
    );
    assert_eq!(
        session.wallet().find(session.destination()),
        Some((Chain::Receive, 5_001))
    );
}

fn sum(outputs: &[bitcoin::TxOut]) -> Amount {
    outputs.iter().map(|o| o.value).sum()
}

fn out_sum(tx: &Transaction) -> Amount {
    sum(&tx.output)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any recorded indices, coins at any wallet addresses (vouched or not), any body: the
    /// commit's inputs are its outputs plus its fee, the reveal's too; postage goes to the
    /// run's fresh receive address and change to its fresh change address, neither of them
    /// an address a coin of the run sits at; a small unchecked coin never pays.
    #[test]
    fn money_adds_up_and_each_output_goes_to_its_own_fresh_address(
        next_receive in 0u32..40,
        next_change in 0u32..40,
        coins in proptest::collection::vec((0u32..45, proptest::bool::ANY, 1u64..400_000, proptest::bool::ANY), 1..6),
        body_len in 0usize..1_500,
        fee_rate in 1u32..30,
    ) {
        let utxos: Vec<Utxo> = coins
            .iter()
            .enumerate()
            .map(|(n, &(index, on_change, sats, vouched))| {
                let script = if on_change { change(index) } else { receive(index) };
                let coin = utxo_at(n as u8 + 1, 0, sats, script);
                if vouched { coin } else { Utxo { checked: Checked::No, ..coin } }
            })
            .collect();
        let next = NextIndices { receive: next_receive, change: next_change };
        let spending = Spending::at(rate(f64::from(fee_rate)));
        let session = Session::open(wallet(), utxos.clone(), None, spending, next).unwrap();

        let index_of = |script: &bitcoin::ScriptBuf, chain: Chain| {
            (0..100).find(|&i| &cached().script_pubkey(chain, i).unwrap() == script)
        };
        let holder_index = index_of(session.holder(), Chain::Receive).unwrap();
        let change_index = index_of(session.change(), Chain::Change).unwrap();
        prop_assert!(holder_index >= next_receive.max(1));
        prop_assert!(change_index >= next_change);
        prop_assert!(utxos.iter().all(|u| &u.script_pubkey != session.holder() && &u.script_pubkey != session.change()));
        prop_assert_ne!(session.holder(), session.change());
        let after = session.next_indices();
        prop_assert!(after.receive > holder_index && after.change > change_index);

        let content = session.content("a", "text/plain", vec![b'a'; body_len], false).unwrap();
        let prepared = match session.prepare(&session.plan(vec![content.inscription], vec![])) {
            Ok(p) => p,
            // Too poor is fine; what it spent is what matters.
            Err(_) => return Ok(()),
        };
        let commit = &prepared.commit;
        prop_assert_eq!(sum(&commit.prevouts), out_sum(&commit.tx) + commit.fee);
        for input in &commit.tx.input {
            let coin = utxos.iter().find(|u| u.outpoint == input.previous_output).unwrap();
            prop_assert!(crate::policy::may_pay_fees(coin));
            prop_assert!(coin.value > POSSIBLY_INSCRIBED || coin.checked != Checked::No);
        }
        if let Some((vout, value)) = commit.change {
            prop_assert_eq!(&commit.tx.output[vout].script_pubkey, session.change());
            prop_assert_eq!(commit.tx.output[vout].value, value);
        }
        let reveal = &prepared.reveal;
        prop_assert_eq!(reveal.commit_output.value, out_sum(&reveal.tx) + reveal.fee);
        prop_assert_eq!(&reveal.tx.output[0].script_pubkey, session.destination());
        prop_assert_eq!(reveal.tx.output[0].value, session.spending().postage);
        prop_assert_eq!(reveal.tx.output.len(), 1);
    }
}
