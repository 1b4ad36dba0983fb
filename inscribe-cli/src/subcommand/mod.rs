//! One module per subcommand, as `lumamesh <subcommand>`.

pub mod broadcast;
mod bundle;
mod check;
mod demo;
mod inscribe;
mod inspect;
mod page;
mod publish;
mod relay;
mod wallet;

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
    /// Artists: inscribe one file (commit + reveal, as `ord wallet inscribe` builds them),
    /// every transaction verified with Bitcoin Core's consensus code before it is written.
    Inscribe(inscribe::Inscribe),
    /// Artists: inscribe the runtime library, the relay list and a page that imports the
    /// library by its final id — two commit/reveal pairs, signed and verified in one run.
    Publish(publish::Publish),
    /// Anyone: list the inscriptions a transaction reveals, as ord would read them.
    Inspect(inspect::Inspect),
    /// Artists: the BIP86 taproot wallet that pays for inscriptions — create or restore a
    /// mnemonic (kept in a 0600 file), print addresses and Bitcoin Core descriptors, and check
    /// a funding UTXO file.
    #[command(subcommand)]
    Wallet(wallet::Wallet),
    /// See it work: a local relay, the runtime bundled for it, a starter page served as ord
    /// serves it, and two headless browsers talking to each other directly. No arguments.
    Demo(demo::Demo),
    /// Artists: send a written `inscribe` or `publish` run to a Bitcoin Core node in order,
    /// or finish a broadcast that was interrupted or refused (nothing is sent twice).
    Broadcast(broadcast::Broadcast),
}

impl Subcommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Subcommand::Relay(cmd) => cmd.run(),
            Subcommand::Bundle(cmd) => cmd.run(),
            Subcommand::Page(cmd) => cmd.run(),
            Subcommand::Check(cmd) => cmd.run(),
            Subcommand::Demo(cmd) => cmd.run(),
            Subcommand::Inscribe(cmd) => cmd.run(),
            Subcommand::Publish(cmd) => cmd.run(),
            Subcommand::Inspect(cmd) => cmd.run(),
            Subcommand::Wallet(cmd) => cmd.run(),
            Subcommand::Broadcast(cmd) => cmd.run(),
        }
    }
}
