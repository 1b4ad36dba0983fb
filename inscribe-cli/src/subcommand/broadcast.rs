//! `lumamesh broadcast DIR`, and `--broadcast` on `inscribe` and `publish`: a written run
//! sent to a Bitcoin Core node in order, resumably ([`onchain::broadcast`]).

use std::fmt;
use std::path::{Path, PathBuf};

use bitcoin::Network;
use indicatif::{ProgressBar, ProgressStyle};
use onchain::broadcast::{broadcast, BroadcastError, Event, SignedRun, State, Status, TxState};
use onchain::wallet::rpc::{Reach, Rpc};
use onchain::wallet::{network_name, parse_network, RpcError};

use crate::onchain::OnchainArgs;
use crate::UsageError;

/// Test-only: exit right after this many steps are recorded, as if killed there.
const STOP_AFTER: &str = "LUMAMESH_TEST_BROADCAST_STOP_AFTER";

/// Where the RPC cookie may go.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RemoteArg {
    /// Send the RPC cookie to a node that is not on this machine. Off by default: the
    /// cookie gives full control of the node (and of any wallet loaded in it), and Bitcoin
    /// Core's RPC is plain HTTP, so every network hop on the way can read it. Prefer an SSH
    /// tunnel (ssh -L 8332:127.0.0.1:8332 host) and --rpc-url http://127.0.0.1:8332. Applies
    /// to funding (listunspent) and to broadcasting.
    #[arg(long)]
    pub rpc_remote_ok: bool,
}

impl RemoteArg {
    /// The rule for [`Rpc::new`].
    pub fn reach(&self) -> Reach {
        match self.rpc_remote_ok {
            true => Reach::RemoteAllowed,
            false => Reach::LoopbackOnly,
        }
    }
}

/// The flags `inscribe` and `publish` take to send the run once it is written.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BroadcastArgs {
    /// Once the run is written, send it to the node of --rpc-url (whose chain must be
    /// --network's): each transaction checked with testmempoolaccept first (a commit together
    /// with its reveal, so a reveal the node would refuse stops the run before its commit is
    /// sent), then sent with sendrawtransaction, in order. Each step is recorded in
    /// broadcast.json in --out; if the broadcast is interrupted or refused, `lumamesh
    /// broadcast DIR` finishes it. With --json, a second JSON document follows the run's.
    #[arg(long, requires = "rpc_url", conflicts_with = "dry_run")]
    pub broadcast: bool,
    #[command(flatten)]
    pub remote: RemoteArg,
}

/// A broadcast to make once the run is written: the node is reached and its chain checked
/// before anything is signed.
pub struct Then {
    dir: PathBuf,
    network: Network,
    rpc: Rpc,
    json: bool,
}

impl Then {
    /// With --broadcast: the node, checked (loopback rule, chain); `None` without.
    pub fn prepare(args: &OnchainArgs) -> anyhow::Result<Option<Then>> {
        let (true, Some(url), Some(cookie), Some(dir)) = (
            args.broadcast.broadcast,
            &args.rpc_url,
            &args.rpc_cookie,
            &args.out,
        ) else {
            return Ok(None);
        };
        let network = parse_network(&args.network).map_err(|e| UsageError(e.to_string()))?;
        let rpc = connect(url, cookie, &args.broadcast.remote, network)?;
        Ok(Some(Then {
            dir: dir.clone(),
            network,
            rpc,
            json: args.json,
        }))
    }

    /// Sends the written run.
    pub fn run(self) -> anyhow::Result<()> {
        send_run(&self.dir, &self.rpc, self.network, self.json)
    }
}

/// `lumamesh broadcast DIR`
#[derive(Debug, clap::Args)]
pub struct Broadcast {
    /// The --out directory of an `inscribe` or `publish` run: its signed transactions are
    /// sent as they are (nothing is signed again).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Network the run was signed for; the node's chain must be the same.
    #[arg(long, value_name = "NETWORK")]
    network: String,
    /// The Bitcoin Core node (http://host:port).
    #[arg(long, value_name = "URL")]
    rpc_url: String,
    /// The node's `.cookie` file.
    #[arg(long, value_name = "FILE")]
    rpc_cookie: PathBuf,
    #[command(flatten)]
    remote: RemoteArg,
    /// Print the result as JSON (and no progress).
    #[arg(long)]
    json: bool,
}

impl Broadcast {
    pub fn run(self) -> anyhow::Result<()> {
        let network = parse_network(&self.network).map_err(|e| UsageError(e.to_string()))?;
        let rpc = connect(&self.rpc_url, &self.rpc_cookie, &self.remote, network)?;
        send_run(&self.dir, &rpc, network, self.json)
    }
}

/// The node at `url`, allowed by the loopback rule and on `network`'s chain.
fn connect(url: &str, cookie: &Path, remote: &RemoteArg, network: Network) -> anyhow::Result<Rpc> {
    let rpc = Rpc::new(url, cookie, remote.reach()).map_err(|e| match e {
        e @ RpcError::Remote { .. } => UsageError(format!("{e}: --rpc-remote-ok")).into(),
        e @ (RpcError::Url { .. } | RpcError::Cookie { .. }) => UsageError(e.to_string()).into(),
        e => anyhow::Error::from(e),
    })?;
    rpc.check_chain(network).map_err(|e| match e {
        e @ RpcError::WrongChain { .. } => {
            UsageError(format!("{e} (--network {})", network_name(network))).into()
        }
        e => node_error(e),
    })?;
    Ok(rpc)
}

/// Sends the run in `dir` and prints where each transaction stands.
fn send_run(dir: &Path, rpc: &Rpc, network: Network, json: bool) -> anyhow::Result<()> {
    let run = SignedRun::read(dir).map_err(|e| UsageError(e.to_string()))?;
    if run.network != network {
        return Err(UsageError(format!(
            "{} was signed for {}, not --network {}",
            dir.display(),
            network_name(run.network),
            network_name(network)
        ))
        .into());
    }
    let mut state = State::load(&run).map_err(|e| UsageError(e.to_string()))?;
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(run.transactions.len() as u64)
    };
    // A fixed template that parses: checked by every broadcast that shows progress.
    bar.set_style(ProgressStyle::with_template("{bar:24} {pos}/{len} {msg}").expect("template"));
    let stop_after: Option<usize> = std::env::var(STOP_AFTER).ok().and_then(|v| v.parse().ok());
    let mut steps = 0;
    let mut rpc = rpc.clone();
    let sent = broadcast(&run, &mut rpc, &mut state, &mut |event| {
        let message = match event {
            Event::Asking { name, .. } => format!("{name}: does the node have it?"),
            Event::Testing { name, .. } => format!("{name}: testmempoolaccept"),
            Event::Sending { name, .. } => format!("{name}: sendrawtransaction"),
            Event::Done {
                index,
                name,
                status,
            } => {
                bar.set_position(index as u64 + 1);
                steps += 1;
                if stop_after == Some(steps) {
                    eprintln!("{STOP_AFTER}: stopping after step {steps}");
                    std::process::exit(3);
                }
                format!("{name}: {}", status_text(status))
            }
        };
        bar.set_message(message);
    });
    bar.finish_and_clear();
    sent.map_err(|e| refused(e, dir))?;
    crate::output::print(
        json,
        &Report {
            dir: dir.to_owned(),
            state: state.file().to_owned(),
            network: network_name(network),
            transactions: state.transactions,
        },
    )
}

fn status_text(status: Status) -> &'static str {
    match status {
        Status::Pending => "not sent",
        Status::Sent => "sent",
        Status::InMempool => "was in the node's mempool already",
        Status::InChain => "was in the node's chain already",
    }
}

/// A refusal, with what to do about it.
fn refused(e: BroadcastError, dir: &Path) -> anyhow::Error {
    let again = format!(
        "then run `lumamesh broadcast {}` to send the rest",
        dir.display()
    );
    let hint = if e.missing_inputs() {
        "an input is missing or already spent: if an earlier transaction of this run is not in \
         the node's mempool yet, wait for it; if the funding outputs were spent by another \
         transaction, this run can never confirm (recovery.txt sweeps a commit's outputs)"
    } else {
        "fix what the node names (e.g. a fee rate below its minimum needs a new run)"
    };
    match e {
        e @ BroadcastError::Refused { .. } => anyhow::anyhow!("{e}\n{hint}; {again}"),
        BroadcastError::Rpc(e) => node_error(e).context(format!("broadcasting {}", dir.display())),
        e => e.into(),
    }
}

/// A node that is still starting says so (-28): wait and try again.
fn node_error(e: RpcError) -> anyhow::Error {
    match e {
        RpcError::Rpc { code: -28, .. } => {
            anyhow::anyhow!(
                "{e}\nthe node is still starting: wait until it answers, then run again"
            )
        }
        e => e.into(),
    }
}

/// Where each transaction of the run stands, as `broadcast.json` says.
#[derive(Debug, serde::Serialize)]
struct Report {
    dir: PathBuf,
    state: PathBuf,
    network: &'static str,
    transactions: Vec<TxState>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "broadcast {} ({}):", self.dir.display(), self.network)?;
        for t in &self.transactions {
            writeln!(f, "  {:<14} {}  {}", t.name, t.txid, status_text(t.status))?;
        }
        writeln!(
            f,
            "every transaction is in the node's mempool or chain; they confirm as blocks are \
             mined (state: {})",
            self.state.display()
        )
    }
}
