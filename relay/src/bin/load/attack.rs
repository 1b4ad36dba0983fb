//! `lumamesh-load attack`: floods one relay from a few source addresses and, with `--clients`,
//! measures ordinary clients connecting quiet and under the flood, side by side.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Result;
use bootstrap_codec::RelayEntry;
use lumamesh_relay::load::attack::{self, AttackPlan, Comparison};
use lumamesh_relay::load::{self, LoadPlan, LoadTarget};
use report::{usage, UsageContext};

/// Attack one relay (issue 14): (a) authenticated STUN binding requests with fresh ufrags,
/// each from a new source port, never going on; (b) half-open DTLS (a binding request, a
/// ClientHello, then silence); (c) full sessions opened and held. Rates are per source
/// address and per second; `inf` sends as fast as the machine allows.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The relay's relay.txt line (as printed by lumamesh-relay at start).
    #[arg(long, env = "RELAY_ENTRY", value_name = "RELAY_ENTRY")]
    entry: String,
    /// Send to this address instead of the entry's.
    #[arg(long, value_name = "ADDR")]
    relay_addr: Option<SocketAddr>,
    /// Source addresses to attack from, comma separated (e.g. 127.0.0.2,127.0.1.3).
    #[arg(long, value_delimiter = ',', value_name = "IPS", required = true)]
    from: Vec<IpAddr>,
    /// (a) binding requests per second from each address (0: none, inf: as fast as possible).
    #[arg(long, default_value_t = 0.0)]
    stun_rate: f64,
    /// (b) half-open handshakes per second from each address (0: none, inf: as fast as
    /// possible).
    #[arg(long, default_value_t = 0.0)]
    half_open_rate: f64,
    /// (c) full sessions to hold at once, over all addresses; each slot reconnects as soon
    /// as its session ends or its connect fails.
    #[arg(long, default_value_t = 0)]
    full_sessions: usize,
    /// Seconds to attack (without --clients; with it, the attack lasts until they are done).
    #[arg(long, default_value_t = 10.0)]
    duration_secs: f64,
    /// Ordinary clients to connect under the attack (and first on the quiet relay, unless
    /// --skip-quiet); each says Hello, gets Welcome and leaves.
    #[arg(long, default_value_t = 0)]
    clients: usize,
    /// Source addresses for the clients, round robin; by default client i sends from
    /// 127.0.(10 + i mod 240).1, every client in its own /24 (a relay on loopback).
    #[arg(long, value_delimiter = ',', value_name = "IPS")]
    client_ips: Vec<IpAddr>,
    /// Clients started per second.
    #[arg(long, default_value_t = 20.0)]
    connect_rate: f64,
    /// Seconds allowed for each client's connect.
    #[arg(long, default_value_t = 60.0)]
    connect_timeout_secs: f64,
    /// Seconds the attack runs before the clients under attack start.
    #[arg(long, default_value_t = 2.0)]
    warmup_secs: f64,
    /// Run the clients under attack only, not first on the quiet relay.
    #[arg(long)]
    skip_quiet: bool,
    /// Print the full report (`Comparison`) as JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

/// The default client addresses: one per /24 of 127.0.10.0 to 127.0.249.0.
fn client_ips(clients: usize) -> Vec<IpAddr> {
    (0..clients.min(240))
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 10 + i as u8, 1)))
        .collect()
}

/// Runs the subcommand.
pub async fn run(args: Args) -> Result<()> {
    let entry = RelayEntry::from_line(args.entry.trim()).usage("RELAY_ENTRY")?;
    if args.stun_rate <= 0.0 && args.half_open_rate <= 0.0 && args.full_sessions == 0 {
        return Err(usage(
            "nothing to send: give --stun-rate, --half-open-rate or --full-sessions",
        ));
    }
    for (name, rate) in [
        ("--stun-rate", args.stun_rate),
        ("--half-open-rate", args.half_open_rate),
    ] {
        if rate.is_nan() || rate < 0.0 {
            return Err(usage(format!("{name} must be 0, a positive number or inf")));
        }
    }
    let secs = |name: &str, v: f64| {
        Duration::try_from_secs_f64(v).usage(format!("{name} must be a duration"))
    };
    let connect_timeout = secs("--connect-timeout-secs", args.connect_timeout_secs)?;
    let target = LoadTarget {
        entry,
        addr: args.relay_addr,
    };
    let plan = AttackPlan {
        target: target.clone(),
        from: args.from,
        stun_rate: args.stun_rate,
        half_open_rate: args.half_open_rate,
        full_sessions: args.full_sessions,
        connect_timeout: Duration::from_secs(5).min(connect_timeout),
    };
    let comparison = if args.clients == 0 {
        let running = attack::Attack::start(plan)?;
        tokio::time::sleep(secs("--duration-secs", args.duration_secs)?).await;
        Comparison {
            attack: running.stop().await,
            ..Comparison::default()
        }
    } else {
        let clients = LoadPlan {
            relays: vec![target],
            sessions: args.clients,
            connect_rate: args.connect_rate,
            rooms: args.clients,
            signals_per_sec: 0.0,
            blob_size: load::MIN_BLOB_LEN,
            hold: Duration::ZERO,
            connect_timeout,
            local_ips: match args.client_ips.is_empty() {
                true => client_ips(args.clients),
                false => args.client_ips,
            },
            session_hold: None,
        };
        let warmup = secs("--warmup-secs", args.warmup_secs)?;
        attack::compare(plan, clients, !args.skip_quiet, warmup).await?
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        summary(&comparison);
    }
    Ok(())
}

fn summary(c: &Comparison) {
    let a = &c.attack;
    println!(
        "attack {:.1} s: (a) {:.0} binding requests/s, (b) {:.0} half-open handshakes/s",
        a.elapsed_secs, a.stun_per_sec, a.half_open_per_sec
    );
    for f in &a.floods {
        println!(
            "  from {}: (a) {} sent ({:.0}/s), (b) {} sent ({:.0}/s), {} send errors",
            f.from,
            f.stun_sent,
            f.stun_per_sec,
            f.half_open_sent,
            f.half_open_per_sec,
            f.send_errors
        );
    }
    let h = &a.full;
    println!(
        "  (c) {} connects: {} opened, {} failed, {} dropped; held peak {}, at the end {}",
        h.attempts, h.opened, h.failed, h.dropped, h.held_peak, h.held
    );
    for (name, report) in [
        ("quiet", c.quiet.as_ref()),
        ("under attack", Some(&c.under_attack)),
    ] {
        let Some(r) = report.filter(|r| r.sessions > 0) else {
            continue;
        };
        println!(
            "clients {name}: {} of {} connected, connect {}",
            r.connected, r.sessions, r.connect
        );
        for failure in &r.failures {
            println!("  failure: {failure}");
        }
    }
}
