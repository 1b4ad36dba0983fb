//! Building the single-file, minified runtime with its relay list embedded.

use bootstrap_codec::RelayEntry;
use inscription::{compress_brotli_for, CompressError, Compressed};

use crate::sources::concatenate;

/// A built bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The minified ES module.
    pub js: String,
    /// Length of the concatenated, unminified source.
    pub source_len: usize,
    /// Length of [`Bundle::compressed`]'s body: what the bundle costs on chain.
    pub brotli_len: usize,
    /// The bundle as `publish` inscribes it: `js` under ord's brotli for
    /// [`Bundle::CONTENT_TYPE`] ([`inscription::compress_brotli_for`]), or `js` itself
    /// should that not be smaller.
    pub compressed: Compressed,
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
    /// Brotli did not give the bundle back (a bug in the compressor).
    #[error("cannot compress the bundle")]
    Compress(#[from] CompressError),
}

impl Bundle {
    /// The content type the bundle is inscribed as.
    pub const CONTENT_TYPE: &'static str = "text/javascript";
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
    let compressed = compress_brotli_for(Bundle::CONTENT_TYPE, js.as_bytes())?;
    Ok(Bundle {
        brotli_len: compressed.body.len(),
        compressed,
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
