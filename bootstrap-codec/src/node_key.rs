//! The relay's Ed25519 node key (`nk`): the identity that signs its entries.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// A relay's public Ed25519 node key. Displays as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NodeKey(VerifyingKey);

/// The secret half of a node key. Never printed: its `Debug` shows only the public key.
#[derive(Clone)]
pub struct NodeSecret(SigningKey);

/// Why 32 bytes are not an Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid Ed25519 public key")]
pub struct InvalidNodeKey;

impl NodeKey {
    /// Length of the encoded key in bytes.
    pub const LEN: usize = 32;

    /// Decodes a compressed Edwards point; rejects encodings that are not on the curve.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, InvalidNodeKey> {
        VerifyingKey::from_bytes(bytes)
            .map(NodeKey)
            .map_err(|_| InvalidNodeKey)
    }

    /// The 32 key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Strict Ed25519 verification (rejects small-order keys and malleable signatures).
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let sig = Signature::from_bytes(signature);
        self.0.verify_strict(message, &sig).is_ok() && self.0.verify(message, &sig).is_ok()
    }
}

impl fmt::Display for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.as_bytes()))
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeKey({self})")
    }
}

impl FromStr for NodeKey {
    type Err = InvalidNodeKey;

    /// Parses 64 hex digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| InvalidNodeKey)?;
        NodeKey::from_bytes(&bytes)
    }
}

impl std::hash::Hash for NodeKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl serde::Serialize for NodeKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl NodeSecret {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)?;
        Ok(Self::from_seed(&seed))
    }

    /// The key for a 32-byte seed (RFC 8032 secret key). For tests and vectors.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        NodeSecret(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed (RFC 8032 secret key), for handing the same key to another engine
    /// (the relay's libp2p identity). Keep it secret: never log or print it.
    pub fn seed(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> NodeKey {
        NodeKey(self.0.verifying_key())
    }

    /// Signs `message` (deterministic Ed25519).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// Encodes as a PKCS#8 PEM document (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pkcs8_pem(&self) -> String {
        use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey};
        // Encoding a 32-byte seed into PKCS#8 cannot fail: it is a fixed-size structure.
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 encoding of an Ed25519 key")
            .to_string()
    }

    /// Decodes a PKCS#8 PEM document.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, String> {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        SigningKey::from_pkcs8_pem(pem)
            .map(NodeSecret)
            .map_err(|e| e.to_string())
    }
}

impl fmt::Debug for NodeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeSecret(public: {})", self.public())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_1() {
        // RFC 8032 section 7.1, TEST 1.
        let seed: [u8; 32] =
            hex32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let secret = NodeSecret::from_seed(&seed);
        assert_eq!(
            secret.public().to_string(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = secret.sign(b"");
        assert!(secret.public().verify(b"", &sig));
        assert!(!secret.public().verify(b"x", &sig));
    }

    #[test]
    fn pem_round_trip_and_debug_hides_secret() {
        let secret = NodeSecret::from_seed(&[7; 32]);
        let pem = secret.to_pkcs8_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = NodeSecret::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(back.public(), secret.public());
        assert!(!format!("{secret:?}").contains("0707"));
        assert!(NodeSecret::from_pkcs8_pem("garbage").is_err());
    }

    #[test]
    fn hex_round_trip() {
        let nk = NodeSecret::from_seed(&[1; 32]).public();
        assert_eq!(nk.to_string().parse::<NodeKey>().unwrap(), nk);
        assert!("zz".parse::<NodeKey>().is_err());
    }

    fn hex32(s: &str) -> [u8; 32] {
        let mut bytes = [0; 32];
        hex::decode_to_slice(s, &mut bytes).unwrap();
        bytes
    }
}
