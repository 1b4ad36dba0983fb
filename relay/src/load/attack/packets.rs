//! The datagrams an attacker sends: authenticated STUN binding requests with fresh ufrags, and
//! a DTLS ClientHello; and how a received datagram is told apart (RFC 7983).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Instant;

use bootstrap_codec::RelayEntry;
use str0m::crypto::dtls::{DtlsOutput, DtlsVersion};
use str0m::ice::{StunMessage, TransId};

use super::AttackError;

/// Largest datagram built here.
const MTU: usize = 1500;

/// The highest ICE candidate priority (RFC 8445 §5.1.2: 1..=2^31-1): an attacker's candidate
/// outranks every honest one.
const MAX_PRIORITY: u32 = 0x7fff_ffff;

/// An authenticated STUN binding request to the relay of `entry`, as a browser whose ICE ufrag
/// is `remote_ufrag` sends it (controlling, the highest priority; `USE-CANDIDATE` when
/// `nominate`): USERNAME `<relay ufrag>:<remote ufrag>`, MESSAGE-INTEGRITY with the relay's
/// published password.
pub fn binding_request(entry: &RelayEntry, remote_ufrag: &str, nominate: bool) -> Vec<u8> {
    let username = format!("{}:{remote_ufrag}", entry.ufrag().as_str());
    let message = StunMessage::binding_request(
        &username,
        TransId::new(),
        true,
        0x1ee7,
        MAX_PRIORITY,
        nominate,
    );
    let hmac = str0m::crypto::from_feature_flags().sha1_hmac_provider;
    let mut buf = vec![0; MTU];
    // The message has three short attributes; it cannot outgrow the MTU.
    let len = message
        .to_bytes(Some(entry.pwd().as_str().as_bytes()), &mut buf, |k, p| {
            hmac.sha1_hmac(k, p)
        })
        .expect("a binding request fits in 1500 bytes");
    buf.truncate(len);
    buf
}

/// A source of ufrags no relay has seen: 24 hex digits, random-looking and unique per source.
#[derive(Debug)]
pub struct Ufrags {
    state: RandomState,
    next: u64,
}

impl Default for Ufrags {
    fn default() -> Self {
        Self {
            state: RandomState::new(),
            next: 0,
        }
    }
}

impl Ufrags {
    /// The next ufrag.
    pub fn fresh(&mut self) -> String {
        self.next += 1;
        format!("{:016x}{:08x}", self.state.hash_one(self.next), self.next)
    }
}

/// The first flight of a DTLS 1.2 client (its ClientHello), as a browser starts the
/// handshake once ICE has connected; one is enough for any number of half-open handshakes.
pub fn client_hello() -> Result<Vec<u8>, AttackError> {
    let provider = crate::dtls::crypto_provider();
    let cert = provider
        .dtls_provider
        .generate_certificate()
        .ok_or(AttackError::Certificate)?;
    let now = Instant::now();
    let mut dtls = provider
        .dtls_provider
        .new_dtls(&cert, now, DtlsVersion::Dtls12, None)
        .map_err(|e| AttackError::Dtls(e.to_string()))?;
    dtls.set_active(true);
    dtls.handle_timeout(now)
        .map_err(|e| AttackError::Dtls(e.to_string()))?;
    let mut buf = vec![0; MTU];
    loop {
        match dtls.poll_output(&mut buf) {
            DtlsOutput::Packet(packet) => return Ok(packet.to_vec()),
            DtlsOutput::Timeout(_) => return Err(AttackError::Dtls("no ClientHello".into())),
            _ => {}
        }
    }
}

/// What a datagram is, by its first byte (RFC 7983 demultiplexing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// STUN (first byte 0..=3).
    Stun,
    /// DTLS (20..=63): handshake flights, alerts, or a session's data.
    Dtls,
    /// Anything else (or empty).
    Other,
}

impl Kind {
    /// The kind of `datagram`.
    pub fn of(datagram: &[u8]) -> Self {
        match datagram.first() {
            Some(0..=3) => Self::Stun,
            Some(20..=63) => Self::Dtls,
            _ => Self::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use bootstrap_codec::IceUfrag;
    use keystore::RelayIdentity;
    use str0m::ice::StunMessage;

    use super::{binding_request, client_hello, Kind, Ufrags};

    #[test]
    fn a_binding_request_is_signed_with_the_relay_password() {
        let identity = RelayIdentity::generate().expect("identity");
        let port = 3478.try_into().expect("port");
        let ip = "127.0.0.1".parse().expect("ip");
        let entry = identity.entry(ip, port, IceUfrag::default_relay());
        let packet = binding_request(&entry, "abcd", true);
        assert_eq!(Kind::of(&packet), Kind::Stun);
        let message = StunMessage::parse(&packet).expect("parses");
        assert!(message.is_binding_request() && message.use_candidate());
        let username = format!("{}:abcd", entry.ufrag().as_str());
        assert_eq!(message.username(), Some(username.as_str()));
        let hmac = str0m::crypto::from_feature_flags().sha1_hmac_provider;
        let pwd = entry.pwd().as_str().as_bytes();
        assert!(message.verify(pwd, |k, p| hmac.sha1_hmac(k, p)));
    }

    #[test]
    fn ufrags_do_not_repeat() {
        let mut ufrags = Ufrags::default();
        let seen: HashSet<String> = (0..10_000).map(|_| ufrags.fresh()).collect();
        assert_eq!(seen.len(), 10_000);
        assert!(seen.iter().all(|u| u.len() == 24));
    }

    #[test]
    fn a_client_hello_is_a_dtls_handshake_record() {
        let hello = client_hello().expect("builds");
        assert_eq!(Kind::of(&hello), Kind::Dtls);
        // Content type 22 (handshake), handshake type 1 (ClientHello) after the 13-byte
        // record header.
        assert_eq!(hello[0], 22);
        assert_eq!(hello[13], 1);
    }
}
