//! One module per subcommand, as `lumamesh <subcommand>`.

mod bundle;
mod check;
mod demo;
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
    /// CI and artists: load a page exactly as ord serves it, in headless Chromium, and report
    /// every way it would break or leak.
    Check(check::Check),
    /// See it work: a local relay, the runtime bundled for it, a starter page served as ord
    /// serves it, and two headless browsers talking to each other directly. No arguments.
    Demo(demo::Demo),
}

impl Subcommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Subcommand::Relay(cmd) => cmd.run(),
            Subcommand::Bundle(cmd) => cmd.run(),
            Subcommand::Page(cmd) => cmd.run(),
            Subcommand::Check(cmd) => cmd.run(),
            Subcommand::Demo(cmd) => cmd.run(),
        }
    }
}
