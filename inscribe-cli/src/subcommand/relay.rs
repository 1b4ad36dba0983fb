//! `lumamesh relay …`: the operator's commands.

mod decode;
mod encode;
mod init;
mod sdp;
mod verify;

use bootstrap_codec::RelayTxt;

use crate::input;

/// The relay subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Relay {
    /// Create a relay identity: DTLS certificate and key, ICE password, Ed25519 node key.
    Init(init::Init),
    /// Print this relay's signed relay.txt line (and append it to a relay list).
    Encode(encode::Encode),
    /// Show each entry of a relay.txt: address, port, fingerprint, node key.
    Decode(decode::Decode),
    /// Check that every entry of a relay.txt is well-formed and signed by its node key.
    Verify(verify::Verify),
    /// Print the static SDP answer a browser applies to reach a relay.
    Sdp(sdp::Sdp),
}

impl Relay {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Relay::Init(c) => c.run(),
            Relay::Encode(c) => c.run(),
            Relay::Decode(c) => c.run(),
            Relay::Verify(c) => c.run(),
            Relay::Sdp(c) => c.run(),
        }
    }
}

/// A relay.txt read and parsed, with the name to use in messages.
struct RelayFile {
    name: String,
    txt: RelayTxt,
}

impl RelayFile {
    fn read(path: &std::path::Path) -> anyhow::Result<Self> {
        let (name, text) = input::read_text(path)?;
        Ok(RelayFile {
            name,
            txt: RelayTxt::parse(&text),
        })
    }

    /// `FILE:LINE: reason` for each bad line, compiler style.
    fn error_lines(&self) -> Vec<String> {
        self.txt
            .errors
            .iter()
            .map(|e| format!("{}:{}: {}", self.name, e.line, e.error))
            .collect()
    }

    fn json_errors(&self) -> Vec<LineProblem> {
        self.txt
            .errors
            .iter()
            .map(|e| LineProblem {
                line: e.line,
                error: e.error.to_string(),
            })
            .collect()
    }
}

/// A bad line, for `--json`.
#[derive(Debug, serde::Serialize)]
struct LineProblem {
    line: usize,
    error: String,
}
