//! `lumamesh page …`

use std::fmt;
use std::path::PathBuf;

use anyhow::Context;
use inscribe::page::{starter_page, InscriptionId, Runtime};
use keystore::write_atomic;
use sandbox_runtime::Flavor;

use crate::input::read_verified_relays;
use crate::{output, UsageError};

/// Page commands.
#[derive(Debug, clap::Subcommand)]
pub enum Page {
    /// Write a starter page: a room chat using the Lumamesh runtime, ready to edit.
    New(New),
}

impl Page {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Page::New(c) => c.run(),
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("runtime").required(true).args(["lib", "inline", "publish"]))]
pub struct New {
    /// Page name: the title, the room name, and the file NAME.html.
    name: String,
    /// Inscription id of the inscribed runtime; the page imports it by recursion
    /// (`/content/<id>`).
    #[arg(long, value_name = "INSCRIPTION_ID")]
    lib: Option<InscriptionId>,
    /// Import the library `lumamesh publish` inscribes with this page: the import names
    /// LUMAMESH_LIBRARY_ID, which publish replaces with the library's id before signing.
    #[arg(long)]
    publish: bool,
    /// Put the runtime inside the page instead (needs --relays).
    #[arg(long, requires = "relays")]
    inline: bool,
    /// Relay list to embed with --inline.
    #[arg(long, value_name = "FILE")]
    relays: Option<PathBuf>,
    /// Directory to write NAME.html into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Output {
    path: PathBuf,
    bytes: usize,
    runtime: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "wrote {} ({} B, runtime {})",
            self.path.display(),
            self.bytes,
            self.runtime
        )
    }
}

impl New {
    pub fn run(self) -> anyhow::Result<()> {
        let file_stem: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if file_stem.trim_matches('-').is_empty() {
            return Err(UsageError(format!(
                "page name {:?} has no usable characters",
                self.name
            ))
            .into());
        }
        let path = self.out.join(format!("{file_stem}.html"));
        if path.exists() && !self.force {
            return Err(UsageError(format!(
                "{} exists; pass --force to replace it",
                path.display()
            ))
            .into());
        }
        let (runtime, described) = match (self.lib, self.relays) {
            _ if self.publish => (
                Runtime::Published,
                format!("/content/{}", inscribe::page::LIBRARY_PLACEHOLDER),
            ),
            (Some(id), _) => (Runtime::Inscription(id), format!("/content/{id}")),
            (None, Some(relays)) => {
                let entries = read_verified_relays(&relays)?;
                let bundle = sandbox_runtime::bundle_as(&entries, Flavor::Global)?;
                (
                    Runtime::Inline(bundle.js),
                    format!("inline, {} relays", entries.len()),
                )
            }
            // clap requires --lib, or --inline which requires --relays.
            (None, None) => unreachable!("clap enforces --lib, --publish or --inline --relays"),
        };
        let html = starter_page(&self.name, &runtime);
        write_atomic(&path, html.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        output::print(
            self.json,
            &Output {
                path,
                bytes: html.len(),
                runtime: described,
            },
        )
    }
}
