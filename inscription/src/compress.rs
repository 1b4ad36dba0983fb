//! Brotli as ord applies it: quality 11, window 24, kept only when it makes the body smaller.

use std::io::{Read, Write};

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

/// Compresses `body` with ord's parameters and checks the round trip; returns the
/// compressed body with encoding `br` only when it is smaller than the original.
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
    let mut compressed = Vec::new();
    {
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 24,
            lgblock: 24,
            size_hint: body.len(),
            ..Default::default()
        };
        let mut writer =
            brotli::CompressorWriter::with_params(&mut compressed, body.len().max(1), &params);
        writer.write_all(body)?;
        writer.flush()?;
    }
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

/// Undoes [`compress_brotli`].
pub fn decompress_brotli(body: &[u8]) -> Result<Vec<u8>, CompressError> {
    let mut out = Vec::new();
    brotli::Decompressor::new(body, 4096).read_to_end(&mut out)?;
    Ok(out)
}
