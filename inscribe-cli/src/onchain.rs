//! What `lumamesh inscribe` and `lumamesh publish` share: the wallet and money flags, a
//! progress spinner, the [`onchain`] errors the user fixes mapped to exit 2, and the
//! printed report.

use std::fmt;
use std::path::PathBuf;

use bitcoin::Amount;
use indicatif::{ProgressBar, ProgressStyle};
use onchain::policy::{AsideReason, PolicyError, DEFAULT_MAX_FEE, DEFAULT_POSTAGE};
use onchain::reveal::{BuildError, FeeRate};
use onchain::wallet::{parse_network, NextIndices, RpcError, Wallet, WalletDir};
use onchain::{
    load_funding, Error, FeeCaps, FundingError, Node, OrdError, OrdServer, Output, Session,
    SetAside, Spending, Stage, Summary,
};

use crate::UsageError;

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
    /// is. Outputs listing inscriptions are never spent as fees (only as --parent). An
    /// entry without "inscriptions" of 20,000 sat or less (ord's postage range) may be an
    /// earlier inscription and is never spent as fees either, unless --ord-url says it
    /// carries none or the entry says "inscriptions": [] (you vouch it carries none).
    #[arg(long, value_name = "FILE", required_unless_present = "rpc_url")]
    pub utxos: Option<PathBuf>,
    /// Also take funding UTXOs from a Bitcoin Core node's `listunspent` (http://host:port,
    /// with --rpc-cookie). A node does not know which outputs carry inscriptions: its
    /// outputs of 20,000 sat or less are never spent as fees unless --ord-url checks them;
    /// list inscribed ones in --utxos to use them as parents.
    #[arg(long, value_name = "URL", requires = "rpc_cookie")]
    pub rpc_url: Option<String>,
    /// The node's `.cookie` file, for --rpc-url.
    #[arg(long, value_name = "FILE")]
    pub rpc_cookie: Option<PathBuf>,
    /// An ord server (http://host:port of `ord server`, same network) to ask which
    /// inscriptions and runes every funding UTXO carries (GET /output/<txid:vout>, JSON):
    /// outputs carrying any are never spent as fees, and small outputs it has indexed free
    /// of them may be. Only on this machine (loopback) unless --allow-remote-ord.
    #[arg(long, value_name = "URL")]
    pub ord_url: Option<String>,
    /// Let --ord-url name a server on another machine. Its answers decide which outputs are
    /// spent, over plain HTTP that anything on the way can alter, and it learns which
    /// outputs this wallet holds.
    #[arg(long, requires = "ord_url")]
    pub allow_remote_ord: bool,
    /// BIP39 mnemonic of the wallet (BIP86 taproot keys).
    #[arg(long, value_name = "FILE")]
    pub mnemonic_file: Option<PathBuf>,
    /// Wallet directory made by `lumamesh wallet create`.
    #[arg(long, value_name = "DIR")]
    pub wallet_dir: Option<PathBuf>,
    /// Fee rate in sat/vB for every transaction.
    #[arg(long, value_name = "SAT/VB")]
    pub fee_rate: FeeRate,
    /// Refuse a --fee-rate above this unless --allow-high-fees. The default, 500, is two to
    /// three times the highest rates the mempool held for days in recent years (150-300
    /// sat/vB in May and December 2023), so it stops a rate typed with an extra digit; spikes
    /// above it that last hours (the 2024 halving) need the flag.
    #[arg(long, value_name = "SAT/VB", default_value = "500")]
    pub max_fee_rate: FeeRate,
    /// Refuse if all fees together exceed this many sats unless --allow-high-fees. The
    /// default (0.025 BTC) is more than a publish of the starter page costs at 500 sat/vB
    /// (1,711,000 sat for its 3,406 vB).
    #[arg(long, value_name = "SATS", default_value_t = DEFAULT_MAX_FEE.to_sat())]
    pub max_fee: u64,
    /// Sats in each inscription's output: at least the dust limit (330 for P2TR), at most
    /// 20,000 (ord's MAX_POSTAGE; a bigger inscribed output would look like a plain coin).
    #[arg(long, value_name = "SATS", default_value_t = DEFAULT_POSTAGE.to_sat())]
    pub postage: u64,
    /// Address the inscriptions go to (default: a fresh receive address of the wallet, the
    /// next unused one in --wallet-dir's addresses.json; never receive/0, the first funding
    /// address). Change always goes to a fresh change address.
    #[arg(long, value_name = "ADDRESS")]
    pub destination: Option<String>,
    /// A new directory for the signed transactions, the commit PSBT and the recovery key.
    /// One run per directory: one holding any file of an earlier run is refused, and no
    /// option replaces a recovery file.
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    pub out: Option<PathBuf>,
    /// Build and size everything, print vsize, fees and total cost, sign nothing and write
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Go past --max-fee-rate and --max-fee. It lifts nothing else: no option replaces the
    /// files of an earlier run.
    #[arg(long)]
    pub allow_high_fees: bool,
    /// Print the result as JSON (and no progress).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub broadcast: crate::subcommand::broadcast::BroadcastArgs,
}

/// A run in progress: the library's session, and how to end and print it.
pub struct Run {
    /// The session.
    pub session: Session,
    progress: ProgressBar,
    out: Option<PathBuf>,
    dry_run: bool,
    wallet_dir: Option<WalletDir>,
    json: bool,
    broadcast: Option<crate::subcommand::broadcast::Then>,
}

impl Run {
    /// Checks the flags, opens the wallet and loads the UTXOs.
    pub fn open(args: OnchainArgs) -> anyhow::Result<Run> {
        let network = parse_network(&args.network).map_err(|e| UsageError(e.to_string()))?;
        let broadcast = crate::subcommand::broadcast::Then::prepare(&args)?;
        let spending = Spending {
            fee_rate: args.fee_rate,
            caps: FeeCaps {
                max_fee_rate: args.max_fee_rate,
                max_fee: Amount::from_sat(args.max_fee),
                allow_high_fees: args.allow_high_fees,
            },
            postage: Amount::from_sat(args.postage),
        };
        // The rate and the postage are refused before any file is read.
        spending.caps.check_rate(spending.fee_rate).map_err(usage)?;
        onchain::reveal::check_postage(spending.postage, &[])
            .map_err(|e| usage(Error::Build(e)))?;
        let wallet = match (&args.mnemonic_file, &args.wallet_dir) {
            (Some(file), _) => Wallet::from_mnemonic_file(file, network),
            (None, Some(dir)) => Wallet::open(dir, network),
            (None, None) => unreachable!("clap requires --mnemonic-file or --wallet-dir"),
        }
        .map_err(|e| UsageError(e.to_string()))?;
        let node = match (&args.rpc_url, &args.rpc_cookie) {
            (Some(url), Some(cookie)) => Some(Node {
                url,
                cookie,
                min_conf: 1,
                reach: args.broadcast.remote.reach(),
            }),
            _ => None,
        };
        let ord = args.ord_url.as_deref().map(|url| OrdServer {
            url,
            allow_remote: args.allow_remote_ord,
        });
        let utxos =
            load_funding(args.utxos.as_deref(), node, ord, network).map_err(funding_error)?;
        // A --mnemonic-file has no directory to record used addresses in.
        let wallet_dir = match (&args.mnemonic_file, &args.wallet_dir) {
            (None, Some(dir)) => Some(WalletDir::new(dir)),
            _ => None,
        };
        let next = match &wallet_dir {
            Some(dir) => dir.next_indices().map_err(|e| UsageError(e.to_string()))?,
            None => NextIndices::default(),
        };
        let progress = if args.json {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new_spinner();
            // A fixed template that parses: checked by every run that shows progress.
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("template"));
            bar
        };
        let bar = progress.clone();
        let session = Session::open(wallet, utxos, args.destination.as_deref(), spending, next)
            .map_err(usage)?
            .with_progress(move |event| {
                bar.set_message(event.to_string());
                bar.tick();
            });
        let aside = session.set_aside();
        if !aside.is_empty() {
            eprint!("{}", SetAsideNote(&aside));
        }
        Ok(Run {
            session,
            progress,
            out: args.out,
            dry_run: args.dry_run,
            wallet_dir,
            json: args.json,
            broadcast,
        })
    }

    /// Shows a step the CLI takes itself (not with --json).
    pub fn step(&self, message: &str) {
        self.progress.set_message(message.to_owned());
        self.progress.tick();
    }

    /// Ends the run (signs and writes it unless --dry-run) and prints its report. Once a
    /// run is written, its receive and change addresses are recorded as used in the wallet
    /// directory (never on a dry run).
    pub fn finish(self, stages: Vec<Stage>) -> anyhow::Result<()> {
        let output = match (&self.out, self.dry_run) {
            (Some(dir), false) => Output::Write { dir },
            _ => Output::DryRun,
        };
        let used = self.session.next_indices();
        let summary = self.session.finish(stages, output).map_err(usage)?;
        if let (Output::Write { .. }, Some(dir)) = (output, &self.wallet_dir) {
            dir.record_used(used)?;
        }
        self.progress.finish_and_clear();
        crate::output::print(self.json, &Report(summary))?;
        self.broadcast.map_or(Ok(()), |then| then.run())
    }
}

/// Maps the library errors the user fixes with other flags or inputs to [`UsageError`]
/// (exit 2), in the flags' own words; the rest stay errors of the run (exit 1).
pub fn usage(e: impl Into<Error>) -> anyhow::Error {
    let e = e.into();
    let message = match &e {
        Error::Policy(PolicyError::FeeRateAboveCap { fee_rate, cap }) => format!(
            "--fee-rate {fee_rate} is above --max-fee-rate {cap}; pass --allow-high-fees if \
             you mean it"
        ),
        Error::Policy(PolicyError::FeesAboveCap { fees, cap }) => format!(
            "fees total {} sat, above --max-fee {} sat; pass --allow-high-fees if you mean it",
            fees.to_sat(),
            cap.to_sat()
        ),
        Error::Policy(p @ PolicyError::ContentTooLarge { .. }) => p.to_string(),
        Error::Destination(a) => format!("--destination: {a}"),
        Error::ParentNotListed { id } => {
            format!("parent {id}: no UTXO in --utxos lists it under \"inscriptions\"")
        }
        Error::ParentNotOurs { .. } => e.to_string(),
        Error::OutputsExist { .. } => format!("{e}; name a new --out directory"),
        Error::InsufficientFunds { set_aside, .. } => {
            let hint = if set_aside.iter().any(|a| a.reason == AsideReason::Unchecked) {
                format!("; {UNCHECKED_HINT}")
            } else {
                String::new()
            };
            // A shortage is the world's (exit 1), though the user may vouch for coins.
            return anyhow::anyhow!("{e}{hint}");
        }
        Error::Build(BuildError::PostageBelowDust { .. } | BuildError::PostageAboveMax { .. }) => {
            format!("--postage: {e}")
        }
        _ => return e.into(),
    };
    UsageError(message).into()
}

/// How to spend an unchecked small output anyway.
const UNCHECKED_HINT: &str = "to let an unchecked output pay fees, check it with --ord-url, \
    or give its entry in --utxos \"inscriptions\": [] if you know it carries none";

/// The outputs kept from fees, for stderr.
struct SetAsideNote<'a>(&'a [SetAside]);

impl fmt::Display for SetAsideNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "note: {n} output{} never spent as fees:",
            if n == 1 { " is" } else { "s are" }
        )?;
        for aside in self.0 {
            writeln!(f, "  {aside}")?;
        }
        if self.0.iter().any(|a| a.reason == AsideReason::Unchecked) {
            writeln!(f, "  ({UNCHECKED_HINT})")?;
        }
        Ok(())
    }
}

/// A missing or malformed UTXO file, a bad node or ord URL, and an ord server that
/// contradicts the list or cannot answer in JSON are the user's to fix (exit 2); a server
/// that does not answer is not.
pub(crate) fn funding_error(e: FundingError) -> anyhow::Error {
    match e {
        FundingError::File(e) => UsageError(e.to_string()).into(),
        FundingError::Node(e @ (RpcError::Url { .. } | RpcError::Remote { .. })) => {
            UsageError(e.to_string()).into()
        }
        FundingError::Node(e) => e.into(),
        FundingError::Ord(e @ OrdError::Url { .. }) => {
            let hint = if e.to_string().contains("not on this machine") {
                " (pass --allow-remote-ord if you trust it)"
            } else {
                ""
            };
            UsageError(format!("--ord-url: {e}{hint}")).into()
        }
        FundingError::Ord(
            e @ (OrdError::JsonDisabled { .. }
            | OrdError::NotFound { .. }
            | OrdError::Mismatch { .. }
            | OrdError::Spent { .. }),
        ) => UsageError(e.to_string()).into(),
        FundingError::Ord(e) => e.into(),
    }
}

/// The run's [`Summary`], printed for people (or as JSON with --json).
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct Report(Summary);

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        if s.dry_run {
            writeln!(
                f,
                "dry run on {}: nothing signed, nothing written (a real run draws fresh keys, \
                 so its txids and ids will differ)",
                s.network
            )?;
        } else {
            writeln!(
                f,
                "signed and verified with libbitcoinconsensus ({})",
                s.network
            )?;
        }
        writeln!(f, "transactions (broadcast in this order):")?;
        for t in &s.transactions {
            writeln!(
                f,
                "  {:<14} {}  {:>7} vB  fee {:>9} sat",
                t.name, t.txid, t.vsize, t.fee
            )?;
        }
        writeln!(f, "inscriptions:")?;
        for i in &s.inscriptions {
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
            s.fees, s.fee_rate, s.postage, s.total_cost
        )?;
        if let Some(files) = &s.files {
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

#[cfg(test)]
mod tests {
    use bitcoin::Amount;
    use onchain::policy::PolicyError;
    use onchain::reveal::{BuildError, FeeRate};
    use onchain::Error;

    use super::usage;
    use crate::UsageError;

    fn rate(r: f64) -> FeeRate {
        FeeRate::from_sat_per_vb(r).unwrap()
    }

    #[test]
    fn what_the_user_fixes_is_a_usage_error_in_the_flags_words() {
        let id = format!("{}i0", "ab".repeat(32)).parse().unwrap();
        for (error, flag) in [
            (
                Error::Policy(PolicyError::FeeRateAboveCap {
                    fee_rate: rate(3_000.0),
                    cap: rate(2_000.0),
                }),
                "--max-fee-rate",
            ),
            (
                Error::Policy(PolicyError::FeesAboveCap {
                    fees: Amount::from_sat(2),
                    cap: Amount::from_sat(1),
                }),
                "--max-fee",
            ),
            (Error::ParentNotListed { id }, "--utxos"),
            (
                Error::OutputsExist {
                    dir: "out".into(),
                    files: vec!["out/recovery.txt".into()],
                },
                "new --out",
            ),
            (
                Error::Build(BuildError::PostageBelowDust {
                    postage: 1,
                    dust: 330,
                }),
                "--postage",
            ),
        ] {
            let e = usage(error);
            let message = e.downcast_ref::<UsageError>().expect("exit 2").to_string();
            assert!(message.contains(flag), "{message}");
        }
    }

    #[test]
    fn what_the_world_causes_is_not() {
        let poor = Error::Build(BuildError::InsufficientFunds {
            needed: 2,
            available: 1,
        });
        assert!(usage(poor).downcast_ref::<UsageError>().is_none());
        let set_aside = vec![onchain::SetAside {
            outpoint: bitcoin::OutPoint::null(),
            value: Amount::from_sat(10_000),
            reason: onchain::policy::AsideReason::Unchecked,
        }];
        let short = usage(Error::InsufficientFunds {
            needed: 2,
            available: 1,
            set_aside,
        });
        assert!(short.downcast_ref::<UsageError>().is_none());
        assert!(short.to_string().contains("--ord-url"), "{short}");
    }
}
