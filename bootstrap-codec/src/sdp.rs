//! The static SDP answer a browser applies to reach a relay without signaling.

use std::fmt::Write;

use crate::{RelayAddress, RelayEntry};

/// The SCTP port both sides use (the browser's default).
pub const SCTP_PORT: u16 = 5000;

/// Largest DataChannel message the relay accepts, announced in `a=max-message-size`: the
/// relay protocol's largest frame (docs/protocol.md), so browsers refuse larger sends
/// themselves.
pub const MAX_MESSAGE_SIZE: u32 = 16_384;

/// Choices the page makes when it builds the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerOptions {
    /// The `a=mid` of the browser's offer (`"0"` for a first DataChannel-only offer).
    pub mid: String,
    /// Announce `a=ice-lite`. The relay is always a lite agent; leaving the line out makes
    /// Chromium nominate on its first check, which opens the channel ~50 ms sooner.
    pub ice_lite: bool,
}

impl Default for AnswerOptions {
    fn default() -> Self {
        AnswerOptions {
            mid: "0".to_owned(),
            ice_lite: true,
        }
    }
}

/// Why an answer cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The mid is not a token SDP can carry.
    #[error("mid {0:?} must be 1–32 characters of A-Z a-z 0-9 - _ .")]
    Mid(String),
}

/// Builds the SDP answer for `entry` (CRLF line ends, final CRLF).
///
/// ```
/// # use bootstrap_codec::{static_answer, AnswerOptions, Fingerprint, IcePwd, IceUfrag, NodeSecret, UnsignedEntry};
/// # let secret = NodeSecret::from_seed(&[1; 32]);
/// # let fingerprint = Fingerprint::from_bytes([2; 32]);
/// # let entry = UnsignedEntry {
/// #     address: "127.0.0.1".parse().unwrap(),
/// #     port: 3478.try_into().unwrap(),
/// #     fingerprint,
/// #     ufrag: IceUfrag::default_relay(),
/// #     pwd: IcePwd::derived(&secret.public(), &fingerprint),
/// # }.sign(&secret);
/// let sdp = static_answer(&entry, &AnswerOptions::default()).unwrap();
/// assert!(sdp.contains("a=candidate:1 1 udp 2130706431 127.0.0.1 3478 typ host\r\n"));
/// ```
pub fn static_answer(entry: &RelayEntry, options: &AnswerOptions) -> Result<String, AnswerError> {
    let mid = &options.mid;
    let mid_ok = !mid.is_empty()
        && mid.len() <= 32
        && mid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !mid_ok {
        return Err(AnswerError::Mid(mid.clone()));
    }
    // Host names go only into the candidate (browsers resolve them there); the
    // connection line then carries the "no address yet" value of JSEP.
    let (net, conn_addr, cand_addr) = match entry.address() {
        RelayAddress::V4(v4) => ("IP4", v4.to_string(), v4.to_string()),
        RelayAddress::V6(v6) => ("IP6", v6.to_string(), v6.to_string()),
        RelayAddress::Host(h) => ("IP4", "0.0.0.0".to_owned(), h.to_string()),
    };
    let port = entry.port();
    let mut sdp = String::with_capacity(512);
    let mut line = |l: std::fmt::Arguments| {
        // Writing to a String cannot fail.
        sdp.write_fmt(l).expect("write to String");
        sdp.push_str("\r\n");
    };
    line(format_args!("v=0"));
    line(format_args!("o=- 1 1 IN {net} {conn_addr}"));
    line(format_args!("s=-"));
    line(format_args!("t=0 0"));
    if options.ice_lite {
        line(format_args!("a=ice-lite"));
    }
    line(format_args!(
        "m=application {port} UDP/DTLS/SCTP webrtc-datachannel"
    ));
    line(format_args!("c=IN {net} {conn_addr}"));
    line(format_args!("a=mid:{mid}"));
    line(format_args!("a=ice-ufrag:{}", entry.ufrag()));
    line(format_args!("a=ice-pwd:{}", entry.pwd()));
    line(format_args!(
        "a=fingerprint:sha-256 {}",
        entry.fingerprint()
    ));
    line(format_args!("a=setup:passive"));
    line(format_args!("a=sctp-port:{SCTP_PORT}"));
    line(format_args!("a=max-message-size:{MAX_MESSAGE_SIZE}"));
    line(format_args!(
        "a=candidate:1 1 udp 2130706431 {cand_addr} {port} typ host"
    ));
    Ok(sdp)
}
