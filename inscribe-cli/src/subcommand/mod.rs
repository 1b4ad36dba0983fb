//! One module per subcommand, as `lumamesh <subcommand>`.

mod relay;

/// The top-level subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Relay operators: create an identity, encode, decode and verify relay.txt entries,
    /// and print the static SDP a browser uses to reach a relay.
    #[command(subcommand)]
    Relay(relay::Relay),
}

impl Subcommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Subcommand::Relay(cmd) => cmd.run(),
        }
    }
}
