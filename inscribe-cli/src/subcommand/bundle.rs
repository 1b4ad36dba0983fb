//! `lumamesh bundle`

use std::fmt;
use std::path::PathBuf;

use anyhow::Context;
use keystore::write_atomic;
use onchain::estimate::{reveal_fee, reveal_vsize};
use sandbox_runtime::Flavor;

use crate::input::{read_verified_relays, InputPath};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Bundle {
    /// Relay list to embed (every entry must verify), or - for standard input.
    #[arg(long, value_name = "FILE|-")]
    relays: InputPath,
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE", default_value = "lumamesh.js")]
    out: PathBuf,
    /// Build a script that sets globalThis.lumamesh instead of an ES module (for pages
    /// that inline the runtime).
    #[arg(long)]
    global: bool,
    /// Fee rate for the cost estimate, in sat/vB.
    #[arg(long, value_name = "SAT/VB", default_value_t = 10.0)]
    fee_rate: f64,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Output {
    out: PathBuf,
    relays: usize,
    source_bytes: usize,
    bytes: usize,
    brotli_bytes: usize,
    content_type: &'static str,
    fee_rate: f64,
    reveal_vsize: u64,
    reveal_vsize_brotli: u64,
    reveal_fee: u64,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "wrote {} ({} relay entries embedded)",
            self.out.display(),
            self.relays
        )?;
        writeln!(
            f,
            "  size      {} B minified ({} B source)",
            self.bytes, self.source_bytes
        )?;
        writeln!(
            f,
            "  brotli    {} B (q11, window 24, as ord compresses)",
            self.brotli_bytes
        )?;
        writeln!(
            f,
            "  reveal    {} vB as {}, {} vB brotli-encoded",
            self.reveal_vsize, self.content_type, self.reveal_vsize_brotli
        )?;
        writeln!(
            f,
            "  fee       {} sat at {} sat/vB (smaller encoding; plus postage and the commit)",
            self.reveal_fee, self.fee_rate
        )
    }
}

impl Bundle {
    pub fn run(self) -> anyhow::Result<()> {
        if !(self.fee_rate.is_finite() && self.fee_rate > 0.0) {
            return Err(crate::UsageError(format!(
                "--fee-rate {} must be a positive number of sat/vB",
                self.fee_rate
            ))
            .into());
        }
        let entries = read_verified_relays(&self.relays)?;
        let flavor = if self.global {
            Flavor::Global
        } else {
            Flavor::Module
        };
        let bundle = sandbox_runtime::bundle_as(&entries, flavor)?;
        write_atomic(&self.out, bundle.js.as_bytes())
            .with_context(|| format!("writing {}", self.out.display()))?;
        let plain = reveal_vsize(sandbox_runtime::Bundle::CONTENT_TYPE, None, bundle.js.len());
        let br = reveal_vsize(
            sandbox_runtime::Bundle::CONTENT_TYPE,
            Some("br"),
            bundle.brotli_len,
        );
        output::print(
            self.json,
            &Output {
                out: self.out,
                relays: bundle.relays,
                source_bytes: bundle.source_len,
                bytes: bundle.js.len(),
                brotli_bytes: bundle.brotli_len,
                content_type: sandbox_runtime::Bundle::CONTENT_TYPE,
                fee_rate: self.fee_rate,
                reveal_vsize: plain,
                reveal_vsize_brotli: br,
                reveal_fee: reveal_fee(plain.min(br), self.fee_rate),
            },
        )
    }
}
