//! `lumamesh-load`: a load generator for `lumamesh-relay`. Starts many native clients (each
//! connects exactly as a browser does, in protocol version 2), spreads them round robin over
//! every relay of its list, has them join rooms and signal each other, and prints a summary,
//! or with `--json` the full report (connect times, one-way signal latency for signals within
//! one relay and across relays, clients per relay, every signal sorted into delivered,
//! `lost_to_present` and `to_absent`, error frames by code and request, failures).
//!
//! `lumamesh-load attack` floods one relay instead (issue 14; `lumamesh-load attack --help`).
//!
//! Three shapes of run (issue 17's figures; relay/examples/bench_issue17.sh runs them):
//! - burst: `--sessions 3000 --connect-rate 1500 --signals-per-sec 0 --hold-secs 0`, every
//!   session held to the end; read `connect` (p50/p99/max) and `connected`;
//! - sustained: `--session-hold-secs 1` with `--sessions` = rate × seconds: each session
//!   joins, closes a second after its `Welcome`; read `achieved_rate`, `connect`, `failed`;
//! - signalling: the default, many sessions in rooms signalling each other.
//!
//! With `--relay-pid` the relay's RSS and CPU time are read from /proc during and after the
//! run (CPU per connected session, in ms); the generator's own CPU time is always reported,
//! also as a share of the machine's cores, so a figure says how much of the machine the
//! generator took.
//!
//! The relay limits new sessions and the sessions held per source address and per /24 (IPv4)
//! or /64 (IPv6) prefix (`NEW_SESSIONS_PER_IP`, `MAX_SESSIONS_PER_PREFIX` and the others in
//! `lumamesh-relay --help`); raise them on the relay under test, or spread clients over
//! addresses in several prefixes (127.0.0.2 and 127.0.0.3 share one /24; 127.0.1.2 does not).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use bootstrap_codec::{RelayEntry, RelayTxt};
use clap::Parser;
use lumamesh_relay::load::usage::{cpu_time, loopback_prefixes, parse_ips};
use lumamesh_relay::load::{self, LoadPlan, LoadTarget, MIN_BLOB_LEN};
use lumamesh_relay::protocol::MAX_BLOB2_LEN;
use report::{usage, UsageContext};

#[path = "load/attack.rs"]
mod attack;

/// Load generator for lumamesh-relay.
#[derive(Parser, Debug)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Mode>,
    /// A relay's relay.txt line (as printed by lumamesh-relay at start); repeat the flag or
    /// separate lines with commas for several relays.
    #[arg(
        long,
        env = "RELAY_ENTRY",
        value_name = "RELAY_ENTRY",
        value_delimiter = ',',
        conflicts_with = "relay_txt"
    )]
    entry: Vec<String>,
    /// A relay.txt file; clients are spread over every entry in it.
    #[arg(long, alias = "relays", env = "RELAY_TXT", value_name = "RELAY_TXT")]
    relay_txt: Option<PathBuf>,
    /// Send to this address instead of the entry's (only with a single relay).
    #[arg(long, value_name = "ADDR")]
    relay_addr: Option<SocketAddr>,
    /// Clients to start.
    #[arg(long, default_value_t = 100)]
    sessions: usize,
    /// Clients started per second.
    #[arg(long, default_value_t = 50.0)]
    connect_rate: f64,
    /// Rooms to spread clients over.
    #[arg(long, default_value_t = 10)]
    rooms: usize,
    /// Signals per second per client.
    #[arg(long, default_value_t = 1.0)]
    signals_per_sec: f64,
    /// Signal blob size in bytes (28..=16339).
    #[arg(long, default_value_t = 256)]
    blob_size: usize,
    /// Seconds the clients keep signalling once the last one has started; then all stop,
    /// wait a second for signals in flight, and close.
    #[arg(long, alias = "duration", default_value_t = 10.0)]
    hold_secs: f64,
    /// Seconds allowed for each connect.
    #[arg(long, default_value_t = 30.0)]
    connect_timeout_secs: f64,
    /// Source IPs to spread clients over, round robin, comma separated; an item may be an
    /// inclusive range (e.g. 127.0.0.2,127.0.1.2 or 127.0.1.2-127.0.8.2). More addresses give
    /// more ports, and addresses in more /24s stay under the relay's per-address and
    /// per-prefix limits (and spread over a sharded relay's shards, which it picks by /24).
    #[arg(long, value_delimiter = ',', value_name = "IPS")]
    local_ips: Vec<String>,
    /// Add N loopback source addresses, one per /24: 127.0.1.2, 127.0.2.2, … 127.0.N.2.
    #[arg(long, value_name = "N")]
    prefixes: Option<usize>,
    /// Sustained mode: each client joins its room and closes this many seconds after its
    /// Welcome, sending no signal (offer `--sessions` at `--connect-rate` for the run's
    /// length; `--hold-secs` does not apply).
    #[arg(long, value_name = "SECS")]
    session_hold_secs: Option<f64>,
    /// Print the full report as JSON instead of a summary.
    #[arg(long)]
    json: bool,
    /// Process id of the relay under test, when it runs on this machine: its resident
    /// memory (/proc/PID/status) is sampled during the run and reported per session, and
    /// its CPU time over the run (/proc/PID/stat, every thread), per connected session.
    #[arg(long, value_name = "PID")]
    relay_pid: Option<u32>,
}

/// Another mode than the load run.
#[derive(clap::Subcommand, Debug)]
enum Mode {
    /// Flood one relay from a few source addresses (issue 14) and measure ordinary clients
    /// connecting under the flood.
    Attack(attack::Args),
}

/// Resident set size of `pid` in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The relay's memory over a run.
#[derive(Debug, serde::Serialize)]
struct RelayMemory {
    pid: u32,
    rss_before_kib: u64,
    rss_peak_kib: u64,
    /// (peak - before) / sessions connected.
    per_session_kib: f64,
}

/// CPU time over a run: the generator's own, and the relay's when its pid was given.
#[derive(Debug, Default, serde::Serialize)]
struct CpuUse {
    /// Cores this machine offers (`available_parallelism`).
    cores: usize,
    /// CPU seconds this generator used during the run (user + system, every thread).
    generator_cpu_secs: f64,
    /// The generator's share of the machine: its CPU time over (wall time × cores), in %.
    generator_machine_pct: f64,
    /// CPU seconds the relay used from just before the first client to half a second after
    /// the last one closed.
    relay_cpu_secs: Option<f64>,
    /// The relay's CPU time per connected session, in ms (connect, join, whatever the
    /// session did, teardown).
    relay_ms_per_session: Option<f64>,
    /// The relay's share of the machine over the same time, in %.
    relay_machine_pct: Option<f64>,
}

/// The report, with the relay's memory when it was measured and the CPU both sides used.
#[derive(Debug, serde::Serialize)]
struct Output {
    #[serde(flatten)]
    report: load::LoadReport,
    relay_memory: Option<RelayMemory>,
    cpu: CpuUse,
}

fn main() -> ExitCode {
    report::main(|args: Args| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the tokio runtime")?
            .block_on(run(args))
    })
}

/// The relays to load: every `--entry`, or every valid entry of `--relay-txt`.
fn entries(args: &Args) -> Result<Vec<RelayEntry>> {
    if !args.entry.is_empty() {
        return args
            .entry
            .iter()
            .map(|line| RelayEntry::from_line(line.trim()).usage("RELAY_ENTRY"))
            .collect();
    }
    let Some(path) = &args.relay_txt else {
        return Err(usage(
            "give --entry (RELAY_ENTRY) or --relay-txt (RELAY_TXT)",
        ));
    };
    let text = std::fs::read_to_string(path).usage(format!("reading {}", path.display()))?;
    let entries: Vec<RelayEntry> = RelayTxt::parse(&text)
        .entries
        .into_iter()
        .map(|e| e.entry)
        .collect();
    if entries.is_empty() {
        return Err(usage(format!(
            "{} holds no valid relay entry",
            path.display()
        )));
    }
    Ok(entries)
}

async fn run(args: Args) -> Result<()> {
    if let Some(Mode::Attack(attack)) = args.command {
        return attack::run(attack).await;
    }
    let entries = entries(&args)?;
    if args.relay_addr.is_some() && entries.len() > 1 {
        return Err(usage(format!(
            "--relay-addr needs a single relay, not {}",
            entries.len()
        )));
    }
    if !(MIN_BLOB_LEN..=MAX_BLOB2_LEN).contains(&args.blob_size) {
        return Err(usage(format!(
            "--blob-size must be {MIN_BLOB_LEN}..={MAX_BLOB2_LEN}"
        )));
    }
    let mut local_ips = Vec::new();
    for item in &args.local_ips {
        local_ips.extend(parse_ips(item).usage("--local-ips")?);
    }
    if let Some(n) = args.prefixes {
        local_ips.extend(loopback_prefixes(n).usage("--prefixes")?);
    }
    let secs = |name: &str, v: f64| {
        Duration::try_from_secs_f64(v).usage(format!("{name} must be a duration"))
    };
    let plan = LoadPlan {
        relays: entries
            .into_iter()
            .map(|entry| LoadTarget {
                entry,
                addr: args.relay_addr,
            })
            .collect(),
        sessions: args.sessions,
        connect_rate: args.connect_rate,
        rooms: args.rooms.max(1),
        signals_per_sec: args.signals_per_sec,
        blob_size: args.blob_size,
        hold: secs("--hold-secs", args.hold_secs)?,
        connect_timeout: secs("--connect-timeout-secs", args.connect_timeout_secs)?,
        local_ips,
        session_hold: args
            .session_hold_secs
            .map(|v| secs("--session-hold-secs", v))
            .transpose()?,
    };
    let sampler = args.relay_pid.map(|pid| {
        let before = rss_kib(pid).unwrap_or(0);
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
        let task = tokio::spawn({
            let peak = peak.clone();
            async move {
                while let Some(rss) = rss_kib(pid) {
                    peak.fetch_max(rss, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
        (pid, before, peak, task)
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let relay_cpu_before = args.relay_pid.and_then(|pid| cpu_time(Some(pid)));
    let own_cpu_before = cpu_time(None).unwrap_or_default();
    let began = std::time::Instant::now();
    let report = load::run(plan).await;
    let own_cpu = cpu_time(None)
        .unwrap_or_default()
        .saturating_sub(own_cpu_before);
    // The relay finishes tearing down the last sessions just after they closed.
    if args.relay_pid.is_some() {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let wall = began.elapsed().as_secs_f64().max(1e-3);
    let relay_cpu = relay_cpu_before
        .zip(args.relay_pid.and_then(|pid| cpu_time(Some(pid))))
        .map(|(before, after)| after.saturating_sub(before).as_secs_f64());
    let cpu = CpuUse {
        cores,
        generator_cpu_secs: own_cpu.as_secs_f64(),
        generator_machine_pct: 100.0 * own_cpu.as_secs_f64()
            / (report.elapsed_secs.max(1e-3) * cores as f64),
        relay_cpu_secs: relay_cpu,
        relay_ms_per_session: relay_cpu.map(|c| 1000.0 * c / report.connected.max(1) as f64),
        relay_machine_pct: relay_cpu.map(|c| 100.0 * c / (wall * cores as f64)),
    };
    let relay_memory = sampler.map(|(pid, before, peak, task)| {
        task.abort();
        let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
        RelayMemory {
            pid,
            rss_before_kib: before,
            rss_peak_kib: peak,
            per_session_kib: peak.saturating_sub(before) as f64 / report.connected.max(1) as f64,
        }
    });
    if args.json {
        let output = Output {
            report,
            relay_memory,
            cpu,
        };
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        if let Some(m) = &relay_memory {
            println!(
                "relay rss {} KiB before, {} KiB peak: {:.1} KiB per session",
                m.rss_before_kib, m.rss_peak_kib, m.per_session_kib
            );
        }
        println!(
            "sessions {} connected {} failed {} in {:.1} s (ramp at --connect-rate {}/s, then --duration {} s)",
            report.sessions,
            report.connected,
            report.failed,
            report.elapsed_secs,
            args.connect_rate,
            args.hold_secs
        );
        for r in &report.relays {
            println!(
                "relay {} at {}: sessions {} connected {} failed {}",
                r.tag, r.address, r.sessions, r.connected, r.failed
            );
        }
        println!(
            "connect        {}; {:.0} welcomed/s of {}/s offered",
            report.connect, report.achieved_rate, report.offered_rate
        );
        println!("signal latency {}", report.signal_latency);
        println!("same-relay     {}", report.same_relay);
        println!("cross-relay    {}", report.cross_relay);
        println!(
            "signals sent {} received {}, error frames {}",
            report.signals_sent, report.signals_received, report.error_frames
        );
        println!(
            "signals delivered {} lost_to_present {} to_absent {} from_absent {} to_unidentified {} refused {} unexpected {} (drain {:.2} s)",
            report.signals_delivered,
            report.lost_to_present,
            report.to_absent,
            report.from_absent,
            report.to_unidentified,
            report.signals_refused,
            report.signals_unexpected,
            report.drain_secs
        );
        for e in &report.errors {
            println!(
                "error {} ({}) answering {}: {}",
                e.code, e.meaning, e.request, e.count
            );
        }
        for failure in &report.failures {
            println!("failure: {failure}");
        }
        println!(
            "generator cpu {:.2} s = {:.0}% of {} cores",
            cpu.generator_cpu_secs, cpu.generator_machine_pct, cpu.cores
        );
        if let (Some(secs), Some(per), Some(pct)) = (
            cpu.relay_cpu_secs,
            cpu.relay_ms_per_session,
            cpu.relay_machine_pct,
        ) {
            println!(
                "relay cpu {secs:.2} s = {per:.3} ms per connected session, {pct:.0}% of {} cores",
                cpu.cores
            );
        }
    }
    Ok(())
}
