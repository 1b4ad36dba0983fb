//! The signed relay entry and its compact binary form.
//!
//! Layout of version 1 (all integers big-endian; see `docs/relay-txt.md`):
//!
//! ```text
//! version  u8            = 1
//! flags    u8            bits 0-1 address kind (0 IPv4, 1 IPv6, 2 host name)
//!                        bit 2    explicit ufrag follows (else "luma")
//!                        bit 3    explicit pwd follows (else derived from nk + fingerprint)
//!                        bits 4-7 zero
//! address  4 | 16 | u8 len + name
//! port     u16           never 0
//! fp       32 bytes      SHA-256 of the DTLS certificate
//! [ufrag]  u8 (len - 1) + chars
//! [pwd]    u8 (len - 1) + chars
//! nk       32 bytes      Ed25519 public key
//! sig      64 bytes      Ed25519 by nk over "lumamesh/relay-entry/v1\0" || every byte above
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU16;

use crate::{
    AddressError, Fingerprint, HostName, IcePwd, IceUfrag, NodeKey, NodeSecret, RelayAddress,
    DEFAULT_UFRAG,
};

/// The entry format version this build writes and reads.
pub const ENTRY_VERSION: u8 = 1;

/// Domain separation prefix of the signed message.
pub const SIGNATURE_DOMAIN: &[u8] = b"lumamesh/relay-entry/v1\0";

const KIND_V4: u8 = 0;
const KIND_V6: u8 = 1;
const KIND_HOST: u8 = 2;
const FLAG_UFRAG: u8 = 1 << 2;
const FLAG_PWD: u8 = 1 << 3;
const FLAG_KIND_MASK: u8 = 0b11;
const FLAG_RESERVED: u8 = 0xF0;

/// Everything in an entry except the node key and the signature: what an operator chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedEntry {
    /// Where browsers send UDP.
    pub address: RelayAddress,
    /// The relay's UDP port.
    pub port: NonZeroU16,
    /// SHA-256 of the relay's DTLS certificate.
    pub fingerprint: Fingerprint,
    /// The relay's ICE ufrag.
    pub ufrag: IceUfrag,
    /// The relay's ICE password.
    pub pwd: IcePwd,
}

/// A relay entry whose signature by its own node key has been checked.
///
/// Values of this type exist only after [`UnsignedEntry::sign`] or a successful
/// [`RelayEntry::decode`], so holding one means the signature is valid.
///
/// ```
/// use bootstrap_codec::{Fingerprint, IcePwd, IceUfrag, NodeSecret, RelayEntry, UnsignedEntry};
///
/// let secret = NodeSecret::from_seed(&[1; 32]);
/// let fingerprint = Fingerprint::from_bytes([2; 32]);
/// let entry = UnsignedEntry {
///     address: "203.0.113.7".parse().unwrap(),
///     port: 3478.try_into().unwrap(),
///     fingerprint,
///     ufrag: IceUfrag::default_relay(),
///     pwd: IcePwd::derived(&secret.public(), &fingerprint),
/// }
/// .sign(&secret);
/// let bytes = entry.to_bytes();
/// assert_eq!(bytes.len(), 136);
/// assert_eq!(RelayEntry::decode(&bytes).unwrap(), entry);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayEntry {
    fields: UnsignedEntry,
    node_key: NodeKey,
    signature: [u8; 64],
}

/// The part of the binary entry a decoding error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Format version byte.
    Version,
    /// Flags byte.
    Flags,
    /// IP address or host name.
    Address,
    /// UDP port.
    Port,
    /// DTLS fingerprint.
    Fingerprint,
    /// ICE ufrag.
    Ufrag,
    /// ICE password.
    Pwd,
    /// Ed25519 node key.
    NodeKey,
    /// Ed25519 signature.
    Signature,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Version => "version",
            Field::Flags => "flags",
            Field::Address => "address",
            Field::Port => "port",
            Field::Fingerprint => "fingerprint",
            Field::Ufrag => "ufrag",
            Field::Pwd => "pwd",
            Field::NodeKey => "nk",
            Field::Signature => "signature",
        })
    }
}

/// Why bytes are not a valid signed relay entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The version byte names a format this build does not know.
    #[error(
        "field `version`: unknown entry version {0} (this build reads version {ENTRY_VERSION})"
    )]
    UnknownVersion(u8),
    /// The bytes end inside a field.
    #[error("field `{0}`: truncated (the entry ends inside this field)")]
    Truncated(Field),
    /// Bytes follow the signature.
    #[error("field `signature`: {0} trailing byte(s) after the signature")]
    TrailingBytes(usize),
    /// A field's value is not allowed.
    #[error("field `{field}`: {reason}")]
    Invalid {
        /// Which field.
        field: Field,
        /// What is wrong with it.
        reason: String,
    },
    /// The signature does not verify under the entry's node key.
    #[error("field `signature`: bad signature: the entry was not signed by its node key (tampered or corrupted)")]
    BadSignature,
    /// The relay.txt token is not base64url.
    #[error("not a relay entry: expected base64url text (A-Z a-z 0-9 - _)")]
    NotBase64,
}

fn invalid(field: Field, reason: impl fmt::Display) -> DecodeError {
    DecodeError::Invalid {
        field,
        reason: reason.to_string(),
    }
}

impl UnsignedEntry {
    /// Signs the entry with the relay's node key.
    pub fn sign(self, secret: &NodeSecret) -> RelayEntry {
        let node_key = secret.public();
        let mut message = SIGNATURE_DOMAIN.to_vec();
        encode_body(&self, &node_key, &mut message);
        let signature = secret.sign(&message);
        RelayEntry {
            fields: self,
            node_key,
            signature,
        }
    }
}

fn encode_body(fields: &UnsignedEntry, node_key: &NodeKey, out: &mut Vec<u8>) {
    let derived = IcePwd::derived(node_key, &fields.fingerprint);
    let explicit_ufrag = fields.ufrag.as_str() != DEFAULT_UFRAG;
    let explicit_pwd = fields.pwd != derived;
    let kind = match fields.address {
        RelayAddress::V4(_) => KIND_V4,
        RelayAddress::V6(_) => KIND_V6,
        RelayAddress::Host(_) => KIND_HOST,
    };
    let flags = kind
        | if explicit_ufrag { FLAG_UFRAG } else { 0 }
        | if explicit_pwd { FLAG_PWD } else { 0 };
    out.push(ENTRY_VERSION);
    out.push(flags);
    match &fields.address {
        RelayAddress::V4(v4) => out.extend_from_slice(&v4.octets()),
        RelayAddress::V6(v6) => out.extend_from_slice(&v6.octets()),
        RelayAddress::Host(h) => {
            // HostName guarantees 1..=253 bytes, so the length fits a byte.
            out.push(h.as_str().len() as u8);
            out.extend_from_slice(h.as_str().as_bytes());
        }
    }
    out.extend_from_slice(&fields.port.get().to_be_bytes());
    out.extend_from_slice(fields.fingerprint.as_bytes());
    if explicit_ufrag {
        push_credential(out, fields.ufrag.as_str());
    }
    if explicit_pwd {
        push_credential(out, fields.pwd.as_str());
    }
    out.extend_from_slice(node_key.as_bytes());
}

/// Credentials are 4..=256 characters, so `len - 1` fits a byte.
fn push_credential(out: &mut Vec<u8>, s: &str) {
    out.push((s.len() - 1) as u8);
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: Field) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated(field));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: Field) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, field)?;
        // `take` returned exactly N bytes.
        Ok(bytes.try_into().expect("length checked by take"))
    }

    fn byte(&mut self, field: Field) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    fn credential(&mut self, field: Field) -> Result<&'a str, DecodeError> {
        let len = usize::from(self.byte(field)?) + 1;
        let bytes = self.take(len, field)?;
        std::str::from_utf8(bytes).map_err(|_| invalid(field, "not ASCII text"))
    }
}

impl RelayEntry {
    /// Decodes and verifies a binary entry. Every byte is accounted for: unknown versions,
    /// reserved flags, non-canonical encodings, trailing bytes and bad signatures are errors.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader(bytes);
        let version = r.byte(Field::Version)?;
        if version != ENTRY_VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        let flags = r.byte(Field::Flags)?;
        if flags & FLAG_RESERVED != 0 {
            return Err(invalid(
                Field::Flags,
                format!("reserved bits set in 0x{flags:02x}"),
            ));
        }
        let ip = |ip: std::net::IpAddr| {
            RelayAddress::from_ip(ip).map_err(|e: AddressError| invalid(Field::Address, e))
        };
        let address = match flags & FLAG_KIND_MASK {
            KIND_V4 => ip(Ipv4Addr::from(r.array::<4>(Field::Address)?).into())?,
            KIND_V6 => ip(Ipv6Addr::from(r.array::<16>(Field::Address)?).into())?,
            KIND_HOST => {
                let len = usize::from(r.byte(Field::Address)?);
                let name = std::str::from_utf8(r.take(len, Field::Address)?)
                    .map_err(|_| invalid(Field::Address, "host name is not ASCII"))?;
                RelayAddress::Host(HostName::new(name).map_err(|e| invalid(Field::Address, e))?)
            }
            kind => {
                return Err(invalid(
                    Field::Flags,
                    format!("unknown address kind {kind}"),
                ))
            }
        };
        let port = NonZeroU16::new(u16::from_be_bytes(r.array(Field::Port)?))
            .ok_or_else(|| invalid(Field::Port, "port 0 is not allowed"))?;
        let fingerprint = Fingerprint::from_bytes(r.array(Field::Fingerprint)?);
        let ufrag = if flags & FLAG_UFRAG != 0 {
            let ufrag =
                IceUfrag::new(r.credential(Field::Ufrag)?).map_err(|e| invalid(Field::Ufrag, e))?;
            if ufrag.as_str() == DEFAULT_UFRAG {
                return Err(invalid(
                    Field::Ufrag,
                    "non-canonical: the default ufrag is encoded by flag",
                ));
            }
            ufrag
        } else {
            IceUfrag::default_relay()
        };
        let explicit_pwd = if flags & FLAG_PWD != 0 {
            Some(IcePwd::new(r.credential(Field::Pwd)?).map_err(|e| invalid(Field::Pwd, e))?)
        } else {
            None
        };
        let node_key = NodeKey::from_bytes(&r.array(Field::NodeKey)?)
            .map_err(|e| invalid(Field::NodeKey, e))?;
        let derived = IcePwd::derived(&node_key, &fingerprint);
        let pwd = match explicit_pwd {
            Some(pwd) if pwd == derived => {
                return Err(invalid(
                    Field::Pwd,
                    "non-canonical: the derived pwd is encoded by flag",
                ))
            }
            Some(pwd) => pwd,
            None => derived,
        };
        let body_len = bytes.len() - r.0.len();
        let signature = r.array::<64>(Field::Signature)?;
        if !r.0.is_empty() {
            return Err(DecodeError::TrailingBytes(r.0.len()));
        }
        let mut message = SIGNATURE_DOMAIN.to_vec();
        message.extend_from_slice(&bytes[..body_len]);
        if !node_key.verify(&message, &signature) {
            return Err(DecodeError::BadSignature);
        }
        Ok(RelayEntry {
            fields: UnsignedEntry {
                address,
                port,
                fingerprint,
                ufrag,
                pwd,
            },
            node_key,
            signature,
        })
    }

    /// Appends the binary form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_body(&self.fields, &self.node_key, out);
        out.extend_from_slice(&self.signature);
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        self.encode(&mut out);
        out
    }

    /// The operator-chosen fields.
    pub fn fields(&self) -> &UnsignedEntry {
        &self.fields
    }

    /// The relay's address.
    pub fn address(&self) -> &RelayAddress {
        &self.fields.address
    }

    /// The relay's UDP port.
    pub fn port(&self) -> u16 {
        self.fields.port.get()
    }

    /// SHA-256 of the relay's DTLS certificate.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fields.fingerprint
    }

    /// The relay's ICE ufrag.
    pub fn ufrag(&self) -> &IceUfrag {
        &self.fields.ufrag
    }

    /// The relay's ICE password.
    pub fn pwd(&self) -> &IcePwd {
        &self.fields.pwd
    }

    /// The node key that signed the entry.
    pub fn node_key(&self) -> &NodeKey {
        &self.node_key
    }

    /// The Ed25519 signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
}

impl serde::Serialize for RelayEntry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("RelayEntry", 8)?;
        st.serialize_field("version", &ENTRY_VERSION)?;
        st.serialize_field("address", &self.fields.address)?;
        st.serialize_field("port", &self.port())?;
        st.serialize_field("fingerprint", &self.fields.fingerprint)?;
        st.serialize_field("ufrag", &self.fields.ufrag)?;
        st.serialize_field("pwd", &self.fields.pwd)?;
        st.serialize_field("nk", &self.node_key)?;
        st.serialize_field("relay_txt", &self.to_line())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(address: &str) -> RelayEntry {
        let secret = NodeSecret::from_seed(&[9; 32]);
        let fingerprint = Fingerprint::from_bytes([0xAB; 32]);
        UnsignedEntry {
            address: address.parse().unwrap(),
            port: NonZeroU16::new(3478).unwrap(),
            fingerprint,
            ufrag: IceUfrag::default_relay(),
            pwd: IcePwd::derived(&secret.public(), &fingerprint),
        }
        .sign(&secret)
    }

    #[test]
    fn sizes() {
        assert_eq!(sample("192.0.2.1").to_bytes().len(), 136);
        assert_eq!(sample("2001:db8::1").to_bytes().len(), 148);
        assert_eq!(sample("relay.example.org").to_bytes().len(), 132 + 1 + 17);
    }

    #[test]
    fn every_truncation_names_a_field() {
        let bytes = sample("192.0.2.1").to_bytes();
        for cut in 0..bytes.len() {
            let err = RelayEntry::decode(&bytes[..cut]).unwrap_err();
            assert!(matches!(err, DecodeError::Truncated(_)), "{cut}: {err}");
        }
        assert_eq!(
            RelayEntry::decode(&bytes[..6]).unwrap_err(),
            DecodeError::Truncated(Field::Port)
        );
    }

    #[test]
    fn trailing_and_version() {
        let mut bytes = sample("192.0.2.1").to_bytes();
        bytes.push(0);
        assert_eq!(
            RelayEntry::decode(&bytes).unwrap_err(),
            DecodeError::TrailingBytes(1)
        );
        bytes.pop();
        bytes[0] = 2;
        assert_eq!(
            RelayEntry::decode(&bytes).unwrap_err(),
            DecodeError::UnknownVersion(2)
        );
    }

    #[test]
    fn explicit_credentials_round_trip() {
        let secret = NodeSecret::from_seed(&[3; 32]);
        let entry = UnsignedEntry {
            address: "198.51.100.2".parse().unwrap(),
            port: NonZeroU16::new(443).unwrap(),
            fingerprint: Fingerprint::from_bytes([1; 32]),
            ufrag: IceUfrag::new("u".repeat(256)).unwrap(),
            pwd: IcePwd::new("p".repeat(256)).unwrap(),
        }
        .sign(&secret);
        let bytes = entry.to_bytes();
        assert_eq!(bytes.len(), 136 + 2 * 257);
        assert_eq!(RelayEntry::decode(&bytes).unwrap(), entry);
    }
}
