//! The publish planner's two pairs, built in memory, signed by the test wallet and checked by
//! Bitcoin Core's consensus code.

use bitcoin::{Amount, OutPoint};
use inscription::{Envelope, InscriptionId};

use super::{plan_publish, stand_in_id, LIBRARY_STAGE, PAGE_STAGE};
use crate::content::{Content, ContentError};
use crate::reveal::{BuildError, Signed};
use crate::summary::Stage;
use crate::testing::{session, utxo};
use crate::wallet::Chain;
use crate::{Error, Session};

const PAGE: &str =
    "<script type=module>import { connect } from '/content/ID'; connect('LIST');</script>";

fn contents(session: &Session) -> (Content, Content) {
    let library = session
        .content("library", "text/javascript", vec![b'j'; 3_000], true)
        .unwrap();
    let list = session
        .content(
            "relay list",
            "text/plain;charset=utf-8",
            b"a relay\n".to_vec(),
            false,
        )
        .unwrap();
    (library, list)
}

type PageFn<'a> = dyn Fn(&InscriptionId, &InscriptionId) -> Result<Content, ContentError> + 'a;

fn page(session: &Session) -> Box<PageFn<'_>> {
    Box::new(move |id, list| {
        let html = PAGE
            .replace("ID", &id.to_string())
            .replace("LIST", &list.to_string());
        session.content("page", "text/html;charset=utf-8", html.into_bytes(), false)
    })
}

fn sign(session: &Session, stage: Stage) -> Signed {
    let wallet = session.wallet();
    stage
        .prepared
        .sign(session.secp(), &mut |tx, i, prevouts| {
            wallet
                .sign_key_path(tx, i, prevouts)
                .map_err(|e| e.to_string())
        })
        .unwrap()
}

#[test]
fn two_pairs_the_page_a_child_of_the_library_funded_by_the_first_commit() {
    let session = session(vec![utxo(1, 200_000)]);
    let (library, list) = contents(&session);
    let [first, second] = plan_publish(&session, &library, &list, &page(&session)).unwrap();
    assert_eq!((first.name, second.name), (LIBRARY_STAGE, PAGE_STAGE));
    assert_eq!(first.contents.len(), 2);
    assert_eq!(second.contents.len(), 1);

    // The run's own fresh receive address, never receive/0 (the wallet's funding address).
    let holder = session.holder().clone();
    assert_ne!(
        holder,
        session.wallet().script_pubkey(Chain::Receive, 0).unwrap()
    );
    let library_id = first.prepared.ids()[0];
    let first_reveal = &first.prepared.reveal.tx;
    // The library stays with the wallet (it is the page's parent); the list goes out.
    assert_eq!(first_reveal.output[0].script_pubkey, holder);
    assert_eq!(first_reveal.output[1].script_pubkey, *session.destination());
    assert_eq!(first_reveal.output[0].value, Amount::from_sat(10_000));

    // The first commit's output 1 funds the second commit, which spends nothing else.
    let first_commit = &first.prepared.commit.tx;
    let funding = OutPoint::new(first_commit.compute_txid(), 1);
    assert_eq!(first_commit.output[1].script_pubkey, *session.change());
    let second_commit = &second.prepared.commit.tx;
    assert_eq!(second_commit.input.len(), 1);
    assert_eq!(second_commit.input[0].previous_output, funding);
    assert_eq!(
        second.prepared.commit.prevouts,
        [first_commit.output[1].clone()]
    );

    // The page's reveal spends the library's output and gives it back; the page imports the
    // library by its final id and names it as parent.
    let second_reveal = &second.prepared.reveal.tx;
    assert_eq!(
        second_reveal.input[0].previous_output,
        OutPoint::new(first.prepared.reveal.txid(), 0)
    );
    assert_eq!(second_reveal.output[0].value, Amount::from_sat(10_000));
    let found = Envelope::from_transaction(second_reveal);
    assert_eq!(found.len(), 1);
    let page = &found[0].inscription;
    assert_eq!(page.parent_ids(), vec![library_id]);
    let html = String::from_utf8(page.body().to_vec()).unwrap();
    assert!(html.contains(&format!("/content/{library_id}'")), "{html}");
    assert!(!html.contains(&stand_in_id().txid.to_string()));
    // The page knows the relay list's id (`<library txid>i1`), the parent of child lists.
    let list_id = first.prepared.ids()[1];
    assert_eq!(list_id, InscriptionId::new(library_id.txid, 1));
    assert!(html.contains(&format!("connect('{list_id}')")), "{html}");

    // Both pairs sign and pass libbitcoinconsensus, each against its own spent outputs.
    let first = sign(&session, first);
    let second = sign(&session, second);
    assert_eq!(
        second.commit.input[0].previous_output.txid,
        first.commit.compute_txid()
    );
    assert_eq!(
        second.reveal.input[0].previous_output.txid,
        first.reveal.compute_txid()
    );
}

#[test]
fn the_page_funding_covers_the_second_pair() {
    let session = session(vec![utxo(1, 500_000)]);
    let (library, list) = contents(&session);
    let [first, second] = plan_publish(&session, &library, &list, &page(&session)).unwrap();
    let funding = first.prepared.commit.tx.output[1].value;
    let spent = second.prepared.commit.tx.output[0].value + second.prepared.commit.fee;
    let change = second
        .prepared
        .commit
        .change
        .map(|(_, v)| v)
        .unwrap_or(Amount::ZERO);
    assert_eq!(funding, spent + change);
    // At most the slack (and dust) is left over.
    assert!(change <= Amount::from_sat(1_000), "{change}");
}

#[test]
fn a_page_refused_by_policy_stops_the_plan() {
    let session = session(vec![utxo(1, 200_000)]);
    let (library, list) = contents(&session);
    let refuse = |_: &InscriptionId, _: &InscriptionId| -> Result<Content, ContentError> {
        Err(ContentError::Policy(
            crate::policy::PolicyError::ContentTooLarge {
                name: "page".into(),
                len: 2_000,
                limit: 1_024,
                network: "signet",
            },
        ))
    };
    let err = plan_publish(&session, &library, &list, &refuse).unwrap_err();
    assert!(matches!(err, Error::Policy(_)), "{err}");
}

#[test]
fn too_little_money_for_both_pairs_is_refused() {
    let session = session(vec![utxo(1, 15_000)]);
    let (library, list) = contents(&session);
    let err = plan_publish(&session, &library, &list, &page(&session)).unwrap_err();
    assert!(
        matches!(err, Error::Build(BuildError::InsufficientFunds { .. })),
        "{err}"
    );
}
