//! `lumamesh publish`: a library, its relay list and a page; or, with `--parent`, an updated
//! relay list as a child of the one a page was published with.

use std::path::PathBuf;

use inscribe::page::{link_library, starter_page, InscriptionId, Runtime};
use onchain::{plan_publish, stand_in_id, Content, ContentSummary, Stage};
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
    #[arg(long, value_name = "FILE", conflicts_with = "parent")]
    page: Option<PathBuf>,
    /// Inscribe only --relays, as a child of this relay list (the `…i1` a publish printed,
    /// or an earlier child's parent): pages published with that list dial the newest child's
    /// relays too. The list needs a `# version N` line, N above every earlier child's (the
    /// highest version wins, then the later child); --utxos must list the parent's output
    /// under "inscriptions" (its reveal spends it and gives it back).
    #[arg(long, value_name = "LIST_ID")]
    parent: Option<InscriptionId>,
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
            parent: None,
            name: name.to_owned(),
            onchain,
        }
    }

    pub fn run(self) -> anyhow::Result<()> {
        let entries = read_verified_relays(&self.relays)?;
        let (relays_name, relays_text) = read_text(&self.relays)?;
        if let Some(parent) = self.parent {
            let version =
                list_version(&relays_text).map_err(|e| UsageError(format!("{relays_name}:{e}")))?;
            if version.is_none() {
                return Err(UsageError(format!(
                    "{relays_name}: a child relay list needs a `# version N` line, N above \
                     every earlier child's (docs/relay-txt.md)"
                ))
                .into());
            }
            return publish_child(self.onchain, parent, &self.relays, relays_text);
        }
        list_version(&relays_text).map_err(|e| UsageError(format!("{relays_name}:{e}")))?;
        let (page_name, template) = match &self.page {
            Some(p) => read_text(p)?,
            None => (
                "starter page".to_owned(),
                starter_page(&self.name, &Runtime::Published),
            ),
        };
        let stand_in = stand_in_id();
        link_library(&template, &stand_in, &stand_in)
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
        let list = list_content(&run, &self.relays, relays_text)?;
        let page = |library: &InscriptionId, list: &InscriptionId| {
            // The template was linked to the stand-in above: it has the placeholder.
            let html = link_library(&template, library, list).expect("checked above");
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

/// The relay list as inscribed (`text/plain;charset=utf-8`, brotli when smaller).
fn list_content(run: &Run, path: &std::path::Path, text: String) -> anyhow::Result<Content> {
    let name = match path.file_name() {
        Some(f) => format!("relay list ({})", f.to_string_lossy()),
        None => "relay list".to_owned(),
    };
    run.session
        .content(&name, "text/plain;charset=utf-8", text.into_bytes(), true)
        .map_err(usage)
}

/// `--parent`: one commit/reveal pair inscribing the list as the parent's child.
fn publish_child(
    onchain: OnchainArgs,
    parent: InscriptionId,
    path: &std::path::Path,
    text: String,
) -> anyhow::Result<()> {
    let run = Run::open(onchain)?;
    let list = list_content(&run, path, text)?;
    let session = &run.session;
    let parent = session.parent(parent).map_err(usage)?;
    let plan = session.plan(vec![list.inscription.clone()], vec![parent]);
    let prepared = session.prepare(&plan).map_err(usage)?;
    run.finish(vec![Stage {
        name: LIST_STAGE,
        prepared,
        contents: vec![ContentSummary::of(&list)],
    }])
}

/// The name of a child list's files (`list-commit.hex`…).
pub const LIST_STAGE: &str = "list";

/// A second `# version` line, or one whose number is not a whole number up to 2^53 − 1 (the
/// page reads it as a JavaScript number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("{line}: `# version {value}`: not a whole number up to 9007199254740991")]
    Bad { line: usize, value: String },
    #[error("{line}: a second `# version` line (the first is on line {first})")]
    Twice { line: usize, first: usize },
}

/// The largest version a page compares exactly (Number.MAX_SAFE_INTEGER).
const MAX_VERSION: u64 = (1 << 53) - 1;

/// The version of a relay list: its one line `# version N` (docs/relay-txt.md), `None` if it
/// has none. Other comments are comments; a `# version` line that is not exactly that is
/// refused, so what the page reads is what the tool checked.
pub fn list_version(text: &str) -> Result<Option<u64>, VersionError> {
    let mut found: Option<(usize, u64)> = None;
    for (i, line) in text.lines().enumerate() {
        let line_text = line.trim_end();
        let Some(value) = line_text.strip_prefix("# version") else {
            continue;
        };
        // `# versions…`, `# versioned…`: other comments.
        if !(value.is_empty() || value.starts_with(char::is_whitespace)) {
            continue;
        }
        let line = i + 1;
        let digits = value.strip_prefix(' ').unwrap_or("");
        let version = digits
            .parse::<u64>()
            .ok()
            .filter(|v| digits.bytes().all(|b| b.is_ascii_digit()) && *v <= MAX_VERSION)
            .ok_or_else(|| VersionError::Bad {
                line,
                value: value.trim().to_owned(),
            })?;
        if let Some((first, _)) = found {
            return Err(VersionError::Twice { line, first });
        }
        found = Some((line, version));
    }
    Ok(found.map(|(_, v)| v))
}

#[cfg(test)]
mod tests {
    use super::{list_version, VersionError};

    #[test]
    fn the_version_line() {
        assert_eq!(list_version("# relays\nAQB\n"), Ok(None));
        assert_eq!(list_version("# version 7\nAQB\n"), Ok(Some(7)));
        assert_eq!(list_version("AQB\r\n# version 12 \r\n"), Ok(Some(12)));
        // Another comment that starts alike is a comment.
        assert_eq!(list_version("# versions differ\n# versioned\n"), Ok(None));
        for bad in [
            "# version",
            "# version -1",
            "# version 1.5",
            "# version +3",
            "# version  3",
            "# version 9007199254740992",
        ] {
            assert!(
                matches!(list_version(bad), Err(VersionError::Bad { line: 1, .. })),
                "{bad}"
            );
        }
        assert_eq!(
            list_version("# version 1\n\n# version 2\n"),
            Err(VersionError::Twice { line: 3, first: 1 })
        );
    }
}
