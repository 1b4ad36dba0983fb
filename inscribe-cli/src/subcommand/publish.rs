//! `lumamesh publish`

use std::path::PathBuf;

use inscribe::page::{link_library, starter_page, InscriptionId, Runtime};
use onchain::{plan_publish, stand_in_id};
use sandbox_runtime::Flavor;

use crate::input::{read_text, read_verified_relays};
use crate::onchain::{usage, OnchainArgs, Run};
use crate::UsageError;

#[derive(Debug, clap::Args)]
pub struct Publish {
    /// Relay list (every entry must verify): embedded in the library and inscribed as is.
    #[arg(long, value_name = "FILE")]
    relays: PathBuf,
    /// The page; it imports the library as /content/LUMAMESH_LIBRARY_ID (see `lumamesh page
    /// new NAME --publish`). Default: the starter page.
    #[arg(long, value_name = "FILE")]
    page: Option<PathBuf>,
    /// Title and room of the default starter page.
    #[arg(long, value_name = "NAME", default_value = "lumamesh")]
    name: String,
    #[command(flatten)]
    onchain: OnchainArgs,
}

impl Publish {
    /// A publish of `relays` with the default starter page named `name`.
    pub fn new(relays: PathBuf, name: &str, onchain: OnchainArgs) -> Self {
        Self {
            relays,
            page: None,
            name: name.to_owned(),
            onchain,
        }
    }

    pub fn run(self) -> anyhow::Result<()> {
        let entries = read_verified_relays(&self.relays)?;
        let (relays_name, relays_text) = read_text(&self.relays)?;
        let (page_name, template) = match &self.page {
            Some(p) => read_text(p)?,
            None => (
                "starter page".to_owned(),
                starter_page(&self.name, &Runtime::Published),
            ),
        };
        link_library(&template, &stand_in_id())
            .map_err(|e| UsageError(format!("{page_name}: {e}")))?;

        let run = Run::open(self.onchain)?;
        let session = &run.session;
        run.step("bundling the runtime");
        let bundle = sandbox_runtime::bundle_as(&entries, Flavor::Module)?;
        let library = session
            .content(
                "library (lumamesh.js)",
                sandbox_runtime::Bundle::CONTENT_TYPE,
                bundle.js.into_bytes(),
                true,
            )
            .map_err(usage)?;
        let list_name = match self.relays.file_name() {
            Some(f) => format!("relay list ({})", f.to_string_lossy()),
            None => relays_name,
        };
        let list = session
            .content(
                &list_name,
                "text/plain;charset=utf-8",
                relays_text.into_bytes(),
                true,
            )
            .map_err(usage)?;
        let page = |library: &InscriptionId| {
            // The template was linked to the stand-in above: it has the placeholder.
            let html = link_library(&template, library).expect("checked above");
            session.content(
                &page_name,
                "text/html;charset=utf-8",
                html.into_bytes(),
                true,
            )
        };
        let stages = plan_publish(session, &library, &list, &page).map_err(usage)?;
        run.finish(stages.into())
    }
}
