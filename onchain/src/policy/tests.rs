//! Fee caps, the test-network content limit and the node-small-outputs rule, in memory.

use bitcoin::{Amount, Network};

use super::{
    check_content_size, content_limit, fee_coins, merge_node_utxos, set_aside, AsideReason,
    FeeCaps, PolicyError, DEFAULT_MAX_FEE, DEFAULT_MAX_FEE_RATE, POSSIBLY_INSCRIBED,
    TEST_NETWORK_CONTENT_LIMIT,
};
use crate::session::{Session, Spending};
use crate::testing::{rate, session, unchecked, utxo, wallet};
use crate::wallet::Checked;
use crate::{Content, ContentError, Error};

#[test]
fn default_caps_refuse_a_fee_rate_above_500() {
    assert_eq!(DEFAULT_MAX_FEE_RATE, 500.0);
    let caps = FeeCaps::default();
    assert!(caps.check_rate(rate(500.0)).is_ok());
    assert!(caps.check_rate(rate(0.1)).is_ok());
    assert_eq!(
        caps.check_rate(rate(500.001)),
        Err(PolicyError::FeeRateAboveCap {
            fee_rate: rate(500.001),
            cap: rate(500.0),
        })
    );
    // A typo of a few orders of magnitude.
    assert!(caps.check_rate(rate(1e12)).is_err());
}

#[test]
fn default_caps_refuse_fees_above_two_and_a_half_million_sat() {
    assert_eq!(DEFAULT_MAX_FEE, Amount::from_sat(2_500_000));
    let caps = FeeCaps::default();
    assert!(caps.check_fees(Amount::from_sat(2_500_000)).is_ok());
    assert_eq!(
        caps.check_fees(Amount::from_sat(2_500_001)),
        Err(PolicyError::FeesAboveCap {
            fees: Amount::from_sat(2_500_001),
            cap: Amount::from_sat(2_500_000),
        })
    );
    assert!(caps.check_fees(Amount::MAX_MONEY).is_err());
}

#[test]
fn allowing_high_fees_goes_past_both_caps() {
    let caps = FeeCaps {
        max_fee_rate: rate(1.0),
        max_fee: Amount::from_sat(1),
        allow_high_fees: true,
    };
    assert!(caps.check_rate(rate(1e9)).is_ok());
    assert!(caps.check_fees(Amount::MAX_MONEY).is_ok());
}

#[test]
fn a_session_refuses_a_rate_above_the_cap_unless_high_fees_are_allowed() {
    let mut spending = Spending::at(rate(5_000.0));
    let err = Session::new(wallet(), vec![utxo(1, 100_000)], None, spending).unwrap_err();
    assert!(
        matches!(err, Error::Policy(PolicyError::FeeRateAboveCap { .. })),
        "{err}"
    );
    spending.caps.allow_high_fees = true;
    assert!(Session::new(wallet(), vec![utxo(1, 100_000)], None, spending).is_ok());
}

#[test]
fn a_session_refuses_a_destination_of_another_network() {
    let mainnet = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr";
    let spending = Spending::at(rate(1.0));
    for bad in [mainnet, "", "not an address", "bcrt1p"] {
        let err = Session::new(wallet(), vec![], Some(bad), spending).unwrap_err();
        assert!(matches!(err, Error::Destination(_)), "{bad:?}: {err}");
    }
}

#[test]
fn test_networks_limit_content_to_1024_bytes() {
    for network in [Network::Testnet, Network::Testnet4, Network::Signet] {
        assert_eq!(content_limit(network), Some(TEST_NETWORK_CONTENT_LIMIT));
        assert!(check_content_size("a", 1_024, network).is_ok());
        assert!(check_content_size("a", 0, network).is_ok());
        let err = check_content_size("a.txt", 1_025, network).unwrap_err();
        assert!(matches!(
            err,
            PolicyError::ContentTooLarge {
                len: 1_025,
                limit: 1_024,
                ..
            }
        ));
        assert!(err.to_string().contains("1024-byte"), "{err}");
    }
    for network in [Network::Bitcoin, Network::Regtest] {
        assert_eq!(content_limit(network), None);
        assert!(check_content_size("a", 4_000_000, network).is_ok());
    }
}

#[test]
fn the_limit_counts_bytes_before_compression() {
    // 2,000 bytes that brotli makes tiny are still more than ord indexes on signet.
    let body = vec![b'x'; 2_000];
    let err = Content::new("a.txt", "text/plain", body.clone(), true, Network::Signet).unwrap_err();
    assert!(matches!(
        err,
        ContentError::Policy(PolicyError::ContentTooLarge { len: 2_000, .. })
    ));
    let content = Content::new("a.txt", "text/plain", body, true, Network::Regtest).unwrap();
    assert_eq!(content.raw_len, 2_000);
    assert!(content.inscription.body().len() < 100);
    assert_eq!(content.inscription.content_encoding(), Some("br"));
}

#[test]
fn small_unchecked_outputs_never_pay_fees() {
    let node = vec![
        unchecked(1, POSSIBLY_INSCRIBED.to_sat()),
        unchecked(2, POSSIBLY_INSCRIBED.to_sat() + 1),
        unchecked(3, 330),
        unchecked(4, 0),
    ];
    let merged = merge_node_utxos(vec![], node);
    assert_eq!(merged.len(), 4, "every output is kept, for parents");
    let coins = fee_coins(&merged);
    assert_eq!(coins.len(), 1);
    assert_eq!(coins[0].outpoint, merged[1].outpoint);
    let aside = set_aside(&merged);
    let outpoints: Vec<_> = aside.iter().map(|a| a.outpoint).collect();
    assert_eq!(
        outpoints,
        [merged[0].outpoint, merged[2].outpoint, merged[3].outpoint]
    );
    assert!(aside.iter().all(|a| a.reason == AsideReason::Unchecked));
    let shown = aside[0].to_string();
    assert!(
        shown.starts_with(&format!("{}:0 (20000 sat): ", "01".repeat(32))),
        "{shown}"
    );
}

#[test]
fn a_file_entry_vouched_with_an_empty_list_may_pay_fees_one_without_may_not() {
    // `"inscriptions": []` in the file: the user vouches; no field: nobody did.
    let vouched = utxo(1, 10_000);
    assert_eq!(vouched.checked, Checked::File);
    let silent = unchecked(2, 10_000);
    let coins = fee_coins(&[vouched.clone(), silent]);
    assert_eq!(coins.len(), 1);
    assert_eq!(coins[0].outpoint, vouched.outpoint);
}

#[test]
fn the_file_wins_over_the_node_for_the_same_outpoint() {
    let id = format!("{}i0", "ab".repeat(32));
    // The file says this small output is free of inscriptions: it may pay fees.
    let listed_free = utxo(1, 5_000);
    // The file says this large one holds an inscription: it never pays fees.
    let mut listed_inscribed = utxo(2, 50_000);
    listed_inscribed.inscriptions.push(id.clone());
    let node = vec![
        unchecked(1, 5_000),
        unchecked(2, 50_000),
        unchecked(2, 50_000),
    ];
    let merged = merge_node_utxos(vec![listed_free, listed_inscribed], node);
    assert_eq!(merged.len(), 2, "no outpoint twice");
    assert!(!merged[0].is_inscribed());
    assert_eq!(merged[1].inscriptions, [id]);
    let coins = fee_coins(&merged);
    assert_eq!(coins.len(), 1);
    assert_eq!(coins[0].txout.value, Amount::from_sat(5_000));
}

#[test]
fn a_small_node_output_listed_in_the_file_can_be_a_parent() {
    let parent: inscription::InscriptionId = format!("{}i0", "cd".repeat(32)).parse().unwrap();
    let mut listed = utxo(7, 10_000);
    listed.inscriptions.push(parent.to_string());
    let utxos = merge_node_utxos(
        vec![listed],
        vec![unchecked(7, 10_000), unchecked(8, 100_000)],
    );
    let session = session(utxos);
    let input = session.parent(parent).unwrap();
    assert_eq!(input.txout.value, Amount::from_sat(10_000));
    assert_eq!(&input.return_to, &input.txout.script_pubkey);
    // An id no output lists is refused, as is one on an output of another wallet.
    let other: inscription::InscriptionId = format!("{}i1", "cd".repeat(32)).parse().unwrap();
    assert!(matches!(
        session.parent(other),
        Err(Error::ParentNotListed { .. })
    ));
}

#[test]
fn a_parent_on_a_foreign_output_is_refused() {
    let parent: inscription::InscriptionId = format!("{}i0", "ef".repeat(32)).parse().unwrap();
    let mut foreign = crate::testing::utxo_at(5, 0, 10_000, crate::testing::foreign_script());
    foreign.inscriptions.push(parent.to_string());
    let session = session(vec![foreign, utxo(6, 100_000)]);
    assert!(matches!(
        session.parent(parent),
        Err(Error::ParentNotOurs { .. })
    ));
}

#[test]
fn only_small_unchecked_outputs_is_not_enough_funds_and_the_error_names_them() {
    let utxos = merge_node_utxos(vec![], vec![unchecked(1, 20_000), unchecked(2, 20_000)]);
    let session = session(utxos);
    let content = session
        .content("a", "text/plain", b"hi".to_vec(), false)
        .unwrap();
    let err = session
        .prepare(&session.plan(vec![content.inscription], vec![]))
        .unwrap_err();
    match &err {
        Error::InsufficientFunds {
            available: 0,
            set_aside,
            ..
        } => assert_eq!(set_aside.len(), 2),
        other => panic!("{other}"),
    }
    let message = err.to_string();
    assert!(message.contains("not enough funds"), "{message}");
    assert!(
        message.contains(&format!("{}:0 (20000 sat)", "02".repeat(32))),
        "{message}"
    );
}
