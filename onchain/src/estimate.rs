//! What an inscription will cost before it is built: the reveal transaction's virtual size
//! and fee, for one envelope in a reveal with one input and one P2TR output (ord's layout).

use crate::reveal::FeeRate;

/// Largest data push in a tapscript (MAX_SCRIPT_ELEMENT_SIZE).
const MAX_PUSH: usize = 520;

/// Bytes a data push of `n` bytes takes in a script, opcode included.
fn push_len(n: usize) -> usize {
    n + match n {
        0..=75 => 1,
        76..=255 => 2,
        _ => 3,
    }
}

/// Bytes of a Bitcoin compact-size integer.
fn varint_len(n: usize) -> usize {
    match n {
        0..=252 => 1,
        253..=0xffff => 3,
        _ => 5,
    }
}

/// Virtual size of ord's reveal for a body of `body_len` bytes with `content_type` and an
/// optional content encoding (tag 9, e.g. `br`).
///
/// ```
/// // ord's own figures for text/html;charset=utf-8 (shared reference ord.md).
/// use onchain::estimate::reveal_vsize;
/// let html = "text/html;charset=utf-8";
/// assert_eq!(reveal_vsize(html, None, 0), 137);
/// assert_eq!(reveal_vsize(html, None, 1_000), 389);
/// assert_eq!(reveal_vsize(html, None, 10_000), 2_652);
/// assert_eq!(reveal_vsize(html, None, 100_000), 25_283);
/// ```
pub fn reveal_vsize(content_type: &str, content_encoding: Option<&str>, body_len: usize) -> u64 {
    // OP_FALSE OP_IF, push "ord", tag 1 + content type, [tag 9 + encoding], OP_0, body, OP_ENDIF
    let mut envelope = 2 + push_len(3) + push_len(1) + push_len(content_type.len()) + 1 + 1;
    if let Some(enc) = content_encoding {
        envelope += push_len(1) + push_len(enc.len());
    }
    let mut rest = body_len;
    while rest > 0 {
        let chunk = rest.min(MAX_PUSH);
        envelope += push_len(chunk);
        rest -= chunk;
    }
    // <32-byte x-only key> OP_CHECKSIG, then the envelope.
    let script = push_len(32) + 1 + envelope;
    // Witness: item count, signature (64), script, control block (33).
    let witness = 1 + push_len_witness(64) + push_len_witness(script) + push_len_witness(33);
    // version, input count, outpoint + empty scriptSig + sequence, output count,
    // P2TR output (value, script length, 34-byte script), locktime.
    let base = 4 + 1 + (36 + 1 + 4) + 1 + (8 + 1 + 34) + 4;
    // Segwit marker and flag count as witness data.
    let weight = base * 4 + 2 + witness;
    weight.div_ceil(4) as u64
}

fn push_len_witness(n: usize) -> usize {
    varint_len(n) + n
}

/// The reveal fee at `sat_per_vb`, rounded as ord does ([`FeeRate::fee`]): 0 for a rate
/// that is no positive number, `u64::MAX` for one past every sum of sats.
pub fn reveal_fee(vsize: u64, sat_per_vb: f64) -> u64 {
    FeeRate::from_sat_per_vb(sat_per_vb).map_or(0, |rate| rate.fee(vsize).to_sat())
}

#[cfg(test)]
mod tests {
    use super::{push_len, reveal_fee, reveal_vsize};

    #[test]
    fn push_sizes() {
        assert_eq!(push_len(75), 76);
        assert_eq!(push_len(76), 78);
        assert_eq!(push_len(256), 259);
    }

    #[test]
    fn encoding_tag_adds_five_bytes_of_witness() {
        let t = "text/javascript";
        let plain = reveal_vsize(t, None, 4000);
        let br = reveal_vsize(t, Some("br"), 4000);
        assert!(br >= plain && br <= plain + 2);
        assert_eq!(reveal_fee(389, 10.0), 3890);
        assert_eq!(reveal_fee(389, 2.5), 973);
    }
}
