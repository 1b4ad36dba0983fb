//! `lumamesh relay encode`

use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU16;
use std::path::PathBuf;

use anyhow::Context;
use bootstrap_codec::{append_entry, HostName, IceUfrag, RelayAddress, RelayEntry};
use keystore::{write_atomic, IdentityError, IdentityPaths, RelayIdentity};

use crate::{output, UsageError};

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("address").required(true).args(["ip", "host"]))]
pub struct Encode {
    /// Directory holding the relay identity (see `lumamesh relay init`).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The public IPv4 or IPv6 address browsers reach the relay at.
    #[arg(long, value_name = "IP", value_parser = parse_ip)]
    ip: Option<RelayAddress>,
    /// A DNS name browsers resolve to reach the relay (instead of --ip).
    ///
    /// Chromium resolves a host-name candidate; Firefox drops it and cannot reach the relay
    /// by name (docs/relay-txt.md, "Host names"), so the command warns: publish an IP entry
    /// for the relay as well.
    #[arg(long, value_name = "NAME", value_parser = parse_host)]
    host: Option<RelayAddress>,
    /// The relay's UDP port.
    #[arg(long, default_value = "3478")]
    port: NonZeroU16,
    /// The relay's ICE ufrag (its ICE_UFRAG), 4–256 characters of A-Z a-z 0-9 + /.
    #[arg(long, default_value = "luma", value_parser = |s: &str| IceUfrag::new(s).map_err(|e| e.to_string()))]
    ufrag: IceUfrag,
    /// Append the line to this relay list (created if missing). An identical entry already
    /// there is not added again.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_ip(s: &str) -> Result<RelayAddress, String> {
    let ip: IpAddr = s
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("{s:?} is not an IP address (use --host for a DNS name)"))?;
    RelayAddress::from_ip(ip).map_err(|e| e.to_string())
}

fn parse_host(s: &str) -> Result<RelayAddress, String> {
    if s.parse::<IpAddr>().is_ok() {
        return Err(format!("{s} is an IP address: use --ip"));
    }
    HostName::parse_lenient(s)
        .map(RelayAddress::Host)
        .map_err(|e| e.to_string())
}

#[derive(Debug, serde::Serialize)]
struct Output {
    entry: RelayEntry,
    out: Option<PathBuf>,
    appended: bool,
    /// Set for a host-name entry: which browsers cannot use it.
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<&'static str>,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.entry.to_line())?;
        if let Some(out) = &self.out {
            if self.appended {
                writeln!(f, "# appended to {}", out.display())?;
            } else {
                writeln!(f, "# already in {}; not added again", out.display())?;
            }
        }
        Ok(())
    }
}

impl Encode {
    pub fn run(self) -> anyhow::Result<()> {
        let paths = IdentityPaths::in_dir(&self.dir);
        let identity = match RelayIdentity::load(&paths) {
            Err(IdentityError::Missing { path, .. }) => {
                return Err(UsageError(format!(
                    "{}: missing; create the identity first with `lumamesh relay init --dir {}`",
                    path.display(),
                    self.dir.display()
                ))
                .into())
            }
            other => other?,
        };
        // The ArgGroup makes exactly one of --ip/--host present.
        let address = self.ip.or(self.host).expect("clap requires --ip or --host");
        let warning = matches!(address, RelayAddress::Host(_)).then_some(HostName::BROWSER_SUPPORT);
        if let Some(w) = warning {
            eprintln!("warning: {w}");
        }
        let entry = identity.entry(address, self.port, self.ufrag);
        let mut appended = false;
        if let Some(out) = &self.out {
            let existing = match std::fs::read_to_string(out) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(e).with_context(|| out.display().to_string()),
            };
            if let Some(text) = append_entry(&existing, &entry) {
                write_atomic(out, text.as_bytes())
                    .with_context(|| format!("writing {}", out.display()))?;
                appended = true;
            }
        }
        output::print(
            self.json,
            &Output {
                entry,
                out: self.out,
                appended,
                warning,
            },
        )
    }
}
