//! The publish planner: a library and its relay list in one commit/reveal pair, and a page
//! that imports the library by its final id in a second pair, its child.
//!
//! The page cannot share the library's reveal: its import names the library's id, which is
//! the reveal's txid, which commits (through the commit output) to the page. So the library
//! and relay list go first, and the page follows as the library's child, funded by an output
//! of the first commit sized beforehand with a stand-in id.

use bitcoin::hashes::{sha256, Hash};
use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut, Txid};
use inscription::InscriptionId;

use crate::content::{Content, ContentError, ContentSummary};
use crate::error::Error;
use crate::reveal::{add, Coin, CommitTx, ParentInput, Prepared, RevealTx};
use crate::session::{Event, Session};
use crate::summary::Stage;

/// Virtual bytes of fee headroom for the page: its brotli size depends on the library id,
/// which is only known once the library's transactions are built.
pub const PAGE_SLACK_VB: u64 = 16;

/// The name of the first pair's files (`library-commit.hex`…).
pub const LIBRARY_STAGE: &str = "library";

/// The name of the second pair's files (`page-commit.hex`…).
pub const PAGE_STAGE: &str = "page";

/// An id as incompressible as a real one, to size the page before the library's id exists.
pub fn stand_in_id() -> InscriptionId {
    let hash = sha256::Hash::hash(b"lumamesh library stand-in");
    InscriptionId::new(Txid::from_byte_array(hash.to_byte_array()), 0)
}

/// Plans a publish: stage [`LIBRARY_STAGE`] inscribes `library` (kept at the run's fresh
/// receive address, [`Session::holder`], as the page's parent) and `list` (to the destination), and its commit
/// also funds stage [`PAGE_STAGE`], which inscribes `page(library_id)` as the library's
/// child. `page` gets the library's id and the list's (the parent of later child lists,
/// docs/inscriptions.md): first [`stand_in_id`] and its `i1` to size the second pair, then
/// the real ids.
pub fn plan_publish(
    session: &Session,
    library: &Content,
    list: &Content,
    page: &dyn Fn(&InscriptionId, &InscriptionId) -> Result<Content, ContentError>,
) -> Result<[Stage; 2], Error> {
    let fee_rate = session.spending().fee_rate;
    let page_key = session.leaf_key();
    let stand_in = stand_in_id();
    let library_holder = session.holder().clone();

    session.event(Event::SizingPage);
    let estimate = RevealTx::build(
        session.secp(),
        &session.plan(
            vec![page(&stand_in, &InscriptionId::new(stand_in.txid, 1))?.inscription],
            vec![ParentInput {
                id: stand_in,
                outpoint: OutPoint::null(),
                txout: wallet_output(session.spending().postage, &library_holder),
                return_to: session.destination().clone(),
            }],
        ),
        page_key,
        fee_rate,
    )?;
    let page_funding = add(
        "page funding",
        CommitTx::cost_from_one_coin(&[estimate.commit_output], fee_rate)?,
        fee_rate.checked_fee(PAGE_SLACK_VB)?,
    )?;

    session.event(Event::BuildingLibrary);
    let mut first = session.plan(
        vec![library.inscription.clone(), list.inscription.clone()],
        vec![],
    );
    first.destinations[0] = library_holder;
    let first = Prepared::build(
        session.secp(),
        &first,
        session.leaf_key(),
        &session.fee_coins(),
        vec![wallet_output(page_funding, session.change())],
        session.change().clone(),
        fee_rate,
    )?;
    let (library_id, list_id) = (first.ids()[0], first.ids()[1]);

    session.event(Event::BuildingPage);
    let page = page(&library_id, &list_id)?;
    let parent = ParentInput {
        id: library_id,
        outpoint: OutPoint::new(first.reveal.txid(), 0),
        txout: first.reveal.tx.output[0].clone(),
        return_to: session.destination().clone(),
    };
    let funding = Coin {
        outpoint: OutPoint::new(first.commit.tx.compute_txid(), 1),
        txout: wallet_output(page_funding, session.change()),
    };
    let second = Prepared::build(
        session.secp(),
        &session.plan(vec![page.inscription.clone()], vec![parent]),
        page_key,
        &[funding],
        vec![],
        session.change().clone(),
        fee_rate,
    )?;
    Ok([
        Stage {
            name: LIBRARY_STAGE,
            prepared: first,
            contents: vec![ContentSummary::of(library), ContentSummary::of(list)],
        },
        Stage {
            name: PAGE_STAGE,
            prepared: second,
            contents: vec![ContentSummary::of(&page)],
        },
    ])
}

/// An output a later stage of the same run spends: value and the wallet script it pays.
fn wallet_output(value: Amount, script: &ScriptBuf) -> TxOut {
    TxOut {
        value,
        script_pubkey: script.clone(),
    }
}

#[cfg(test)]
mod tests;
