//! Output descriptors: the BIP-380 checksum, and ord's `rawtr(WIF)` recovery-key descriptor.
//!
//! The checksum is a BCH code over the descriptor's characters (BIP-380, "Checksum"), written
//! here from the specification: each character of [`INPUT_CHARSET`] contributes its low five
//! bits as one symbol, and every three characters their high bits as one more; the polymod of
//! those symbols and eight zeros, xor 1, gives eight characters of [`CHECKSUM_CHARSET`].

use bitcoin::secp256k1::SecretKey;
use bitcoin::{Network, PrivateKey};

/// The characters a descriptor may contain, in the order that gives their values.
pub const INPUT_CHARSET: &str = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~\
                                 ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";

/// The bech32 alphabet the eight checksum characters are drawn from.
pub const CHECKSUM_CHARSET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

const GENERATOR: [u64; 5] = [
    0xf5dee51989,
    0xa9fdca3312,
    0x1bab10e32d,
    0x3706b1677a,
    0x644d626ffd,
];

/// A descriptor that cannot carry, or does not match, a checksum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorError {
    /// A character outside [`INPUT_CHARSET`].
    #[error("descriptor character {position} ({character:?}) is not allowed in a descriptor")]
    InvalidCharacter { position: usize, character: char },
    /// The text after `#` is not the descriptor's checksum.
    #[error("descriptor checksum {found:?} does not match; expected {expected:?}")]
    Mismatch { found: String, expected: String },
    /// No `#checksum` suffix where one is required.
    #[error("descriptor has no #checksum")]
    Missing,
}

fn polymod(symbols: impl IntoIterator<Item = u64>) -> u64 {
    let mut chk: u64 = 1;
    for value in symbols {
        let top = chk >> 35;
        chk = ((chk & 0x7_ffff_ffff) << 5) ^ value;
        for (i, generator) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= generator;
            }
        }
    }
    chk
}

/// The eight-character BIP-380 checksum of `descriptor` (which must not include `#…`).
pub fn checksum(descriptor: &str) -> Result<String, DescriptorError> {
    let mut symbols = Vec::with_capacity(descriptor.len() * 4 / 3 + 10);
    let mut groups = Vec::with_capacity(3);
    for (position, character) in descriptor.chars().enumerate() {
        let value = INPUT_CHARSET
            .find(character)
            .filter(|_| character.is_ascii())
            .ok_or(DescriptorError::InvalidCharacter {
                position,
                character,
            })? as u64;
        symbols.push(value & 31);
        groups.push(value >> 5);
        if groups.len() == 3 {
            symbols.push(groups[0] * 9 + groups[1] * 3 + groups[2]);
            groups.clear();
        }
    }
    match groups[..] {
        [a] => symbols.push(a),
        [a, b] => symbols.push(a * 3 + b),
        _ => {}
    }
    symbols.extend([0; 8]);
    let sum = polymod(symbols) ^ 1;
    let alphabet = CHECKSUM_CHARSET.as_bytes();
    Ok((0..8)
        .map(|i| alphabet[((sum >> (5 * (7 - i))) & 31) as usize] as char)
        .collect())
}

/// `descriptor#checksum`.
pub fn with_checksum(descriptor: &str) -> Result<String, DescriptorError> {
    Ok(format!("{descriptor}#{}", checksum(descriptor)?))
}

/// Checks a `descriptor#checksum` and returns the descriptor without it.
pub fn verify_checksum(text: &str) -> Result<&str, DescriptorError> {
    let (descriptor, found) = text.rsplit_once('#').ok_or(DescriptorError::Missing)?;
    let expected = checksum(descriptor)?;
    if found == expected {
        Ok(descriptor)
    } else {
        Err(DescriptorError::Mismatch {
            found: found.to_owned(),
            expected,
        })
    }
}

/// `rawtr(<WIF>)#<checksum>`: the taproot output whose output key is `secret`'s public key,
/// untweaked, in the form ord keeps a commit's recovery key (importable into Bitcoin Core
/// with `importdescriptors` to sweep a stuck commit). The WIF is compressed, for `network`.
pub fn rawtr_descriptor(secret: &SecretKey, network: Network) -> String {
    let wif = PrivateKey::new(*secret, network).to_wif();
    with_checksum(&format!("rawtr({wif})")).expect("WIF is base58, inside INPUT_CHARSET")
}

#[cfg(test)]
mod tests {
    use bitcoin::secp256k1::SecretKey;
    use bitcoin::Network;

    use super::{checksum, rawtr_descriptor, verify_checksum, with_checksum, DescriptorError};

    // Every vector below was also checked with this independent Python 3 implementation,
    // written from BIP-380 (prints `descriptor#checksum` for each input line):
    //
    //   INPUT_CHARSET = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ "
    //   CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    //   GEN = [0xf5dee51989, 0xa9fdca3312, 0x1bab10e32d, 0x3706b1677a, 0x644d626ffd]
    //   def polymod(symbols):
    //       chk = 1
    //       for v in symbols:
    //           top = chk >> 35
    //           chk = ((chk & 0x7ffffffff) << 5) ^ v
    //           for i in range(5):
    //               if (top >> i) & 1: chk ^= GEN[i]
    //       return chk
    //   def expand(s):
    //       groups, symbols = [], []
    //       for c in s:
    //           v = INPUT_CHARSET.index(c)
    //           symbols.append(v & 31); groups.append(v >> 5)
    //           if len(groups) == 3:
    //               symbols.append(groups[0] * 9 + groups[1] * 3 + groups[2]); groups = []
    //       if len(groups) == 1: symbols.append(groups[0])
    //       elif len(groups) == 2: symbols.append(groups[0] * 3 + groups[1])
    //       return symbols
    //   def checksum(s):
    //       c = polymod(expand(s) + [0] * 8) ^ 1
    //       return "".join(CHECKSUM_CHARSET[(c >> (5 * (7 - i))) & 31] for i in range(8))
    //   import sys
    //   for line in sys.stdin: print(line.rstrip("\n") + "#" + checksum(line.rstrip("\n")))

    /// BIP-380's example, and two published by BDK's tests (as Bitcoin Core computes them).
    const VECTORS: [&str; 3] = [
        "raw(deadbeef)#89f8spxm",
        "wpkh(tprv8ZgxMBicQKsPdpkqS7Eair4YxjcuuvDPNYmKX3sCniCf16tHEVrjjiSXEkFRnUH77yXc6ZcwHHcLNfjdi5qUvw3VDfgYiH5mNsj5izuiu2N/1/2/*)#tqz0nc62",
        "pkh(tpubD6NzVbkrYhZ4XHndKkuB8FifXm8r5FQHwrN6oZuWCz13qb93rtgKvD4PQsqC4HP4yhV3tA2fqr2RbY5mNXfM7RxXUoeABoDtsFUq2zJq6YK/44'/1'/0'/0/*)#lasegmfs",
    ];

    #[test]
    fn published_vectors() {
        for vector in VECTORS {
            let (descriptor, sum) = vector.rsplit_once('#').unwrap();
            assert_eq!(checksum(descriptor).unwrap(), sum, "{descriptor}");
            assert_eq!(with_checksum(descriptor).unwrap(), vector);
            assert_eq!(verify_checksum(vector), Ok(descriptor));
        }
    }

    #[test]
    fn bad_checksums_and_characters_are_refused() {
        assert_eq!(
            verify_checksum("raw(deadbeef)#89f8spxn"),
            Err(DescriptorError::Mismatch {
                found: "89f8spxn".into(),
                expected: "89f8spxm".into()
            })
        );
        // BIP-380: a changed character changes the checksum.
        assert!(verify_checksum("raw(deedbeef)#89f8spxm").is_err());
        assert_eq!(
            verify_checksum("raw(deadbeef)"),
            Err(DescriptorError::Missing)
        );
        assert_eq!(
            checksum("raw(dé)"),
            Err(DescriptorError::InvalidCharacter {
                position: 5,
                character: 'é'
            })
        );
        assert!(checksum("raw(\n)").is_err());
    }

    #[test]
    fn rawtr_of_a_known_key() {
        // Secret key 1: its WIFs are well known; the checksums are the Python's above.
        let one = SecretKey::from_slice(&[[0u8; 31].as_slice(), &[1]].concat()).unwrap();
        assert_eq!(
            rawtr_descriptor(&one, Network::Bitcoin),
            "rawtr(KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn)#293gwtwf"
        );
        assert_eq!(
            rawtr_descriptor(&one, Network::Regtest),
            "rawtr(cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcA)#cllc4zfe"
        );
    }
}
