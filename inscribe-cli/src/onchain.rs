//! What `lumamesh inscribe` and `lumamesh publish` share: the wallet and money flags, the
//! safety checks, signing, and writing results out — the recovery key first.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bitcoin::bip32::KeySource;
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::key::{Keypair, Secp256k1};
use bitcoin::psbt::Psbt;
use bitcoin::secp256k1::All;
use bitcoin::{Amount, Network, ScriptBuf, Transaction, TxOut, Witness};
use bootstrap_codec::{write_atomic, write_secret_atomic};
use indicatif::{ProgressBar, ProgressStyle};
use inscribe::reveal::{smaller_encoding, Coin, FeeRate, ParentInput, Prepared, RevealPlan};
use inscribe::wallet::{
    check_address, network_name, parse_network, rawtr_descriptor, Chain, Utxo, Wallet,
};
use inscription::{Inscription, InscriptionId};

use crate::UsageError;

/// Outputs from a node at or below this are treated as possibly inscribed.
const RPC_POSSIBLY_INSCRIBED: Amount = Amount::from_sat(20_000);

/// ord's content limit on testnet, testnet4 and signet (it would not index more).
pub const TEST_NETWORK_CONTENT_LIMIT: usize = 1_024;

/// The wallet, fee and output flags of commands that build transactions.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("keys").required(true).args(["mnemonic_file", "wallet_dir"]))]
pub struct OnchainArgs {
    /// Network: mainnet, testnet, testnet4, signet or regtest. Always explicit, so nothing
    /// reaches mainnet by default; every address and the wallet are checked against it.
    #[arg(long, value_name = "NETWORK")]
    pub network: String,
    /// Funding UTXOs as JSON: an array of {txid, vout, value (sat) | amount (BTC),
    /// address | scriptPubKey, inscriptions?}. `bitcoin-cli listunspent` output works as
    /// is. Outputs listing inscriptions are never spent as fees.
    #[arg(long, value_name = "FILE", required_unless_present = "rpc_url")]
    pub utxos: Option<PathBuf>,
    /// Also take funding UTXOs from a Bitcoin Core node's `listunspent` (http://host:port,
    /// with --rpc-cookie). A node does not know which outputs carry inscriptions: its
    /// outputs of 20,000 sat or less (ord's postage range) are never spent as fees; list
    /// inscribed ones in --utxos to use them as parents.
    #[arg(long, value_name = "URL", requires = "rpc_cookie")]
    pub rpc_url: Option<String>,
    /// The node's `.cookie` file, for --rpc-url.
    #[arg(long, value_name = "FILE")]
    pub rpc_cookie: Option<PathBuf>,
    /// BIP39 mnemonic of the wallet (BIP86 taproot keys).
    #[arg(long, value_name = "FILE")]
    pub mnemonic_file: Option<PathBuf>,
    /// Wallet directory made by `lumamesh wallet create`.
    #[arg(long, value_name = "DIR")]
    pub wallet_dir: Option<PathBuf>,
    /// Fee rate in sat/vB for every transaction.
    #[arg(long, value_name = "SAT/VB")]
    pub fee_rate: FeeRate,
    /// Refuse a --fee-rate above this unless --force.
    #[arg(long, value_name = "SAT/VB", default_value = "2000")]
    pub max_fee_rate: FeeRate,
    /// Refuse if all fees together exceed this many sats unless --force.
    #[arg(long, value_name = "SATS", default_value_t = 1_000_000)]
    pub max_fee: u64,
    /// Sats in each inscription's output (at least the dust limit, 330 for P2TR).
    #[arg(long, value_name = "SATS", default_value_t = 10_000)]
    pub postage: u64,
    /// Address the inscriptions go to (default: the wallet's first receive address).
    #[arg(long, value_name = "ADDRESS")]
    pub destination: Option<String>,
    /// Directory for the signed transactions, the commit PSBT and the recovery key.
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    pub out: Option<PathBuf>,
    /// Build and size everything, print vsize, fees and total cost, sign nothing and write
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Go past the fee caps, and replace files already in --out.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON (and no progress).
    #[arg(long)]
    pub json: bool,
}

/// One body, ready for an envelope, and what it was before.
pub struct Content {
    /// Where it came from (for messages and the summary).
    pub name: String,
    /// Bytes before compression.
    pub raw_len: usize,
    /// The inscription.
    pub inscription: Inscription,
}

/// One commit/reveal pair of a run, named for its files (`NAME-commit.hex`…).
pub struct Stage {
    /// File prefix: empty for a single pair.
    pub name: &'static str,
    /// The pair.
    pub prepared: Prepared,
    /// What its envelopes hold, in id order.
    pub contents: Vec<ContentSummary>,
}

/// A wallet opened for a command, with its coins and where outputs go.
pub struct Onchain {
    /// The flags.
    pub args: OnchainArgs,
    /// The network.
    pub network: Network,
    /// The wallet.
    pub wallet: Wallet,
    /// Every UTXO in the file.
    pub utxos: Vec<Utxo>,
    /// Where inscriptions go.
    pub destination: ScriptBuf,
    /// Where change goes.
    pub change: ScriptBuf,
    /// Signing context.
    pub secp: Secp256k1<All>,
    progress: ProgressBar,
}

impl Onchain {
    /// Checks the flags, opens the wallet and loads the UTXOs.
    pub fn open(args: OnchainArgs) -> anyhow::Result<Self> {
        let network = parse_network(&args.network).map_err(|e| UsageError(e.to_string()))?;
        if args.fee_rate > args.max_fee_rate && !args.force {
            return Err(UsageError(format!(
                "--fee-rate {} is above --max-fee-rate {}; pass --force if you mean it",
                args.fee_rate, args.max_fee_rate
            ))
            .into());
        }
        let wallet = match (&args.mnemonic_file, &args.wallet_dir) {
            (Some(file), _) => Wallet::from_mnemonic_file(file, network),
            (None, Some(dir)) => Wallet::open(dir, network),
            (None, None) => unreachable!("clap requires --mnemonic-file or --wallet-dir"),
        }
        .map_err(|e| UsageError(e.to_string()))?;
        let utxos = load_funding(&args, network)?;
        let destination = match &args.destination {
            Some(a) => check_address(a, network)
                .map_err(|e| UsageError(format!("--destination: {e}")))?
                .script_pubkey(),
            None => wallet.script_pubkey(Chain::Receive, 0)?,
        };
        let change = wallet.script_pubkey(Chain::Change, 0)?;
        let progress = if args.json {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("template"));
            bar
        };
        Ok(Self {
            args,
            network,
            wallet,
            utxos,
            destination,
            change,
            secp: Secp256k1::new(),
            progress,
        })
    }

    /// Shows what is happening (not with --json).
    pub fn step(&self, message: &str) {
        self.progress.set_message(message.to_owned());
        self.progress.tick();
    }

    /// The wallet's coins that may pay fees: those carrying no inscription.
    pub fn coins(&self) -> Vec<Coin> {
        self.utxos
            .iter()
            .filter(|u| !u.is_inscribed())
            .map(|u| Coin {
                outpoint: u.outpoint,
                txout: u.txout(),
            })
            .collect()
    }

    /// Reads `body` for inscribing as `content_type`: refuses what ord would not index on
    /// test networks, and brotli-compresses it (quality 11, window 24) when `compress` and
    /// that makes it smaller.
    pub fn content(
        &self,
        name: &str,
        content_type: &str,
        body: Vec<u8>,
        compress: bool,
    ) -> anyhow::Result<Content> {
        let limited = matches!(
            self.network,
            Network::Testnet | Network::Testnet4 | Network::Signet
        );
        if limited && body.len() > TEST_NETWORK_CONTENT_LIMIT {
            return Err(UsageError(format!(
                "{name}: {} bytes is over ord's {TEST_NETWORK_CONTENT_LIMIT}-byte content limit \
                 for {} inscriptions (ord would not index it)",
                body.len(),
                network_name(self.network)
            ))
            .into());
        }
        let raw_len = body.len();
        let mut inscription = Inscription::new(content_type, body);
        if compress {
            self.step(&format!("compressing {name} (brotli q11)"));
            inscription = smaller_encoding(inscription)?;
        }
        Ok(Content {
            name: name.to_owned(),
            raw_len,
            inscription,
        })
    }

    /// The wallet output holding `parent`, to spend into the reveal and back to the wallet.
    pub fn parent(&self, parent: InscriptionId) -> anyhow::Result<ParentInput> {
        let id = parent.to_string();
        let utxo = self
            .utxos
            .iter()
            .find(|u| u.inscriptions.contains(&id))
            .ok_or_else(|| {
                UsageError(format!(
                    "parent {id}: no UTXO in --utxos lists it under \"inscriptions\""
                ))
            })?;
        if self.wallet.find(&utxo.script_pubkey).is_none() {
            return Err(UsageError(format!(
                "parent {id}: output {} is not this wallet's, so it cannot be spent",
                utxo.outpoint
            ))
            .into());
        }
        Ok(ParentInput {
            id: parent,
            outpoint: utxo.outpoint,
            txout: utxo.txout(),
            return_to: utxo.script_pubkey.clone(),
        })
    }

    /// A plan sending every inscription to the destination with the postage asked for.
    pub fn plan(&self, inscriptions: Vec<Inscription>, parents: Vec<ParentInput>) -> RevealPlan {
        RevealPlan {
            destinations: vec![self.destination.clone(); inscriptions.len()],
            inscriptions,
            postage: self.postage(),
            parents,
        }
    }

    /// The postage of each inscription output.
    pub fn postage(&self) -> Amount {
        Amount::from_sat(self.args.postage)
    }

    /// A fresh random leaf key (also the taproot internal key), as ord makes one.
    pub fn leaf_key(&self) -> Keypair {
        Keypair::new(&self.secp, &mut bitcoin::secp256k1::rand::thread_rng())
    }

    /// Checks the caps, then either prints the dry run or signs, verifies, writes the files
    /// (recovery key first) and prints the result.
    pub fn finish(self, stages: Vec<Stage>) -> anyhow::Result<()> {
        let fees: Amount = stages.iter().map(|s| s.prepared.fees()).sum();
        if fees.to_sat() > self.args.max_fee && !self.args.force {
            return Err(UsageError(format!(
                "fees total {} sat, above --max-fee {} sat; pass --force if you mean it",
                fees.to_sat(),
                self.args.max_fee
            ))
            .into());
        }
        let mut summary = Summary::new(&self, &stages);
        if self.args.dry_run {
            self.progress.finish_and_clear();
            return crate::output::print(self.args.json, &summary);
        }
        let out = self
            .args
            .out
            .clone()
            .expect("clap requires --out without --dry-run");
        let files = OutFiles::new(&out, &stages, self.args.force)?;

        // The recovery keys go to disk before anything that could be broadcast exists.
        self.step("writing recovery descriptors");
        let mut recovery = String::from(
            "# Recovery keys for the commit outputs (ord's rawtr format). If a reveal never\n\
             # confirms, import one into Bitcoin Core (importdescriptors) to sweep its commit.\n",
        );
        for stage in &stages {
            let commit = stage.prepared.commit.tx.compute_txid();
            let key = stage.prepared.reveal.recovery_key(&self.secp);
            recovery.push_str(&format!(
                "# {} commit output {commit}:0\n{}\n",
                stage_label(stage.name),
                rawtr_descriptor(&key, self.network)
            ));
        }
        write_secret_atomic(&files.recovery, recovery.as_bytes())
            .with_context(|| format!("writing {}", files.recovery.display()))?;

        let mut signed = Vec::new();
        for (stage, paths) in stages.into_iter().zip(&files.stages) {
            let psbt = self.commit_psbt(&stage.prepared)?;
            write_atomic(&paths.psbt, psbt.as_bytes())
                .with_context(|| format!("writing {}", paths.psbt.display()))?;
            self.step(&format!(
                "signing and verifying {} with libbitcoinconsensus",
                stage_label(stage.name)
            ));
            let wallet = &self.wallet;
            let pair = stage.prepared.sign(&self.secp, &mut |tx, i, prevouts| {
                wallet
                    .sign_key_path(tx, i, prevouts)
                    .map_err(|e| e.to_string())
            })?;
            signed.push(pair);
        }
        for (pair, paths) in signed.iter().zip(&files.stages) {
            write_atomic(
                &paths.commit,
                format!("{}\n", serialize_hex(&pair.commit)).as_bytes(),
            )
            .with_context(|| format!("writing {}", paths.commit.display()))?;
            write_atomic(
                &paths.reveal,
                format!("{}\n", serialize_hex(&pair.reveal)).as_bytes(),
            )
            .with_context(|| format!("writing {}", paths.reveal.display()))?;
        }
        summary.files = Some(files.listing());
        let json = serde_json::to_vec_pretty(&summary)?;
        write_atomic(&files.summary, &json)
            .with_context(|| format!("writing {}", files.summary.display()))?;
        self.progress.finish_and_clear();
        crate::output::print(self.args.json, &summary)
    }

    /// The unsigned commit as a PSBT (base64) an external wallet can sign: each input with
    /// its spent output, internal key and BIP32 origin.
    fn commit_psbt(&self, prepared: &Prepared) -> anyhow::Result<String> {
        let mut tx: Transaction = prepared.commit.tx.clone();
        for input in &mut tx.input {
            input.witness = Witness::new();
        }
        let mut psbt = Psbt::from_unsigned_tx(tx)?;
        for (input, prevout) in psbt.inputs.iter_mut().zip(&prepared.commit.prevouts) {
            input.witness_utxo = Some(prevout.clone());
            if let Some((chain, index)) = self.wallet.find(&prevout.script_pubkey) {
                let (key, source): (_, KeySource) = self.wallet.bip32_origin(chain, index)?;
                input.tap_internal_key = Some(key);
                input.tap_key_origins.insert(key, (vec![], source));
            }
        }
        Ok(psbt.to_string())
    }
}

/// The UTXOs of --utxos and --rpc-url together; the file's word wins for an outpoint in both.
fn load_funding(args: &OnchainArgs, network: Network) -> anyhow::Result<Vec<Utxo>> {
    let mut utxos = match &args.utxos {
        Some(path) => {
            inscribe::wallet::load_utxos(path, network).map_err(|e| UsageError(e.to_string()))?
        }
        None => Vec::new(),
    };
    if let (Some(url), Some(cookie)) = (&args.rpc_url, &args.rpc_cookie) {
        for mut utxo in inscribe::wallet::rpc::fetch_listunspent(url, cookie, network, 1)? {
            if utxos.iter().any(|u| u.outpoint == utxo.outpoint) {
                continue;
            }
            if utxo.value <= RPC_POSSIBLY_INSCRIBED {
                // Not known to be free of inscriptions: keep it out of the fee coins.
                utxo.inscriptions
                    .push("(unknown: small output from the node)".to_owned());
            }
            utxos.push(utxo);
        }
    }
    Ok(utxos)
}

fn stage_label(name: &str) -> &str {
    if name.is_empty() {
        "inscription"
    } else {
        name
    }
}

/// The files of one run; all checked before anything is written.
struct OutFiles {
    recovery: PathBuf,
    summary: PathBuf,
    stages: Vec<StageFiles>,
}

struct StageFiles {
    commit: PathBuf,
    reveal: PathBuf,
    psbt: PathBuf,
}

impl OutFiles {
    fn new(out: &Path, stages: &[Stage], force: bool) -> anyhow::Result<Self> {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let file = |stage: &str, name: &str| {
            if stage.is_empty() {
                out.join(name)
            } else {
                out.join(format!("{stage}-{name}"))
            }
        };
        let files = Self {
            recovery: out.join("recovery.txt"),
            summary: out.join("inscriptions.json"),
            stages: stages
                .iter()
                .map(|s| StageFiles {
                    commit: file(s.name, "commit.hex"),
                    reveal: file(s.name, "reveal.hex"),
                    psbt: file(s.name, "commit.psbt"),
                })
                .collect(),
        };
        if !force {
            let existing: Vec<String> = files
                .all()
                .into_iter()
                .filter(|p| p.exists())
                .map(|p| p.display().to_string())
                .collect();
            if !existing.is_empty() {
                return Err(UsageError(format!(
                    "{} already exist{}; pass --force to replace (a recovery key there may be \
                     the only way to sweep an earlier commit)",
                    existing.join(", "),
                    if existing.len() == 1 { "s" } else { "" }
                ))
                .into());
            }
        }
        Ok(files)
    }

    fn all(&self) -> Vec<&PathBuf> {
        let mut all = vec![&self.recovery, &self.summary];
        for s in &self.stages {
            all.extend([&s.commit, &s.reveal, &s.psbt]);
        }
        all
    }

    fn listing(&self) -> FileListing {
        FileListing {
            recovery: self.recovery.clone(),
            summary: self.summary.clone(),
            transactions: self
                .stages
                .iter()
                .flat_map(|s| [s.commit.clone(), s.reveal.clone()])
                .collect(),
            psbts: self.stages.iter().map(|s| s.psbt.clone()).collect(),
        }
    }
}

#[derive(Debug, serde::Serialize)]
struct FileListing {
    recovery: PathBuf,
    summary: PathBuf,
    /// In broadcast order.
    transactions: Vec<PathBuf>,
    psbts: Vec<PathBuf>,
}

/// What one inscription holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContentSummary {
    /// Source name.
    pub name: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// Bytes before compression.
    pub bytes: usize,
    /// Bytes in the envelope's body.
    pub inscribed_bytes: usize,
    /// `br` when compressed.
    pub content_encoding: Option<String>,
}

impl ContentSummary {
    /// Summarises `content`.
    pub fn of(content: &Content) -> Self {
        Self {
            name: content.name.clone(),
            content_type: content.inscription.content_type().map(str::to_owned),
            bytes: content.raw_len,
            inscribed_bytes: content.inscription.body().len(),
            content_encoding: content.inscription.content_encoding().map(str::to_owned),
        }
    }
}

#[derive(Debug, serde::Serialize)]
struct Summary {
    network: &'static str,
    dry_run: bool,
    fee_rate: f64,
    /// In broadcast order.
    transactions: Vec<TxSummary>,
    inscriptions: Vec<InscriptionSummary>,
    fees: u64,
    postage: u64,
    /// Fees plus postage: what the wallet's spendable balance drops by.
    total_cost: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<FileListing>,
}

#[derive(Debug, serde::Serialize)]
struct TxSummary {
    name: String,
    txid: String,
    vsize: u64,
    fee: u64,
}

#[derive(Debug, serde::Serialize)]
struct InscriptionSummary {
    id: InscriptionId,
    output: String,
    postage: u64,
    #[serde(flatten)]
    content: ContentSummary,
}

impl Summary {
    fn new(onchain: &Onchain, stages: &[Stage]) -> Self {
        let mut transactions = Vec::new();
        let mut inscriptions = Vec::new();
        for stage in stages {
            let p = &stage.prepared;
            let label = |kind: &str| {
                if stage.name.is_empty() {
                    kind.to_owned()
                } else {
                    format!("{}-{kind}", stage.name)
                }
            };
            transactions.push(TxSummary {
                name: label("commit"),
                txid: p.commit.tx.compute_txid().to_string(),
                vsize: p.commit.vsize,
                fee: p.commit.fee.to_sat(),
            });
            transactions.push(TxSummary {
                name: label("reveal"),
                txid: p.reveal.txid().to_string(),
                vsize: p.reveal.vsize,
                fee: p.reveal.fee.to_sat(),
            });
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
        let fees: u64 = stages.iter().map(|s| s.prepared.fees().to_sat()).sum();
        let postage: u64 = inscriptions.iter().map(|i| i.postage).sum();
        Self {
            network: network_name(onchain.network),
            dry_run: onchain.args.dry_run,
            fee_rate: onchain.args.fee_rate.sat_per_vb(),
            transactions,
            inscriptions,
            fees,
            postage,
            total_cost: fees + postage,
            files: None,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(
                f,
                "dry run on {}: nothing signed, nothing written (a real run draws fresh keys, \
                 so its txids and ids will differ)",
                self.network
            )?;
        } else {
            writeln!(
                f,
                "signed and verified with libbitcoinconsensus ({})",
                self.network
            )?;
        }
        writeln!(f, "transactions (broadcast in this order):")?;
        for t in &self.transactions {
            writeln!(
                f,
                "  {:<14} {}  {:>7} vB  fee {:>9} sat",
                t.name, t.txid, t.vsize, t.fee
            )?;
        }
        writeln!(f, "inscriptions:")?;
        for i in &self.inscriptions {
            let encoding = match &i.content.content_encoding {
                Some(e) => format!(", {} {} B", e, i.content.inscribed_bytes),
                None => String::new(),
            };
            writeln!(
                f,
                "  {}  {} ({}, {} B{encoding})",
                i.id,
                i.content.name,
                i.content
                    .content_type
                    .as_deref()
                    .unwrap_or("no content type"),
                i.content.bytes
            )?;
        }
        writeln!(
            f,
            "fees {} sat at {} sat/vB + postage {} sat = {} sat",
            self.fees, self.fee_rate, self.postage, self.total_cost
        )?;
        if let Some(files) = &self.files {
            writeln!(
                f,
                "recovery keys: {} (keep it safe)",
                files.recovery.display()
            )?;
            for t in &files.transactions {
                writeln!(f, "wrote {}", t.display())?;
            }
            for p in &files.psbts {
                writeln!(
                    f,
                    "wrote {} (unsigned commit for external wallets)",
                    p.display()
                )?;
            }
        }
        Ok(())
    }
}

/// An output a later stage of the same run spends: value and the wallet script it pays.
pub fn wallet_output(value: Amount, script: &ScriptBuf) -> TxOut {
    TxOut {
        value,
        script_pubkey: script.clone(),
    }
}
