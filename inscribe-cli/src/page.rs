//! Starter pages for artists: a working room chat that imports the runtime by recursion or
//! carries it inline.

use std::fmt;
use std::str::FromStr;

/// An inscription id: `<64 hex txid>i<index>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InscriptionId(String);

/// Why a string is not an inscription id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an inscription id (64 hex digits, 'i', then the index: <txid>i0)")]
pub struct BadInscriptionId(String);

impl FromStr for InscriptionId {
    type Err = BadInscriptionId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadInscriptionId(s.to_owned());
        let (txid, index) = s.split_once('i').ok_or_else(bad)?;
        let txid_ok = txid.len() == 64 && txid.bytes().all(|b| b.is_ascii_hexdigit());
        let index_ok = !index.is_empty()
            && index.bytes().all(|b| b.is_ascii_digit())
            && (index == "0" || !index.starts_with('0'))
            && index.parse::<u32>().is_ok();
        if !(txid_ok && index_ok) {
            return Err(bad());
        }
        Ok(InscriptionId(s.to_ascii_lowercase()))
    }
}

impl fmt::Display for InscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the page gets the runtime from.
#[derive(Debug, Clone)]
pub enum Runtime {
    /// `import { connect } from '/content/<id>'` (ord's recursive endpoint).
    Inscription(InscriptionId),
    /// The runtime's global-flavor bundle, pasted into the page.
    Inline(String),
}

/// Renders the starter page. `name` is the page title and the room name; it is escaped
/// for HTML and for the JavaScript string it lands in.
pub fn starter_page(name: &str, runtime: &Runtime) -> String {
    let title = html_escape(name);
    // JSON is a JavaScript string literal; "</" is split so no name can close the script.
    let room = serde_json::to_string(name)
        .expect("a string serializes")
        .replace("</", "<\\/");
    let (runtime_script, import) = match runtime {
        Runtime::Inscription(id) => (
            String::new(),
            format!("import {{ connect }} from '/content/{id}';"),
        ),
        Runtime::Inline(js) => (
            // A module script cannot contain "</script"; a minified bundle never does.
            format!("<script type=\"module\">{js}</script>\n"),
            "const { connect } = globalThis.lumamesh;".to_owned(),
        ),
    };
    PAGE.replace("{{title}}", &title)
        .replace("{{room}}", &room)
        .replace("{{runtime_script}}", &runtime_script)
        .replace("{{import}}", &import)
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
        for bad in [
            "",
            "abc",
            &ID.replace("i0", "i"),
            &ID.replace("i0", "i01"),
            &ID[1..],
        ] {
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
}
