//! `lumamesh publish`

use std::path::PathBuf;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::{OutPoint, TxOut, Txid};
use inscribe::page::{link_library, starter_page, InscriptionId, Runtime};
use inscribe::reveal::{Coin, CommitTx, ParentInput, Prepared, RevealTx};
use inscribe::wallet::Chain;
use sandbox_runtime::Flavor;

use crate::input::{read_text, read_verified_relays};
use crate::onchain::{wallet_output, ContentSummary, Onchain, OnchainArgs, Stage};
use crate::UsageError;

/// Virtual bytes of fee headroom for the page: its brotli size depends on the library id,
/// which is only known once the library's transactions are built.
const PAGE_SLACK_VB: u64 = 16;

#[derive(Debug, clap::Args)]
pub struct Publish {
    /// Relay list (every entry must verify): embedded in the library and inscribed as is.
    #[arg(long, value_name = "FILE")]
    relays: PathBuf,
    /// The page; it imports the library as /content/LUMAMESH_LIBRARY_ID (see `lumamesh page
    /// new NAME --publish`). Default: the starter page.
    #[arg(long, value_name = "FILE")]
    page: Option<PathBuf>,
    /// Title and room of the default starter page.
    #[arg(long, value_name = "NAME", default_value = "lumamesh")]
    name: String,
    #[command(flatten)]
    onchain: OnchainArgs,
}

impl Publish {
    /// A publish of `relays` with the default starter page named `name`.
    pub fn new(relays: PathBuf, name: &str, onchain: OnchainArgs) -> Self {
        Self {
            relays,
            page: None,
            name: name.to_owned(),
            onchain,
        }
    }

    pub fn run(self) -> anyhow::Result<()> {
        let entries = read_verified_relays(&self.relays)?;
        let (relays_name, relays_text) = read_text(&self.relays)?;
        let (page_name, template) = match &self.page {
            Some(p) => read_text(p)?,
            None => (
                "starter page".to_owned(),
                starter_page(&self.name, &Runtime::Published),
            ),
        };
        // Sized with an id as incompressible as a real one.
        let stand_in = InscriptionId::new(
            Txid::from_byte_array(sha256::Hash::hash(b"lumamesh library stand-in").to_byte_array()),
            0,
        );
        link_library(&template, &stand_in).map_err(|e| UsageError(format!("{page_name}: {e}")))?;

        let onchain = Onchain::open(self.onchain)?;
        onchain.step("bundling the runtime");
        let bundle = sandbox_runtime::bundle_as(&entries, Flavor::Module)?;
        let library = onchain.content(
            "library (lumamesh.js)",
            super::bundle::CONTENT_TYPE,
            bundle.js.into_bytes(),
            true,
        )?;
        let list_name = match self.relays.file_name() {
            Some(f) => format!("relay list ({})", f.to_string_lossy()),
            None => relays_name,
        };
        let list = onchain.content(
            &list_name,
            "text/plain;charset=utf-8",
            relays_text.into_bytes(),
            true,
        )?;
        let page_content = |library: &InscriptionId| {
            let html = link_library(&template, library).expect("checked above");
            onchain.content(
                &page_name,
                "text/html;charset=utf-8",
                html.into_bytes(),
                true,
            )
        };
        let page_key = onchain.leaf_key();
        let fee_rate = onchain.args.fee_rate;

        // The page cannot share the library's reveal: its import names the library's id,
        // which is the reveal's txid, which commits (through the commit output) to the
        // page. So the library and relay list go first, and the page follows as the
        // library's child, funded by an output of the first commit sized beforehand.
        onchain.step("sizing the page's transactions");
        let library_holder = onchain.wallet.script_pubkey(Chain::Receive, 0)?;
        let estimate = RevealTx::build(
            &onchain.secp,
            &onchain.plan(
                vec![page_content(&stand_in)?.inscription],
                vec![ParentInput {
                    id: stand_in,
                    outpoint: OutPoint::null(),
                    txout: wallet_output(onchain.postage(), &library_holder),
                    return_to: onchain.destination.clone(),
                }],
            ),
            page_key,
            fee_rate,
        )?;
        let page_funding = CommitTx::cost_from_one_coin(&[estimate.commit_output], fee_rate)
            + fee_rate.fee(PAGE_SLACK_VB);

        onchain.step("building the library's commit and reveal");
        let mut first = onchain.plan(
            vec![library.inscription.clone(), list.inscription.clone()],
            vec![],
        );
        first.destinations[0] = library_holder;
        let first = Prepared::build(
            &onchain.secp,
            &first,
            onchain.leaf_key(),
            &onchain.coins(),
            vec![wallet_output(page_funding, &onchain.change)],
            onchain.change.clone(),
            fee_rate,
        )?;
        let library_id = first.ids()[0];

        onchain.step("building the page's commit and reveal");
        let page = page_content(&library_id)?;
        let parent = ParentInput {
            id: library_id,
            outpoint: OutPoint::new(first.reveal.txid(), 0),
            txout: first.reveal.tx.output[0].clone(),
            return_to: onchain.destination.clone(),
        };
        let funding = Coin {
            outpoint: OutPoint::new(first.commit.tx.compute_txid(), 1),
            txout: TxOut {
                value: page_funding,
                script_pubkey: onchain.change.clone(),
            },
        };
        let second = Prepared::build(
            &onchain.secp,
            &onchain.plan(vec![page.inscription.clone()], vec![parent]),
            page_key,
            &[funding],
            vec![],
            onchain.change.clone(),
            fee_rate,
        )?;
        let stages = vec![
            Stage {
                name: "library",
                prepared: first,
                contents: vec![ContentSummary::of(&library), ContentSummary::of(&list)],
            },
            Stage {
                name: "page",
                prepared: second,
                contents: vec![ContentSummary::of(&page)],
            },
        ];
        onchain.finish(stages)
    }
}
