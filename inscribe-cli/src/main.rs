//! `lumamesh`: the Lumamesh toolkit for relay operators, artists and CI.

use std::io::{self, Write};
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

/// An error the user fixes by calling the command differently: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What a subcommand reports when it ran but found the input wanting: exit code 1 with no
/// further message (the subcommand has printed its findings).
#[derive(Debug, thiserror::Error)]
#[error("check failed")]
pub struct Failed;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.subcommand.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

/// Prints `error: …` and its causes in one place, and picks the exit code.
fn report(err: &anyhow::Error) -> ExitCode {
    if err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    if err.downcast_ref::<Failed>().is_some() {
        return ExitCode::from(1);
    }
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "error: {err}");
    for cause in err.chain().skip(1) {
        let _ = writeln!(stderr, "because: {cause}");
    }
    if err.downcast_ref::<UsageError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}
