//! The gate in front of session creation: only an authenticated STUN binding request for our
//! ufrag may create state. Everything else from an unknown address is dropped silently.

use str0m::crypto::Sha1HmacProvider;
use str0m::ice::StunMessage;

/// Longest browser ufrag accepted (the ICE maximum).
const MAX_UFRAG_LEN: usize = 256;

/// Returns the remote (browser) ufrag if `packet` is a STUN binding request whose USERNAME is
/// `<local_ufrag>:<remote ufrag>` and whose MESSAGE-INTEGRITY verifies with `local_pwd`.
pub(crate) fn authenticate<'a>(
    packet: &'a [u8],
    local_ufrag: &str,
    local_pwd: &str,
    hmac: &dyn Sha1HmacProvider,
) -> Option<&'a str> {
    // STUN messages start with two zero bits (RFC 7983 demultiplexing: 0..=3).
    if packet.first().is_none_or(|b| *b > 3) {
        return None;
    }
    let message = StunMessage::parse(packet).ok()?;
    if !message.is_binding_request() {
        return None;
    }
    let username = message.username()?;
    let (ours, theirs) = username.split_once(':')?;
    if ours != local_ufrag || theirs.is_empty() || theirs.len() > MAX_UFRAG_LEN {
        return None;
    }
    if !message.verify(local_pwd.as_bytes(), |key, payloads| {
        hmac.sha1_hmac(key, payloads)
    }) {
        return None;
    }
    Some(theirs)
}

/// Whether `datagram`, sent by the relay, starts with its DTLS ServerHello (a plaintext
/// handshake record of epoch 0 whose first message is type 2). The relay's DTLS server sends
/// it only for a ClientHello carrying the cookie of its HelloVerifyRequest, so it marks a
/// source that receives at its address.
pub(crate) fn is_server_hello(datagram: &[u8]) -> bool {
    const HANDSHAKE: u8 = 22;
    const SERVER_HELLO: u8 = 2;
    // Record header: type, version (2), epoch (2), sequence (6), length (2); then the
    // handshake header's type.
    datagram.len() > 13
        && datagram[0] == HANDSHAKE
        && datagram[3..5] == [0, 0]
        && datagram[13] == SERVER_HELLO
}
