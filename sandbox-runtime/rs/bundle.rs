//! Building the single-file, minified runtime with its relay list embedded.

use std::io::Write;

use bootstrap_codec::RelayEntry;

use crate::sources::concatenate;

/// A built bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The minified ES module.
    pub js: String,
    /// Length of the concatenated, unminified source.
    pub source_len: usize,
    /// Length of the brotli-compressed bundle (quality 11, window 24, as ord compresses).
    pub brotli_len: usize,
    /// Number of relay entries embedded.
    pub relays: usize,
}

/// Why a bundle could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// No relay entries to embed: the page could reach no relay.
    #[error("no relay entries to embed")]
    NoRelays,
    /// The minifier refused the source (a bug in the runtime sources).
    #[error("minifier failed: {0}")]
    Minify(String),
}

/// How the bundle offers its API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// An ES module exporting `connect` and `RELAYS`: inscribe it and import it by
    /// recursion (`import { connect } from '/content/<id>'`).
    Module,
    /// A script that sets `globalThis.lumamesh = { connect, RELAYS }`, for pages that
    /// inline the runtime.
    Global,
}

/// Bundles the runtime with `relays` embedded, in the given order (the runtime dials all of
/// them at once; the first to answer wins).
pub fn bundle(relays: &[RelayEntry]) -> Result<Bundle, BundleError> {
    bundle_as(relays, Flavor::Module)
}

/// [`bundle`], in the given flavor.
pub fn bundle_as(relays: &[RelayEntry], flavor: Flavor) -> Result<Bundle, BundleError> {
    if relays.is_empty() {
        return Err(BundleError::NoRelays);
    }
    // relay.txt lines are base64url, so they need no escaping inside quotes.
    let list = relays
        .iter()
        .map(|e| format!("'{}'", e.to_line()))
        .collect::<Vec<_>>()
        .join(",");
    let source = concatenate(&format!("[{list}]"), flavor == Flavor::Global);
    let js = minify(&source)?;
    Ok(Bundle {
        brotli_len: brotli(js.as_bytes()).len(),
        source_len: source.len(),
        relays: relays.len(),
        js,
    })
}

/// Minifies an ES module with oxc: full compression, local names mangled, no comments.
///
/// minify-js 0.6 was measured first: it rejects `export async function` and panics
/// (`cons_expr.returns && alt_expr.returns`) on the runtime, so oxc is the one that gives a
/// correct output at all.
pub fn minify(source: &str) -> Result<String, BundleError> {
    use oxc_allocator::Allocator;
    use oxc_codegen::{Codegen, CodegenOptions, CommentOptions};
    use oxc_minifier::{CompressOptions, MangleOptions, Minifier, MinifierOptions};
    use oxc_parser::Parser;
    use oxc_span::SourceType;

    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, SourceType::mjs()).parse();
    if let Some(first) = parsed.diagnostics.first() {
        return Err(BundleError::Minify(first.to_string()));
    }
    let mut program = parsed.program;
    let options = MinifierOptions {
        mangle: Some(MangleOptions::default()),
        mangle_properties: None,
        compress: Some(CompressOptions::smallest()),
    };
    let ret = Minifier::new(options).minify(&allocator, &mut program);
    Ok(Codegen::new()
        .with_options(CodegenOptions {
            minify: true,
            comments: CommentOptions::disabled(),
            ..CodegenOptions::default()
        })
        .with_scoping(ret.scoping)
        .build(&program)
        .code)
}

/// Brotli at quality 11 and window 24, the settings ord uses for inscription bodies.
pub fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = ::brotli::CompressorWriter::new(&mut out, 4096, 11, 24);
        // Writing into a Vec cannot fail.
        w.write_all(data).expect("write to Vec");
    }
    out
}
