//! One module per subcommand, as `lumamesh <subcommand>`.

mod bundle;
mod page;
mod relay;

/// The top-level subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Relay operators: create an identity, encode, decode and verify relay.txt entries,
    /// and print the static SDP a browser uses to reach a relay.
    #[command(subcommand)]
    Relay(relay::Relay),
    /// Artists: build the runtime into one minified ES module with the relays embedded, and
    /// print its size and inscription cost.
    Bundle(bundle::Bundle),
    /// Artists: starter pages that use the runtime.
    #[command(subcommand)]
    Page(page::Page),
}

impl Subcommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Subcommand::Relay(cmd) => cmd.run(),
            Subcommand::Bundle(cmd) => cmd.run(),
            Subcommand::Page(cmd) => cmd.run(),
        }
    }
}
