//! Brotli as ord applies it: quality 11, window 24, block 24, the encoder mode ord picks for
//! the content type, finished in one go (no intermediate flush), and kept only when it makes
//! the body smaller. Decoding is bounded: [`decompress_brotli`] stops at
//! [`MAX_DECOMPRESSED`] bytes, [`decompress_brotli_limited`] at a limit of the caller's.

use std::io::{ErrorKind, Read, Write};

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
    /// The body decodes to more than the limit (a brotli bomb, or content larger than
    /// anything the caller will hold); decoding stopped there.
    #[error("brotli body decodes to more than {limit} bytes, the limit; decoding stopped there")]
    TooLarge {
        /// The most bytes the caller accepts.
        limit: usize,
    },
}

/// The most bytes [`decompress_brotli`] decodes: 16 MiB.
///
/// No inscription comes near it: a standard transaction weighs at most 400,000 WU, so its
/// body is under 400 kB, and even a whole block (4 MB) of text brotli-compressed several
/// times over stays below it. A bomb, a few kilobytes decoding to gigabytes, does not.
/// ord's own `--decompress` has no limit.
pub const MAX_DECOMPRESSED: usize = 16 << 20;

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
    // The round trip may give back exactly the body, and nothing more.
    if decompress_brotli_limited(&compressed, body.len())? != body {
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

/// Undoes [`compress_brotli`] and [`compress_brotli_for`], for bodies that decode to at
/// most [`MAX_DECOMPRESSED`] bytes ([`CompressError::TooLarge`] past that).
///
/// ```
/// let c = inscription::compress_brotli(&[b'a'; 1000]).unwrap();
/// assert_eq!(inscription::decompress_brotli(&c.body).unwrap(), [b'a'; 1000]);
/// ```
pub fn decompress_brotli(body: &[u8]) -> Result<Vec<u8>, CompressError> {
    decompress_brotli_limited(body, MAX_DECOMPRESSED)
}

/// Decodes a brotli `body` of untrusted origin to at most `limit` bytes: reading stops as
/// soon as the output would pass `limit` ([`CompressError::TooLarge`]), and the output
/// buffer never holds more than `limit` bytes. The decoder's own window adds at most
/// 16 MiB (brotli's largest standard window; large-window streams are refused).
///
/// ```
/// use inscription::{compress_brotli, decompress_brotli_limited, CompressError};
/// let c = compress_brotli(&[0; 10_000]).unwrap();
/// assert_eq!(decompress_brotli_limited(&c.body, 10_000).unwrap().len(), 10_000);
/// assert!(matches!(
///     decompress_brotli_limited(&c.body, 9_999),
///     Err(CompressError::TooLarge { limit: 9_999 })
/// ));
/// ```
pub fn decompress_brotli_limited(body: &[u8], limit: usize) -> Result<Vec<u8>, CompressError> {
    let mut decoder = brotli::Decompressor::new(body, 4096);
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n > limit - out.len() {
            return Err(CompressError::TooLarge { limit });
        }
        if out.capacity() - out.len() < n {
            // Doubling as a Vec would, but never past the limit.
            let want = (out.capacity() * 2).max(out.len() + n).min(limit);
            out.reserve_exact(want - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
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
