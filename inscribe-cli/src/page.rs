//! Starter pages for artists: a working room chat that imports the runtime by recursion or
//! carries it inline.

/// Inscription ids, `<64 hex txid>i<index>`: the `inscription` crate's type.
pub use inscription::{InscriptionId, ParseIdError};

/// Where the page gets the runtime from.
#[derive(Debug, Clone)]
pub enum Runtime {
    /// `import { connect } from '/content/<id>'` (ord's recursive endpoint).
    Inscription(InscriptionId),
    /// The runtime's global-flavor bundle, pasted into the page.
    Inline(String),
    /// `import … from '/content/LUMAMESH_LIBRARY_ID'`: `lumamesh publish` inscribes the
    /// runtime and puts its id in place of [`LIBRARY_PLACEHOLDER`] before signing.
    Published,
}

/// What `lumamesh publish` replaces with the library's inscription id.
pub const LIBRARY_PLACEHOLDER: &str = "LUMAMESH_LIBRARY_ID";

/// What `lumamesh publish` replaces with the id of the relay list it inscribes, the parent of
/// later child lists (docs/inscriptions.md, "Child relay lists"). Optional in a page.
pub const LIST_PLACEHOLDER: &str = "LUMAMESH_LIST_ID";

/// The starter page's lookup of the newest child relay list (an ES module; the page carries
/// it without its `export`).
pub const CHILDREN_JS: &str = include_str!("page/children.js");

/// A page without [`LIBRARY_PLACEHOLDER`] to point at the published library.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the page never imports /content/{LIBRARY_PLACEHOLDER}, so it would not use the library \
     being published (write one with `lumamesh page new NAME --publish`)"
)]
pub struct NoPlaceholder;

/// Points every `/content/LUMAMESH_LIBRARY_ID` of `page` at `library`, and every
/// `LUMAMESH_LIST_ID` (if any) at `list`.
///
/// ```
/// use inscribe::page::{link_library, InscriptionId};
/// let id: InscriptionId =
///     "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799i0".parse().unwrap();
/// let page = "import { connect } from '/content/LUMAMESH_LIBRARY_ID';";
/// let page = "import { connect } from '/content/LUMAMESH_LIBRARY_ID'; f('LUMAMESH_LIST_ID');";
/// assert_eq!(
///     link_library(page, &id, &id).unwrap(),
///     format!("import {{ connect }} from '/content/{id}'; f('{id}');")
/// );
/// assert!(link_library("<p>no import</p>", &id, &id).is_err());
/// ```
pub fn link_library(
    page: &str,
    library: &InscriptionId,
    list: &InscriptionId,
) -> Result<String, NoPlaceholder> {
    let placeholder = format!("/content/{LIBRARY_PLACEHOLDER}");
    if !page.contains(&placeholder) {
        return Err(NoPlaceholder);
    }
    Ok(page
        .replace(&placeholder, &format!("/content/{library}"))
        .replace(LIST_PLACEHOLDER, &list.to_string()))
}

/// Renders the starter page. `name` is the page title and the room name; it is escaped
/// for HTML and for the JavaScript string it lands in.
pub fn starter_page(name: &str, runtime: &Runtime) -> String {
    let title = html_escape(name);
    // JSON is a JavaScript string literal; "</" is split so no name can close the script.
    let room = serde_json::to_string(name)
        .expect("a string serializes")
        .replace("</", "<\\/");
    // The library's fetch starts at the top of the page (`modulepreload`), before the relay
    // link's peer connection is made; the module script at the end imports it from there.
    let preload = |id: &dyn std::fmt::Display| {
        format!("<link rel=\"modulepreload\" href=\"/content/{id}\">\n")
    };
    let (preload, runtime_script, import, options) = match runtime {
        Runtime::Inscription(id) => (
            preload(id),
            String::new(),
            format!("import {{ connect }} from '/content/{id}';"),
            "{ pc: relayLink }".to_owned(),
        ),
        // The published page dials the newest child list's relays with the embedded ones.
        Runtime::Published => (
            preload(&LIBRARY_PLACEHOLDER),
            String::new(),
            format!(
                "import {{ connect, RELAYS }} from '/content/{LIBRARY_PLACEHOLDER}';\n{}",
                // From the function on: its doc comment and the file's notes stay out.
                CHILDREN_JS[CHILDREN_JS.find("export ").unwrap_or(0)..].replacen("export ", "", 1)
            ),
            format!(
                "{{ relays: [...(await childRelays('{LIST_PLACEHOLDER}')), ...RELAYS], pc: relayLink }}"
            ),
        ),
        Runtime::Inline(js) => (
            String::new(),
            // A module script cannot contain "</script"; a minified bundle never does.
            format!("<script type=\"module\">{js}</script>\n"),
            "const { connect } = globalThis.lumamesh;".to_owned(),
            "{ pc: relayLink }".to_owned(),
        ),
    };
    PAGE.replace("{{title}}", &title)
        .replace("{{preload}}", &preload)
        .replace("{{room}}", &room)
        .replace("{{runtime_script}}", &runtime_script)
        .replace("{{import}}", &import)
        .replace("{{connect_options}}", &options)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const PAGE: &str = include_str!("page/starter.html");

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799i0";

    #[test]
    fn inscription_ids() {
        assert!(ID.parse::<InscriptionId>().is_ok());
        // ord reads the index with Rust's u32 parser, and so do we; it prints canonically.
        let padded: InscriptionId = ID.replace("i0", "i01").parse().unwrap();
        assert_eq!(padded.to_string(), ID.replace("i0", "i1"));
        for bad in ["", "abc", &ID.replace("i0", "i"), &ID[1..]] {
            assert!(bad.parse::<InscriptionId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn recursive_import_and_escaping() {
        let page = starter_page("a</title>\"x", &Runtime::Inscription(ID.parse().unwrap()));
        assert!(page.contains(&format!("import {{ connect }} from '/content/{ID}';")));
        assert!(page.contains("<title>a&lt;/title&gt;&quot;x</title>"));
        assert!(page.contains(r#"joinRoom("a<\/title>\"x""#), "{page}");
        assert!(!page.contains("/r/content"));
    }

    /// Issue 15: the published page dials the newest child list's relays with the embedded
    /// ones; the other flavours know no list.
    #[test]
    fn the_published_page_looks_up_child_lists() {
        let page = starter_page("lobby", &Runtime::Published);
        assert!(page.contains("async function childRelays("), "{page}");
        assert!(!page.contains("export "), "{page}");
        assert!(page.contains(&format!(
            "connect({{ relays: [...(await childRelays('{LIST_PLACEHOLDER}')), ...RELAYS], pc: relayLink }})"
        )));
        let id: InscriptionId = ID.parse().unwrap();
        let linked = link_library(&page, &id, &id).unwrap();
        assert!(!linked.contains(LIST_PLACEHOLDER) && !linked.contains(LIBRARY_PLACEHOLDER));
        let lib = starter_page("lobby", &Runtime::Inscription(id));
        assert!(!lib.contains("childRelays") && lib.contains("await connect({ pc: relayLink });"));
    }

    /// Issue 17: the library's fetch starts at the top of the page and the relay link's peer
    /// connection right after it, both before the module script; `connect()` takes the link.
    #[test]
    fn the_page_starts_the_library_and_the_relay_link_first() {
        let id: InscriptionId = ID.parse().unwrap();
        for (runtime, lib) in [
            (Runtime::Inscription(id), ID),
            (Runtime::Published, LIBRARY_PLACEHOLDER),
        ] {
            let page = starter_page("lobby", &runtime);
            let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s}: {page}"));
            let preload = at(&format!(
                r#"<link rel="modulepreload" href="/content/{lib}">"#
            ));
            let link = at("const relayLink = ");
            assert!(preload < link && link < at("<script type=\"module\">"));
            assert!(page.contains("pc: relayLink }"));
        }
        let linked = link_library(&starter_page("lobby", &Runtime::Published), &id, &id).unwrap();
        assert!(linked.contains(&format!(r#"href="/content/{ID}""#)));
        let inline = starter_page("lobby", &Runtime::Inline(String::new()));
        assert!(!inline.contains("modulepreload") && inline.contains("connect({ pc: relayLink })"));
    }

    /// ord's explorer frames inscriptions in `<iframe sandbox=allow-scripts>`, without
    /// `allow-forms`: a form's submission is blocked there, so no flavour may rely on one.
    #[test]
    fn every_flavour_sends_without_a_form() {
        let entries: Vec<_> = bootstrap_codec::RelayTxt::parse(&fixtures::read("relay/relay.txt"))
            .entries
            .into_iter()
            .map(|e| e.entry)
            .collect();
        let inline = sandbox_runtime::bundle_as(&entries, sandbox_runtime::Flavor::Global)
            .unwrap()
            .js;
        for (flavour, runtime) in [
            ("--lib", Runtime::Inscription(ID.parse().unwrap())),
            ("--inline", Runtime::Inline(inline)),
            ("--publish", Runtime::Published),
        ] {
            let page = starter_page("lobby", &runtime).to_ascii_lowercase();
            for banned in ["<form", "onsubmit", "requestsubmit", "'submit'"] {
                assert!(!page.contains(banned), "{flavour}: {banned}");
            }
            assert!(
                page.contains(r#"<button id="send" type="button">"#),
                "{flavour}"
            );
            assert!(page.contains("$('send').onclick"), "{flavour}");
            assert!(page.contains("event.key === 'enter'"), "{flavour}");
            assert!(page.contains("event.iscomposing"), "{flavour}");
        }
    }
}
