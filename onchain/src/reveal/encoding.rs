//! Choosing the body's encoding: brotli only when it makes the reveal smaller.

use inscription::{compress_brotli_for, CompressError, Inscription};

/// `inscription` with its body brotli-compressed (tag 9 `br`) when the whole envelope comes
/// out shorter that way, otherwise unchanged — so the reveal is never larger than ord's for
/// the same content, even counting the bytes the encoding tag adds.
///
/// ```
/// use inscription::Inscription;
/// use onchain::reveal::smaller_encoding;
/// let page = Inscription::new("text/html", "<p>hi</p>".repeat(200).into_bytes());
/// assert_eq!(smaller_encoding(page).unwrap().content_encoding(), Some("br"));
/// let tiny = Inscription::new("text/plain", b"hi".to_vec());
/// assert_eq!(smaller_encoding(tiny.clone()).unwrap(), tiny);
/// ```
pub fn smaller_encoding(inscription: Inscription) -> Result<Inscription, CompressError> {
    if inscription.content_encoding.is_some() {
        return Ok(inscription);
    }
    // ord's encoder mode for the content type (text, font or generic), so the bytes are ord's.
    let content_type = inscription.content_type().unwrap_or_default().to_owned();
    let compressed = compress_brotli_for(&content_type, inscription.body())?;
    let Some(encoding) = compressed.content_encoding else {
        return Ok(inscription);
    };
    let mut candidate = inscription.clone().with_content_encoding(encoding);
    candidate.body = Some(compressed.body);
    let witness_len = |i: &Inscription| {
        let n = i.envelope_script().len();
        n + bitcoin::VarInt(n as u64).size()
    };
    Ok(if witness_len(&candidate) < witness_len(&inscription) {
        candidate
    } else {
        inscription
    })
}

#[cfg(test)]
mod tests {
    use inscription::Inscription;

    use super::smaller_encoding;

    #[test]
    fn barely_compressible_bodies_stay_plain() {
        // Random-looking bytes: brotli saves nothing worth the tag.
        let body: Vec<u8> = (0u32..600)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let plain = Inscription::new("application/octet-stream", body);
        let chosen = smaller_encoding(plain.clone()).unwrap();
        assert!(chosen.envelope_script().len() <= plain.envelope_script().len());
    }
}
