//! `lumamesh`: the Lumamesh toolkit for relay operators, artists and CI.

use std::process::ExitCode;

use clap::Parser;

mod input;
mod onchain;
mod output;
mod subcommand;

/// Lumamesh: browser-to-browser networking for Bitcoin inscriptions, through volunteer relays
/// reached with a static SDP answer (no signaling server, no fetch).
#[derive(Debug, Parser)]
#[command(
    name = "lumamesh",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    subcommand: subcommand::Subcommand,
}

pub use report::{Failed, UsageError};

fn main() -> ExitCode {
    report::main(|cli: Cli| cli.subcommand.run())
}
