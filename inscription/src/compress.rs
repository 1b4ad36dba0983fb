//! Brotli as ord applies it: quality 11, window 24, block 24, the encoder mode ord picks for
//! the content type, finished in one go (no intermediate flush), and kept only when it makes
//! the body smaller.

use std::io::{Read, Write};

use brotli::enc::backward_references::BrotliEncoderMode;

use crate::media::BrotliMode;

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

/// The brotli crate's encoder mode for one of ord's modes.
fn encoder_mode(mode: BrotliMode) -> BrotliEncoderMode {
    match mode {
        BrotliMode::Generic => BrotliEncoderMode::BROTLI_MODE_GENERIC,
        BrotliMode::Text => BrotliEncoderMode::BROTLI_MODE_TEXT,
        BrotliMode::Font => BrotliEncoderMode::BROTLI_MODE_FONT,
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
    compress(BrotliMode::for_content_type(content_type), body)
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
    compress(BrotliMode::Generic, body)
}

/// ord's encoder settings: quality 11, window and block 24, sized for the body. The one
/// place these numbers live.
fn ord_params(mode: BrotliMode, len: usize) -> brotli::enc::BrotliEncoderParams {
    brotli::enc::BrotliEncoderParams {
        lgblock: 24,
        lgwin: 24,
        mode: encoder_mode(mode),
        quality: 11,
        size_hint: len,
        ..Default::default()
    }
}

/// ord's encoder output for `body`, whether or not it is smaller.
pub(crate) fn encode(mode: BrotliMode, body: &[u8]) -> Vec<u8> {
    let params = ord_params(mode, body.len());
    let mut writer = brotli::CompressorWriter::with_params(Vec::new(), body.len(), &params);
    // Writing into a Vec cannot fail: the encoder's only I/O is `Vec::write`.
    writer
        .write_all(body)
        .expect("brotli writes into a Vec without error");
    // `into_inner` finishes the stream. A `flush()` before it, as this crate once did, emits
    // an extra flush block: valid brotli, but not ord's bytes.
    writer.into_inner()
}

fn compress(mode: BrotliMode, body: &[u8]) -> Result<Compressed, CompressError> {
    let compressed = encode(mode, body);
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
    use std::io::Write;

    use super::{compress_brotli, compress_brotli_for, decompress_brotli, ord_params, BrotliMode};

    /// The old way: `flush()` and then drop. Kept to show the bytes differ from ord's.
    fn flushed(mode: BrotliMode, body: &[u8]) -> Vec<u8> {
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
        let old = flushed(BrotliMode::Text, html.as_bytes());
        assert_ne!(ours.body, old);
        assert!(ours.body.len() < old.len());
        assert_eq!(decompress_brotli(&ours.body).unwrap(), html.as_bytes());
    }

    #[test]
    fn mode_follows_ords_media_table() {
        let css = "p { color: red; } ".repeat(40);
        let text = compress_brotli_for("text/css", css.as_bytes()).unwrap();
        let generic = compress_brotli(css.as_bytes()).unwrap();
        assert_eq!(text.body, super::encode(BrotliMode::Text, css.as_bytes()));
        assert_eq!(
            generic.body,
            super::encode(BrotliMode::Generic, css.as_bytes())
        );
        // An unknown type gets generic mode, as in ord.
        let unknown = compress_brotli_for("text/x-unknown", css.as_bytes()).unwrap();
        assert_eq!(unknown, generic);
    }

    #[test]
    fn garbage_does_not_decompress() {
        for bad in [&b"not brotli at all"[..], &[0xff; 64], &[0x0b]] {
            assert!(decompress_brotli(bad).is_err(), "{bad:?}");
        }
        // A stream cut short is an error, not a shorter body.
        let full = super::encode(
            BrotliMode::Text,
            "hello hello hello ".repeat(100).as_bytes(),
        );
        assert!(decompress_brotli(&full[..full.len() / 2]).is_err());
    }

    #[test]
    fn empty_body_stays_uncompressed() {
        let c = compress_brotli(b"").unwrap();
        assert_eq!(c.content_encoding, None);
        assert!(c.body.is_empty());
    }
}
