//! What can stop a run, from the first check to the last file.

use std::io;
use std::path::PathBuf;

use bitcoin::OutPoint;
use inscription::{CompressError, InscriptionId};

use crate::content::ContentError;
use crate::policy::{PolicyError, SetAside};
use crate::reveal::BuildError;
use crate::wallet::{AddressError, KeyError};

/// Why a [`Session`](crate::Session) refused or failed a run.
///
/// [`Error::Policy`], [`Error::Destination`], [`Error::ParentNotListed`],
/// [`Error::ParentNotOurs`] and [`Error::OutputsExist`] are the caller's to fix (other
/// arguments); the rest are the world's (funds, disk) or a bug caught before it cost anything.
/// [`Error::InsufficientFunds`] is a shortage with outputs set aside: the caller may vouch for
/// them or check them with an ord server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Refused by a fee cap or the network's content limit.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The destination is no address of the session's network.
    #[error("destination: {0}")]
    Destination(AddressError),
    /// A parent no UTXO lists among its inscriptions.
    #[error("parent {id}: no UTXO lists it under \"inscriptions\"")]
    ParentNotListed {
        /// The parent asked for.
        id: InscriptionId,
    },
    /// A parent held by an output this wallet cannot spend.
    #[error("parent {id}: output {outpoint} is not this wallet's, so it cannot be spent")]
    ParentNotOurs {
        /// The parent asked for.
        id: InscriptionId,
        /// The output holding it.
        outpoint: OutPoint,
    },
    /// The output directory holds files of an earlier run: nothing there is ever replaced.
    #[error(
        "{} holds an earlier run ({}): its recovery key may be the only way to sweep that \
         run's commit, so nothing there is replaced",
        dir.display(),
        list(files)
    )]
    OutputsExist {
        /// The output directory.
        dir: PathBuf,
        /// Every file of a run found there.
        files: Vec<PathBuf>,
    },
    /// Not enough coins that may pay fees, and some outputs were kept from fees.
    #[error(
        "not enough funds: need {needed} sat, the coins that may pay fees hold {available} \
         sat; set aside as possibly inscribed: {}",
        set_aside.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    InsufficientFunds {
        /// Outputs and fee.
        needed: u64,
        /// Sum of the coins that may pay fees.
        available: u64,
        /// The outputs never spent as fees, and why.
        set_aside: Vec<SetAside>,
    },
    /// A wallet key could not be derived.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The transactions could not be built, signed or verified.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Brotli failed on a body.
    #[error("compressing {name}")]
    Compress {
        /// Where the body came from.
        name: String,
        /// What failed.
        #[source]
        error: CompressError,
    },
    /// The commit could not be put in a PSBT.
    #[error("building the commit PSBT")]
    Psbt(#[from] bitcoin::psbt::Error),
    /// The output directory could not be created.
    #[error("creating {}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        error: io::Error,
    },
    /// A file could not be written (nothing half-written is left: writes are atomic).
    #[error("writing {}", file.display())]
    Write {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        error: io::Error,
    },
}

impl From<ContentError> for Error {
    fn from(e: ContentError) -> Self {
        match e {
            ContentError::Policy(p) => Error::Policy(p),
            ContentError::Compress { name, error } => Error::Compress { name, error },
        }
    }
}

fn list(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}
