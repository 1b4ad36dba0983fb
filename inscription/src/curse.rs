//! Curses: what made ord give an inscription a negative number before the jubilee.

use std::fmt;

use bitcoin::Network;

/// Why ord's indexer would curse an inscription (see [`crate::Envelope::curse`]).
///
/// After the jubilee height ([`jubilee_height`]: mainnet 824,544, signet 175,392, regtest 110) curses are
/// vindicated: the inscription gets an ordinary number, except that an unknown even field
/// still leaves it unbound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Curse {
    /// A field appeared twice.
    DuplicateField,
    /// The fields ended on a tag without a value.
    IncompleteField,
    /// The envelope is not in the first input.
    NotInFirstInput,
    /// The envelope is not the first in its input.
    NotAtOffsetZero,
    /// A pointer field is present.
    Pointer,
    /// A push opcode (`OP_1`…) stood in for a data push.
    Pushnum,
    /// The envelope followed a false start.
    Stutter,
    /// An even tag ord does not know.
    UnrecognizedEvenField,
}

impl Curse {
    /// The name ord's docs use.
    pub fn name(self) -> &'static str {
        match self {
            Curse::DuplicateField => "duplicate-field",
            Curse::IncompleteField => "incomplete-field",
            Curse::NotInFirstInput => "not-in-first-input",
            Curse::NotAtOffsetZero => "not-at-offset-zero",
            Curse::Pointer => "pointer",
            Curse::Pushnum => "pushnum",
            Curse::Stutter => "stutter",
            Curse::UnrecognizedEvenField => "unrecognized-even-field",
        }
    }
}

/// ord's `Chain::jubilee_height`: from this height on ord vindicates curses instead of
/// numbering them negatively.
///
/// ```
/// assert_eq!(inscription::jubilee_height(bitcoin::Network::Bitcoin), 824_544);
/// assert_eq!(inscription::jubilee_height(bitcoin::Network::Regtest), 110);
/// ```
pub fn jubilee_height(network: Network) -> u32 {
    match network {
        Network::Regtest => 110,
        Network::Signet => 175_392,
        Network::Testnet => 2_544_192,
        Network::Testnet4 => 0,
        // Mainnet, and whatever network a later `bitcoin` adds (ord knows no other).
        _ => 824_544,
    }
}

impl fmt::Display for Curse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
