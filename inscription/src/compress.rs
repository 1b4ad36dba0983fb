//! Brotli as ord applies it: quality 11, window 24, block 24, the encoder mode ord picks for
//! the content type, finished in one go (no intermediate flush), and kept only when it makes
//! the body smaller.

use std::io::{Read, Write};

use brotli::enc::backward_references::BrotliEncoderMode;

/// A body ready for an envelope: the bytes and, if they are compressed, the encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    /// The bytes to inscribe.
    pub body: Vec<u8>,
    /// `Some("br")` when `body` is brotli.
    pub content_encoding: Option<&'static str>,
}

/// Why brotli could not be applied or undone.
#[derive(Debug, thiserror::Error)]
pub enum CompressError {
    /// The compressor or decompressor failed.
    #[error("brotli failed: {0}")]
    Io(#[from] std::io::Error),
    /// Decompressing the result did not give back the input.
    #[error("brotli round trip did not reproduce the body")]
    RoundTrip,
}

/// Content types for which ord's media table selects brotli's text mode (`BROTLI_MODE_TEXT`).
const TEXT_MODE: &[&str] = &[
    "application/json",
    "application/pgp-signature",
    "application/x-javascript",
    "application/yaml",
    "image/svg+xml",
    "model/gltf+json",
    "text/css",
    "text/html",
    "text/html;charset=utf-8",
    "text/javascript",
    "text/markdown",
    "text/markdown;charset=utf-8",
    "text/plain",
    "text/plain;charset=utf-8",
    "text/x-python",
];

/// The encoder mode ord's media table gives `content_type`: text for text-like types, font
/// for `font/woff2`, generic for everything else (ord also compresses CBOR properties in
/// generic mode).
fn mode_for(content_type: &str) -> BrotliEncoderMode {
    if TEXT_MODE.contains(&content_type) {
        BrotliEncoderMode::BROTLI_MODE_TEXT
    } else if content_type == "font/woff2" {
        BrotliEncoderMode::BROTLI_MODE_FONT
    } else {
        BrotliEncoderMode::BROTLI_MODE_GENERIC
    }
}

/// Compresses `body` as `ord wallet inscribe --compress` does for a file of `content_type`
/// (the encoder mode follows ord's media table) and checks the round trip; returns the
/// compressed body with encoding `br` only when it is smaller than the original.
///
/// ```
/// let html = "<p>hello</p>".repeat(100);
/// let c = inscription::compress_brotli_for("text/html;charset=utf-8", html.as_bytes()).unwrap();
/// assert_eq!(c.content_encoding, Some("br"));
/// assert!(c.body.len() < html.len());
/// let tiny = inscription::compress_brotli_for("text/plain", b"hi").unwrap();
/// assert_eq!(tiny.content_encoding, None);
/// ```
pub fn compress_brotli_for(content_type: &str, body: &[u8]) -> Result<Compressed, CompressError> {
    compress(mode_for(content_type), body)
}

/// Compresses `body` in brotli's generic mode (what ord uses for binary types and for
/// properties); see [`compress_brotli_for`], which picks ord's mode from the content type and
/// is what to use for an inscription's body.
///
/// ```
/// let html = "<p>hello</p>".repeat(100);
/// let c = inscription::compress_brotli(html.as_bytes()).unwrap();
/// assert_eq!(c.content_encoding, Some("br"));
/// assert!(c.body.len() < html.len());
/// let tiny = inscription::compress_brotli(b"hi").unwrap();
/// assert_eq!(tiny.content_encoding, None);
/// ```
pub fn compress_brotli(body: &[u8]) -> Result<Compressed, CompressError> {
    compress(BrotliEncoderMode::BROTLI_MODE_GENERIC, body)
}

/// ord's encoder settings: quality 11, window and block 24, sized for the body.
fn ord_params(mode: BrotliEncoderMode, len: usize) -> brotli::enc::BrotliEncoderParams {
    brotli::enc::BrotliEncoderParams {
        lgblock: 24,
        lgwin: 24,
        mode,
        quality: 11,
        size_hint: len,
        ..Default::default()
    }
}

fn compress(mode: BrotliEncoderMode, body: &[u8]) -> Result<Compressed, CompressError> {
    let params = ord_params(mode, body.len());
    let mut writer = brotli::CompressorWriter::with_params(Vec::new(), body.len(), &params);
    writer.write_all(body)?;
    // `into_inner` finishes the stream. A `flush()` before it, as this crate once did, emits
    // an extra flush block: valid brotli, but not ord's bytes.
    let compressed = writer.into_inner();
    if decompress_brotli(&compressed)? != body {
        return Err(CompressError::RoundTrip);
    }
    Ok(if compressed.len() < body.len() {
        Compressed {
            body: compressed,
            content_encoding: Some("br"),
        }
    } else {
        Compressed {
            body: body.to_vec(),
            content_encoding: None,
        }
    })
}

/// Undoes [`compress_brotli`] and [`compress_brotli_for`].
pub fn decompress_brotli(body: &[u8]) -> Result<Vec<u8>, CompressError> {
    let mut out = Vec::new();
    brotli::Decompressor::new(body, 4096).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The old way: `flush()` and then drop. Kept to show the bytes differ from ord's.
    fn flushed(mode: BrotliEncoderMode, body: &[u8]) -> Vec<u8> {
        let params = ord_params(mode, body.len());
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::with_params(&mut out, body.len(), &params);
            w.write_all(body).unwrap();
            w.flush().unwrap();
        }
        out
    }

    #[test]
    fn finishing_without_flush_differs_from_flush_then_finish() {
        let html = "<p>hello, world</p>\n".repeat(50);
        let ours = compress_brotli_for("text/html;charset=utf-8", html.as_bytes()).unwrap();
        let old = flushed(BrotliEncoderMode::BROTLI_MODE_TEXT, html.as_bytes());
        assert_ne!(ours.body, old);
        assert!(ours.body.len() < old.len());
        assert_eq!(decompress_brotli(&ours.body).unwrap(), html.as_bytes());
    }

    #[test]
    fn mode_follows_ords_media_table() {
        assert_eq!(mode_for("text/html"), BrotliEncoderMode::BROTLI_MODE_TEXT);
        assert_eq!(mode_for("font/woff2"), BrotliEncoderMode::BROTLI_MODE_FONT);
        assert_eq!(
            mode_for("font/woff"),
            BrotliEncoderMode::BROTLI_MODE_GENERIC
        );
        assert_eq!(
            mode_for("image/png"),
            BrotliEncoderMode::BROTLI_MODE_GENERIC
        );
    }

    #[test]
    fn empty_body_stays_uncompressed() {
        let c = compress_brotli(b"").unwrap();
        assert_eq!(c.content_encoding, None);
        assert!(c.body.is_empty());
    }
}
