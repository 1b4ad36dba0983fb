//! ord's media table (`Media::TABLE` in ord's `src/inscriptions/media.rs`): which content
//! type `ord wallet inscribe` gives a file extension, which brotli mode it compresses that
//! type with, and how its explorer shows it.

/// The brotli encoder mode ord uses for a content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BrotliMode {
    /// `BROTLI_MODE_GENERIC`: binary types, types not in the table, and properties.
    Generic,
    /// `BROTLI_MODE_TEXT`: text-like types (HTML, JavaScript, JSON, SVG, …).
    Text,
    /// `BROTLI_MODE_FONT`: `font/woff2` only.
    Font,
}

/// How ord's explorer shows a content type (ord's `Media`, without the language and image
/// rendering details, which only pick a preview template).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Media {
    /// Audio, played by a preview page.
    Audio,
    /// Source code, highlighted by a preview page.
    Code,
    /// A font, shown by a preview page.
    Font,
    /// HTML or SVG: `/preview/<id>` serves the content itself, for an iframe.
    Iframe,
    /// An image, shown by a preview page.
    Image,
    /// Markdown, rendered by a preview page.
    Markdown,
    /// A 3D model, shown by a preview page.
    Model,
    /// A PDF, shown by a preview page.
    Pdf,
    /// Plain text, shown by a preview page.
    Text,
    /// Not in the table, or an inscription without content type or body.
    Unknown,
    /// Video, played by a preview page.
    Video,
}

use BrotliMode::{Font as FONT, Generic as GENERIC, Text as TEXT};

/// ord's table, row for row: content type, brotli mode, media, extensions (the first one
/// is what ord lists in its "supported extensions" message).
#[rustfmt::skip]
const TABLE: &[(&str, BrotliMode, Media, &[&str])] = &[
    ("application/cbor",            GENERIC, Media::Unknown,  &["cbor"]),
    ("application/json",            TEXT,    Media::Code,     &["json"]),
    ("application/octet-stream",    GENERIC, Media::Unknown,  &["bin"]),
    ("application/pdf",             GENERIC, Media::Pdf,      &["pdf"]),
    ("application/pgp-signature",   TEXT,    Media::Text,     &["asc"]),
    ("application/protobuf",        GENERIC, Media::Unknown,  &["binpb"]),
    ("application/x-bittorrent",    GENERIC, Media::Unknown,  &["torrent"]),
    ("application/x-javascript",    TEXT,    Media::Code,     &[]),
    ("application/yaml",            TEXT,    Media::Code,     &["yaml", "yml"]),
    ("audio/flac",                  GENERIC, Media::Audio,    &["flac"]),
    ("audio/mpeg",                  GENERIC, Media::Audio,    &["mp3"]),
    ("audio/ogg",                   GENERIC, Media::Audio,    &[]),
    ("audio/ogg;codecs=opus",       GENERIC, Media::Audio,    &["opus"]),
    ("audio/wav",                   GENERIC, Media::Audio,    &["wav"]),
    ("font/otf",                    GENERIC, Media::Font,     &["otf"]),
    ("font/ttf",                    GENERIC, Media::Font,     &["ttf"]),
    ("font/woff",                   GENERIC, Media::Font,     &["woff"]),
    ("font/woff2",                  FONT,    Media::Font,     &["woff2"]),
    ("image/apng",                  GENERIC, Media::Image,    &["apng"]),
    ("image/avif",                  GENERIC, Media::Image,    &["avif"]),
    ("image/gif",                   GENERIC, Media::Image,    &["gif"]),
    ("image/jpeg",                  GENERIC, Media::Image,    &["jpg", "jpeg"]),
    ("image/jxl",                   GENERIC, Media::Image,    &["jxl"]),
    ("image/png",                   GENERIC, Media::Image,    &["png"]),
    ("image/svg+xml",               TEXT,    Media::Iframe,   &["svg"]),
    ("image/webp",                  GENERIC, Media::Image,    &["webp"]),
    ("model/gltf+json",             TEXT,    Media::Model,    &["gltf"]),
    ("model/gltf-binary",           GENERIC, Media::Model,    &["glb"]),
    ("model/stl",                   GENERIC, Media::Unknown,  &["stl"]),
    ("text/css",                    TEXT,    Media::Code,     &["css"]),
    ("text/html",                   TEXT,    Media::Iframe,   &[]),
    ("text/html;charset=utf-8",     TEXT,    Media::Iframe,   &["html"]),
    ("text/javascript",             TEXT,    Media::Code,     &["js", "mjs"]),
    ("text/markdown",               TEXT,    Media::Markdown, &[]),
    ("text/markdown;charset=utf-8", TEXT,    Media::Markdown, &["md"]),
    ("text/plain",                  TEXT,    Media::Text,     &[]),
    ("text/plain;charset=utf-8",    TEXT,    Media::Text,     &["txt"]),
    ("text/x-python",               TEXT,    Media::Code,     &["py"]),
    ("video/mp4",                   GENERIC, Media::Video,    &["mp4"]),
    ("video/webm",                  GENERIC, Media::Video,    &["webm"]),
];

fn row(
    content_type: &str,
) -> Option<&'static (&'static str, BrotliMode, Media, &'static [&'static str])> {
    TABLE.iter().find(|(t, ..)| *t == content_type)
}

/// The content type ord's `inscribe` gives a file with this extension (compared without
/// regard to ASCII case, as ord lowercases it), or `None` for one ord refuses.
///
/// ```
/// assert_eq!(inscription::content_type_for_extension("HTML"), Some("text/html;charset=utf-8"));
/// assert_eq!(inscription::content_type_for_extension("mjs"), Some("text/javascript"));
/// assert_eq!(inscription::content_type_for_extension("exe"), None);
/// ```
pub fn content_type_for_extension(extension: &str) -> Option<&'static str> {
    let extension = extension.to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(.., extensions)| extensions.contains(&extension.as_str()))
        .map(|(content_type, ..)| *content_type)
}

/// The extensions ord's `inscribe` accepts, one per content type, sorted (what ord lists
/// when it refuses a file).
pub fn supported_extensions() -> Vec<&'static str> {
    let mut extensions: Vec<&str> = TABLE
        .iter()
        .filter_map(|(.., extensions)| extensions.first().copied())
        .collect();
    extensions.sort_unstable();
    extensions
}

impl BrotliMode {
    /// The mode ord compresses `content_type` with: the table's, matched exactly (no
    /// parameter or case folding, as in ord), generic for a type not in it.
    pub fn for_content_type(content_type: &str) -> Self {
        row(content_type).map_or(BrotliMode::Generic, |(_, mode, ..)| *mode)
    }
}

impl Media {
    /// How ord's explorer shows `content_type`, matched exactly; unknown when not in
    /// the table. (ord also calls an inscription without a body unknown.)
    pub fn for_content_type(content_type: &str) -> Self {
        row(content_type).map_or(Media::Unknown, |(_, _, media, _)| *media)
    }
}

#[cfg(test)]
mod tests {
    use super::{content_type_for_extension, supported_extensions, BrotliMode, Media, TABLE};

    #[test]
    fn extensions_map_to_ords_types() {
        for (ext, content_type) in [
            ("html", "text/html;charset=utf-8"),
            ("js", "text/javascript"),
            ("mjs", "text/javascript"),
            ("svg", "image/svg+xml"),
            ("txt", "text/plain;charset=utf-8"),
            ("md", "text/markdown;charset=utf-8"),
            ("yml", "application/yaml"),
            ("jpeg", "image/jpeg"),
            ("opus", "audio/ogg;codecs=opus"),
            ("bin", "application/octet-stream"),
        ] {
            assert_eq!(content_type_for_extension(ext), Some(content_type), "{ext}");
        }
        assert_eq!(content_type_for_extension("PnG"), Some("image/png"));
    }

    #[test]
    fn what_ord_refuses_has_no_type() {
        // Types ord knows but never guesses from a name, near misses, and junk.
        for ext in [
            "",
            "htm",
            "jsx",
            "ogg",
            "x-javascript",
            ".html",
            "html ",
            " html",
            "html.",
            "tar.gz",
            "h\u{0}tml",
            "HTML\u{130}",
            "ｈｔｍｌ",
            "\u{feff}js",
        ] {
            assert_eq!(content_type_for_extension(ext), None, "{ext:?}");
        }
        let long = "a".repeat(1 << 16);
        assert_eq!(content_type_for_extension(&long), None);
    }

    #[test]
    fn modes_follow_the_table_exactly() {
        assert_eq!(BrotliMode::for_content_type("text/html"), BrotliMode::Text);
        assert_eq!(
            BrotliMode::for_content_type("application/x-javascript"),
            BrotliMode::Text
        );
        assert_eq!(BrotliMode::for_content_type("font/woff2"), BrotliMode::Font);
        assert_eq!(
            BrotliMode::for_content_type("font/woff"),
            BrotliMode::Generic
        );
        assert_eq!(
            BrotliMode::for_content_type("image/png"),
            BrotliMode::Generic
        );
        // ord matches the exact string: another spelling of a text type is generic.
        for near in [
            "text/html; charset=utf-8",
            "TEXT/HTML",
            "text/html;charset=UTF-8",
            "text/html ",
            "text/plain;charset=utf-8;",
            "",
            "text/x-unknown",
        ] {
            assert_eq!(
                BrotliMode::for_content_type(near),
                BrotliMode::Generic,
                "{near:?}"
            );
        }
    }

    #[test]
    fn media_kinds_follow_the_table() {
        assert_eq!(
            Media::for_content_type("text/html;charset=utf-8"),
            Media::Iframe
        );
        assert_eq!(Media::for_content_type("image/svg+xml"), Media::Iframe);
        assert_eq!(Media::for_content_type("text/javascript"), Media::Code);
        assert_eq!(Media::for_content_type("model/stl"), Media::Unknown);
        assert_eq!(
            Media::for_content_type("text/html; charset=utf-8"),
            Media::Unknown
        );
        assert_eq!(Media::for_content_type("audio/ogg"), Media::Audio);
    }

    #[test]
    fn table_has_no_repeats_and_every_text_mode_type_is_textual() {
        for (i, (t, mode, _, exts)) in TABLE.iter().enumerate() {
            assert!(TABLE[..i].iter().all(|(u, ..)| u != t), "{t} twice");
            for ext in *exts {
                let rows = TABLE.iter().filter(|(.., e)| e.contains(ext)).count();
                assert_eq!(rows, 1, "{ext} in {rows} rows");
                assert_eq!(*ext, ext.to_ascii_lowercase());
            }
            if *mode == BrotliMode::Text {
                assert!(
                    t.starts_with("text/")
                        || t.contains("json")
                        || t.contains("xml")
                        || t.contains("script")
                        || t.contains("yaml")
                        || t.contains("pgp"),
                    "{t}"
                );
            }
        }
        let listed = supported_extensions();
        assert_eq!(listed.len(), 35);
        assert!(listed.windows(2).all(|w| w[0] < w[1]));
        assert!(listed.contains(&"jpg") && !listed.contains(&"jpeg"));
    }
}
