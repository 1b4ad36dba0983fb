//! ICE credentials (RFC 8839 `ice-char` strings) and the relay's default values.

use std::fmt;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::{Fingerprint, NodeKey};

/// The ufrag a relay uses unless its operator chooses another (`ICE_UFRAG`).
pub const DEFAULT_UFRAG: &str = "luma";

/// Length of a generated or derived ICE password, in characters.
pub const GENERATED_PWD_LEN: usize = 24;

/// Why a string is not a valid ICE ufrag or password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IceCredentialError {
    /// Length outside the range RFC 8839 allows.
    #[error("length {len} is outside {min}–{max} characters")]
    Length {
        /// The length found.
        len: usize,
        /// Minimum allowed.
        min: usize,
        /// Maximum allowed.
        max: usize,
    },
    /// A character outside `[A-Za-z0-9+/]`.
    #[error("character {0:?} is not an ICE character (only A-Z a-z 0-9 + /)")]
    Charset(char),
}

fn check(s: &str, min: usize, max: usize) -> Result<(), IceCredentialError> {
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '+' || *c == '/'))
    {
        return Err(IceCredentialError::Charset(c));
    }
    let len = s.len();
    if len < min || len > max {
        return Err(IceCredentialError::Length { len, min, max });
    }
    Ok(())
}

macro_rules! ice_string {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Shortest allowed length.
            pub const MIN_LEN: usize = $min;
            /// Longest allowed length.
            pub const MAX_LEN: usize = $max;

            /// Validates charset and length.
            pub fn new(s: impl Into<String>) -> Result<Self, IceCredentialError> {
                let s = s.into();
                check(&s, $min, $max)?;
                Ok($name(s))
            }

            /// The credential text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IceCredentialError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::new(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

ice_string!(
    /// An ICE username fragment: 4–256 characters of `[A-Za-z0-9+/]`.
    #[derive(Debug)]
    IceUfrag,
    4,
    256
);

ice_string!(
    /// An ICE password: 22–256 characters of `[A-Za-z0-9+/]`.
    ///
    /// A relay's password is published in its entry, so it is not a secret: it only lets
    /// the relay recognise STUN checks made by someone who read the entry.
    IcePwd,
    22,
    256
);

impl fmt::Debug for IcePwd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IcePwd({:?})", self.0)
    }
}

impl IceUfrag {
    /// The default relay ufrag, [`DEFAULT_UFRAG`].
    pub fn default_relay() -> Self {
        IceUfrag(DEFAULT_UFRAG.to_owned())
    }
}

impl IcePwd {
    /// The password a relay uses unless its operator chooses another: the first 24
    /// standard-base64 characters of `SHA-256("lumamesh/ice-pwd/v1\0" || nk || fingerprint)`.
    ///
    /// Deriving it from public entry fields costs nothing (the password is published
    /// anyway) and lets the binary entry omit it, which keeps an IPv4 entry under 140 bytes.
    pub fn derived(node_key: &NodeKey, fingerprint: &Fingerprint) -> Self {
        let mut h = Sha256::new();
        h.update(b"lumamesh/ice-pwd/v1\0");
        h.update(node_key.as_bytes());
        h.update(fingerprint.as_bytes());
        let digest = h.finalize();
        let text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&digest[..18]);
        debug_assert_eq!(text.len(), GENERATED_PWD_LEN);
        IcePwd(text)
    }

    /// A fresh random password of 24 characters (144 bits).
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 18];
        getrandom::fill(&mut bytes)?;
        Ok(IcePwd(
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ufrag_bounds() {
        assert!(IceUfrag::new("abc").is_err());
        assert!(IceUfrag::new("abcd").is_ok());
        assert!(IceUfrag::new("a".repeat(256)).is_ok());
        assert_eq!(
            IceUfrag::new("a".repeat(257)),
            Err(IceCredentialError::Length {
                len: 257,
                min: 4,
                max: 256
            })
        );
        assert_eq!(
            IceUfrag::new("ab-cd"),
            Err(IceCredentialError::Charset('-'))
        );
        assert_eq!(IceUfrag::new("abcé"), Err(IceCredentialError::Charset('é')));
    }

    #[test]
    fn pwd_bounds() {
        assert!(IcePwd::new("a".repeat(21)).is_err());
        assert!(IcePwd::new("a+/".repeat(8)).is_ok());
        assert!(IcePwd::new("a".repeat(256)).is_ok());
        assert!(IcePwd::new("a".repeat(257)).is_err());
        assert!(IcePwd::new(format!("{}=", "a".repeat(22))).is_err());
    }

    #[test]
    fn random_pwd_is_valid() {
        let a = IcePwd::random().unwrap();
        let b = IcePwd::random().unwrap();
        assert_eq!(a.as_str().len(), GENERATED_PWD_LEN);
        assert!(IcePwd::new(a.as_str()).is_ok());
        assert_ne!(a, b);
    }
}
