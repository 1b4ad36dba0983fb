//! How every Lumamesh binary ends (`lumamesh`, `lumamesh-relay`, `lumamesh-load`): one error
//! report and one exit-code convention.
//!
//! | exit | when |
//! |---|---|
//! | 0 | it worked; also `--help`, `--version`, and a stdout its reader closed ([`write_stdout`]: `lumamesh … \| head`) |
//! | 1 | it ran and failed, or found the input wanting ([`Failed`]: findings already printed) |
//! | 2 | usage or environment: bad flags or input the user fixes ([`UsageError`]), a missing file, a port that cannot be bound |
//!
//! A failure prints `error: <message>` and then `because: <cause>` for each cause, on
//! stderr, and nothing else.
//!
//! ```no_run
//! use anyhow::Result;
//! use report::UsageContext;
//!
//! #[derive(clap::Parser)]
//! struct Args {
//!     /// The file to read.
//!     file: std::path::PathBuf,
//! }
//!
//! fn run(args: Args) -> Result<()> {
//!     let text = std::fs::read_to_string(&args.file).usage(format!("reading {}", args.file.display()))?;
//!     println!("{}", text.len());
//!     Ok(())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     report::main(run)
//! }
//! ```

use std::fmt::Display;
use std::io::{self, Write};
use std::process::ExitCode;

/// An error the user fixes by calling the command differently or by fixing its environment
/// (a flag, an input file, a port): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The command ran but found the input wanting and has printed its findings: exit code 1
/// with no further message.
#[derive(Debug, thiserror::Error)]
#[error("failed")]
pub struct Failed;

/// Standard output was closed by its reader (`lumamesh … | head`): not a failure, exit 0
/// and no message. Only [`write_stdout`] gives it: a broken pipe anywhere else (a socket, a
/// browser's pipe) is a failure like any other.
#[derive(Debug, thiserror::Error)]
#[error("standard output closed")]
pub struct StdoutClosed;

/// Writes to standard output with `write` and flushes; a reader that went away is
/// [`StdoutClosed`].
pub fn write_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        other => Ok(other?),
    }
}

/// A [`UsageError`] saying `message`, as an error to return.
pub fn usage(message: impl Display) -> anyhow::Error {
    UsageError(message.to_string()).into()
}

/// Marks an error as the user's to fix (exit 2), with `what` as its message and the error
/// as its cause.
pub trait UsageContext<T> {
    /// Wraps the error in a [`UsageError`] saying `what` was being done.
    fn usage(self, what: impl Display) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> UsageContext<T> for Result<T, E> {
    fn usage(self, what: impl Display) -> anyhow::Result<T> {
        self.map_err(|e| e.into().context(UsageError(what.to_string())))
    }
}

/// Parses the arguments, runs `run` and reports how it ended: the whole `main` of a binary.
pub fn main<A: clap::Parser>(run: impl FnOnce(A) -> anyhow::Result<()>) -> ExitCode {
    let args = match A::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            // Help and version go to stdout and are not errors.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    exit(run(args))
}

/// Prints the report for `result` on stderr and gives its exit code.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = code(&err);
            if code != 0 && err.downcast_ref::<Failed>().is_none() {
                let _ = write_report(&mut io::stderr().lock(), &err);
            }
            ExitCode::from(code)
        }
    }
}

/// The exit code for `err` (see the table above).
pub fn code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<StdoutClosed>().is_some() {
        0
    } else if err.downcast_ref::<UsageError>().is_some() {
        2
    } else {
        1
    }
}

/// Writes `error: …` and one `because: …` line per cause.
pub fn write_report(out: &mut impl Write, err: &anyhow::Error) -> io::Result<()> {
    writeln!(out, "error: {err}")?;
    for cause in err.chain().skip(1) {
        writeln!(out, "because: {cause}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{code, write_report, Failed, StdoutClosed, UsageContext, UsageError};

    fn text(err: &anyhow::Error) -> String {
        let mut out = Vec::new();
        write_report(&mut out, err).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn codes() {
        assert_eq!(code(&anyhow::anyhow!("driver failed")), 1);
        assert_eq!(code(&Failed.into()), 1);
        assert_eq!(
            code(&UsageError("--fee-rate must be positive".into()).into()),
            2
        );
        assert_eq!(
            code(&anyhow::Error::new(StdoutClosed).context("printing")),
            0
        );
        // A broken pipe to anything but stdout (a browser, a socket) is a failure.
        let pipe = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "closed");
        assert_eq!(
            code(&anyhow::Error::new(pipe).context("talking to Chromium")),
            1
        );
    }

    #[test]
    fn usage_survives_more_context_and_keeps_the_causes() {
        let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = Err::<(), _>(missing)
            .usage("reading relay.txt")
            .map_err(|e| e.context("starting the relay"))
            .unwrap_err();
        assert_eq!(code(&err), 2);
        assert_eq!(
            text(&err),
            "error: starting the relay\nbecause: reading relay.txt\nbecause: no such file\n"
        );
    }
}
