//! What `lumamesh check` checks: the pages of a folder or of reveal transactions, everything
//! served beside them, the library placeholder linked to the runtime, and the relays they
//! embed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bootstrap_codec::RelayEntry;
use harness::check::PAGE_ID;
use harness::server::{read_reveal, Inscription, Store};
use harness::InscriptionId;
use inscribe::page::LIBRARY_PLACEHOLDER;
use regex::Regex;

use crate::UsageError;

/// One page to check: it is served at `id` from the shared store.
pub(super) struct Target {
    /// How output names the page (a file, or a reveal file and id).
    pub(super) name: String,
    /// What replaces the page's served URL in messages.
    pub(super) location: String,
    pub(super) id: InscriptionId,
    /// The page's HTML, decoded, to find the ids it references.
    pub(super) html: Vec<u8>,
}

/// Every page to check and everything served beside them.
pub(super) struct Targets {
    pub(super) pages: Vec<Target>,
    /// The pages themselves and the inscriptions of the folder and the reveals.
    pub(super) store: Store,
}

/// A page file or every HTML inscription of a store folder, and every HTML inscription of
/// the reveals; all served from one store.
pub(super) fn load_targets(path: Option<&Path>, reveals: &[PathBuf]) -> anyhow::Result<Targets> {
    let mut targets = Targets {
        pages: Vec::new(),
        store: Store::new(),
    };
    let mut page_file = None;
    if let Some(path) = path {
        let name = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(UsageError(format!("{name}: no such file or folder")).into())
            }
            Err(e) => return Err(e).context(name),
        };
        if meta.is_dir() {
            load_folder(path, &mut targets)?;
        } else {
            let html = Store::read_file_limited(path, Store::MAX_BODY_FILE, "an inscription")?;
            page_file = Some((name, html));
        }
    }
    for path in reveals {
        load_reveal(path, &mut targets)?;
    }
    add_delegating_pages(&mut targets)?;
    if let Some((name, html)) = page_file {
        // The page file is served under PAGE_ID (a valid id literal).
        let id: InscriptionId = PAGE_ID.parse().expect("PAGE_ID parses");
        if targets.store.get(&id).is_some() {
            eprintln!("note: inscription {PAGE_ID} is not served (the checked page uses its id)");
        }
        targets.store.insert(
            id,
            Inscription::new("text/html;charset=utf-8", html.clone()),
        );
        targets.pages.retain(|p| p.id != id);
        targets.pages.insert(
            0,
            Target {
                location: name.clone(),
                name,
                id,
                html,
            },
        );
    }
    Ok(targets)
}

/// Every inscription of a store folder, and a target for each HTML one.
fn load_folder(path: &Path, targets: &mut Targets) -> anyhow::Result<()> {
    let name = path.display().to_string();
    let store = Store::load_dir(path).with_context(|| format!("loading the folder {name}"))?;
    // The store knows ids, not file names; its files are named `<id>` or `<id>.<ext>`.
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(path).with_context(|| name.clone())? {
        let file = entry.with_context(|| name.clone())?.file_name();
        let file = file.to_string_lossy();
        let stem = file.split_once('.').map_or(&*file, |(stem, _)| stem);
        if let Ok(id) = stem.parse::<InscriptionId>() {
            if store.get(&id).is_some() {
                files.entry(id).or_insert_with(|| file.into_owned());
            }
        }
    }
    let before = targets.pages.len();
    for (id, inscription) in store.iter() {
        targets.store.insert(*id, inscription.clone());
        let page = match files.get(id) {
            Some(file) => Path::new(&name).join(file).display().to_string(),
            None => format!("{name}: {id}"),
        };
        if let Some(html) = page_html(&page, inscription)? {
            targets.pages.push(Target {
                location: page.clone(),
                name: page,
                id: *id,
                html,
            });
        }
    }
    if targets.pages.len() == before {
        return Err(UsageError(format!(
            "{name}: no HTML inscriptions (<id>.html, or a .type sidecar saying text/html)"
        ))
        .into());
    }
    Ok(())
}

/// Inscriptions that delegate to an HTML inscription are pages too: ord serves them the
/// delegate's content at their own id.
fn add_delegating_pages(targets: &mut Targets) -> anyhow::Result<()> {
    let mut found = Vec::new();
    for (id, inscription) in targets.store.iter() {
        let Some(delegate) = inscription.delegate_id() else {
            continue;
        };
        if targets.pages.iter().any(|p| p.id == *id) {
            continue;
        }
        let Some(served) = targets.store.get(&delegate) else {
            continue;
        };
        let name = format!("{id} (delegates to {delegate})");
        if let Some(html) = page_html(&name, served)? {
            found.push(Target {
                location: format!("/content/{id}"),
                name,
                id: *id,
                html,
            });
        }
    }
    targets.pages.extend(found);
    Ok(())
}

/// Every inscription of one reveal transaction file, and a target for each HTML one.
fn load_reveal(path: &Path, targets: &mut Targets) -> anyhow::Result<()> {
    let name = path.display().to_string();
    if !path.exists() {
        return Err(UsageError(format!("--reveal {name}: no such file")).into());
    }
    let tx = read_reveal(path)?;
    // Read first into a store of its own, to name what replaces an earlier page; then into
    // the served store whole, so the reveal's curses and places are served as ord's are.
    let mut reveal = Store::new();
    let ids = reveal
        .insert_reveal(&tx)
        .with_context(|| format!("--reveal {name}"))?;
    for id in &ids {
        if targets.store.get(id).is_some() {
            eprintln!("note: {name}: inscription {id} replaces the one given before");
        }
    }
    targets
        .store
        .insert_reveal(&tx)
        .with_context(|| format!("--reveal {name}"))?;
    let mut pages = 0;
    for id in ids {
        // insert_reveal just stored every id it returned.
        let inscription = reveal.get(&id).expect("revealed inscription stored");
        let page = format!("{name} {id}");
        if let Some(html) = page_html(&page, inscription)? {
            pages += 1;
            targets.pages.retain(|p| p.id != id);
            targets.pages.push(Target {
                name: page,
                location: format!("/content/{id}"),
                id,
                html,
            });
        }
    }
    if pages == 0 {
        eprintln!(
            "note: --reveal {name}: no HTML inscription to check; its inscriptions are served"
        );
    }
    Ok(())
}

/// The decoded HTML of an HTML inscription (`text/html…`), or `None` for other types.
fn page_html(page: &str, inscription: &Inscription) -> anyhow::Result<Option<Vec<u8>>> {
    if !inscription
        .content_type()
        .is_some_and(|t| t.starts_with("text/html"))
    {
        return Ok(None);
    }
    let html = match inscription.content_encoding() {
        None => inscription.body().to_vec(),
        // Bounded: a bomb stops at inscription::MAX_DECOMPRESSED, and the cause says so.
        Some("br") => inscription::decompress_brotli(inscription.body())
            .with_context(|| format!("{page}: content encoding br, but it does not decode"))?,
        Some(other) => {
            return Err(UsageError(format!(
                "{page}: content encoding {other:?} is not supported (only br)"
            ))
            .into())
        }
    };
    Ok(Some(html))
}

/// Every inscription the page names as `/content/<id>`, in order, without repeats.
pub(super) fn referenced_ids(html: &[u8]) -> Vec<InscriptionId> {
    // The pattern is a literal known to compile.
    let pattern = Regex::new(r"/content/([0-9a-f]{64}i[0-9]+)").expect("valid regex");
    let text = String::from_utf8_lossy(html);
    let mut ids = Vec::new();
    for capture in pattern.captures_iter(&text) {
        if let Ok(id) = capture[1].parse::<InscriptionId>() {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The id `/content/LUMAMESH_LIBRARY_ID` is served under (the placeholder itself is no
/// id, so ord would answer 400): a fixed, recognisable one.
pub(super) fn placeholder_id() -> InscriptionId {
    // A valid id literal.
    "2222222222222222222222222222222222222222222222222222222222222222i0"
        .parse()
        .expect("placeholder id parses")
}

/// Points every page's `/content/LUMAMESH_LIBRARY_ID` at [`placeholder_id`], in the page
/// and in the inscription served for it, as `publish` will point it at the library.
pub(super) fn link_placeholders(targets: &mut Targets) {
    let placeholder = format!("/content/{LIBRARY_PLACEHOLDER}");
    let linked = format!("/content/{}", placeholder_id());
    for target in &mut targets.pages {
        let text = String::from_utf8_lossy(&target.html);
        if !text.contains(&placeholder) {
            continue;
        }
        let html = text.replace(&placeholder, &linked).into_bytes();
        let content_type = targets
            .store
            .get(&target.id)
            .and_then(|i| i.content_type().map(str::to_owned))
            .unwrap_or_else(|| "text/html;charset=utf-8".into());
        targets
            .store
            .insert(target.id, Inscription::new(&content_type, html.clone()));
        target.html = html;
    }
}

/// Every signed relay entry an inscription carries (a relay list, a runtime's embedded
/// list): base64url tokens that decode and verify.
pub(super) fn embedded_relays(inscription: &Inscription) -> Vec<RelayEntry> {
    let body = match inscription.content_encoding() {
        Some("br") => match inscription::decompress_brotli(inscription.body()) {
            Ok(body) => body,
            Err(_) => return Vec::new(),
        },
        _ => inscription.body().to_vec(),
    };
    let text = String::from_utf8_lossy(&body);
    // The pattern is a literal known to compile.
    let token = Regex::new(r"[A-Za-z0-9_-]{80,}").expect("valid regex");
    token
        .find_iter(&text)
        .filter_map(|m| RelayEntry::from_line(m.as_str()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::referenced_ids;

    #[test]
    fn finds_each_referenced_inscription_once() {
        let a = format!("{}i0", "ab".repeat(32));
        let b = format!("{}i12", "01".repeat(32));
        let html = format!(
            "<script type=module>import x from '/content/{a}'; import('/content/{b}'); fetch('/content/{a}')</script><img src=/content/{}i0>",
            "AB".repeat(32)
        );
        let ids: Vec<String> = referenced_ids(html.as_bytes())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ids, [a, b]);
    }
}
