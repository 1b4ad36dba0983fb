//! The pairs of a run and the report on them: transactions in broadcast order, inscription
//! ids and outputs, fees and postage, and the files written.

use std::path::PathBuf;

use inscription::InscriptionId;

use crate::content::ContentSummary;
use crate::reveal::Prepared;
use crate::wallet::network_name;
use crate::Session;

/// One commit/reveal pair of a run, named for its files (`NAME-commit.hex`…).
#[derive(Debug, Clone)]
pub struct Stage {
    /// File prefix: empty for a single pair.
    pub name: &'static str,
    /// The pair.
    pub prepared: Prepared,
    /// What its envelopes hold, in id order.
    pub contents: Vec<ContentSummary>,
}

impl Stage {
    /// The name used in messages: the stage's, or `inscription` for a single pair.
    pub fn label(&self) -> &'static str {
        if self.name.is_empty() {
            "inscription"
        } else {
            self.name
        }
    }

    /// `kind` (`commit`, `reveal`…) prefixed with the stage's name, if it has one.
    pub fn file_name(&self, kind: &str) -> String {
        if self.name.is_empty() {
            kind.to_owned()
        } else {
            format!("{}-{kind}", self.name)
        }
    }
}

/// The files a run wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileListing {
    /// The recovery descriptors (mode 0600).
    pub recovery: PathBuf,
    /// This summary as JSON.
    pub summary: PathBuf,
    /// The signed transactions, in broadcast order.
    pub transactions: Vec<PathBuf>,
    /// The unsigned commits as PSBTs.
    pub psbts: Vec<PathBuf>,
}

/// One transaction of a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TxSummary {
    /// `commit`, `reveal`, `library-commit`…
    pub name: String,
    /// Its txid.
    pub txid: String,
    /// Its virtual size.
    pub vsize: u64,
    /// Its fee in sat.
    pub fee: u64,
}

/// One inscription of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InscriptionSummary {
    /// Its id, final before anything is signed.
    pub id: InscriptionId,
    /// The reveal output holding it, `txid:vout`.
    pub output: String,
    /// Sats in that output.
    pub postage: u64,
    /// What it holds.
    #[serde(flatten)]
    pub content: ContentSummary,
}

/// The report on a run, as `inscriptions.json` holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// The network's name.
    pub network: &'static str,
    /// Whether nothing was signed or written.
    pub dry_run: bool,
    /// The fee rate in sat/vB.
    pub fee_rate: f64,
    /// In broadcast order.
    pub transactions: Vec<TxSummary>,
    /// Every inscription, in id order.
    pub inscriptions: Vec<InscriptionSummary>,
    /// All fees, in sat.
    pub fees: u64,
    /// All postage, in sat.
    pub postage: u64,
    /// Fees plus postage: what the wallet's spendable balance drops by.
    pub total_cost: u64,
    /// The files written (not on a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<FileListing>,
}

impl Summary {
    /// The report on `stages` of `session`'s run.
    pub fn new(session: &Session, stages: &[Stage], dry_run: bool) -> Summary {
        let mut transactions = Vec::new();
        let mut inscriptions = Vec::new();
        for stage in stages {
            let p = &stage.prepared;
            transactions.push(TxSummary {
                name: stage.file_name("commit"),
                txid: p.commit.tx.compute_txid().to_string(),
                vsize: p.commit.vsize,
                fee: p.commit.fee.to_sat(),
            });
            transactions.push(TxSummary {
                name: stage.file_name("reveal"),
                txid: p.reveal.txid().to_string(),
                vsize: p.reveal.vsize,
                fee: p.reveal.fee.to_sat(),
            });
            // Parents come back first, one output each; the inscriptions follow.
            let first_output = p.reveal.tx.input.len() - 1;
            for (i, (id, content)) in p.ids().into_iter().zip(&stage.contents).enumerate() {
                let vout = first_output + i;
                inscriptions.push(InscriptionSummary {
                    id,
                    output: format!("{}:{vout}", id.txid),
                    postage: p.reveal.tx.output[vout].value.to_sat(),
                    content: content.clone(),
                });
            }
        }
        // Each pair's amounts were checked against 21,000,000 BTC when it was built, so a
        // run's few pairs sum far below u64::MAX; saturating keeps a report from panicking.
        let fees = stages.iter().fold(0u64, |sum, s| {
            sum.saturating_add(s.prepared.fees().to_sat())
        });
        let postage = inscriptions
            .iter()
            .fold(0u64, |sum, i| sum.saturating_add(i.postage));
        Summary {
            network: network_name(session.network()),
            dry_run,
            fee_rate: session.spending().fee_rate.sat_per_vb(),
            transactions,
            inscriptions,
            fees,
            postage,
            total_cost: fees.saturating_add(postage),
            files: None,
        }
    }
}
