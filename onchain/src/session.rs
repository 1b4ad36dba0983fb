//! A wallet opened for one run: its coins, where inscriptions and change go, the fee rate
//! and caps, and a callback told what is happening.

use std::fmt;

use bitcoin::key::{Keypair, Secp256k1};
use bitcoin::secp256k1::All;
use bitcoin::{Amount, Network, ScriptBuf};
use inscription::{Inscription, InscriptionId};

use crate::content::{Content, ContentError};
use crate::error::Error;
use crate::policy::{fee_coins, set_aside, FeeCaps, SetAside, DEFAULT_POSTAGE};
use crate::reveal::{BuildError, Coin, FeeRate, ParentInput, Prepared, RevealPlan};
use crate::wallet::{check_address, Chain, NextIndices, Utxo, Wallet, DEFAULT_GAP};

/// What a run pays: the fee rate of every transaction, the caps, and each inscription's
/// postage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spending {
    /// The fee rate of every transaction.
    pub fee_rate: FeeRate,
    /// The caps, checked on [`Session::new`] (rate) and before anything is signed (fees).
    pub caps: FeeCaps,
    /// Sats in each inscription's output.
    pub postage: Amount,
}

impl Spending {
    /// `fee_rate` with the default caps and postage.
    pub fn at(fee_rate: FeeRate) -> Spending {
        Spending {
            fee_rate,
            caps: FeeCaps::default(),
            postage: DEFAULT_POSTAGE,
        }
    }
}

/// What a run is doing, for a progress display. Its `Display` is a short message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Compressing a body with brotli.
    Compressing {
        /// Where the body came from.
        name: &'a str,
    },
    /// Building one commit/reveal pair.
    Building,
    /// Sizing the page's transactions of a publish.
    SizingPage,
    /// Building the library's pair of a publish.
    BuildingLibrary,
    /// Building the page's pair of a publish.
    BuildingPage,
    /// Writing the recovery descriptors.
    WritingRecovery,
    /// Signing and verifying one pair.
    Signing {
        /// The pair's name.
        stage: &'a str,
    },
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Compressing { name } => write!(f, "compressing {name} (brotli q11)"),
            Event::Building => f.write_str("building commit and reveal"),
            Event::SizingPage => f.write_str("sizing the page's transactions"),
            Event::BuildingLibrary => f.write_str("building the library's commit and reveal"),
            Event::BuildingPage => f.write_str("building the page's commit and reveal"),
            Event::WritingRecovery => f.write_str("writing recovery descriptors"),
            Event::Signing { stage } => {
                write!(f, "signing and verifying {stage} with libbitcoinconsensus")
            }
        }
    }
}

/// A wallet opened for one run, with its coins and where outputs go.
pub struct Session {
    network: Network,
    wallet: Wallet,
    utxos: Vec<Utxo>,
    destination: ScriptBuf,
    holder: ScriptBuf,
    change: ScriptBuf,
    next: NextIndices,
    spending: Spending,
    secp: Secp256k1<All>,
    progress: Box<dyn Fn(&Event<'_>)>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("network", &self.network)
            .field("wallet", &self.wallet)
            .field("utxos", &self.utxos.len())
            .field("spending", &self.spending)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Opens a run of `wallet` over `utxos` as [`Session::open`] does, for a wallet with no
    /// record of used addresses (index 0 of both chains is the next unused one).
    pub fn new(
        wallet: Wallet,
        utxos: Vec<Utxo>,
        destination: Option<&str>,
        spending: Spending,
    ) -> Result<Session, Error> {
        Session::open(wallet, utxos, destination, spending, NextIndices::default())
    }

    /// Opens a run of `wallet` over `utxos`: refuses a fee rate above the cap (unless high
    /// fees are allowed) and a `destination` of another network. `next` is the first unused
    /// index of each chain (from the wallet directory). Inscriptions go to `destination`, by
    /// default to the run's own receive address: the first receive index from `next` (never
    /// 0, the wallet's first funding address) that no UTXO of the run pays; change goes to
    /// the first such change index. [`Session::next_indices`] says what to record once the
    /// run is written.
    pub fn open(
        wallet: Wallet,
        utxos: Vec<Utxo>,
        destination: Option<&str>,
        spending: Spending,
        next: NextIndices,
    ) -> Result<Session, Error> {
        spending.caps.check_rate(spending.fee_rate)?;
        let network = wallet.network();
        let highest = next.receive.max(next.change);
        // Outputs at the fresh indices, and well past them, must still be recognised as the
        // wallet's (parents, change spent by later runs).
        let wallet = if highest.saturating_add(DEFAULT_GAP / 2) > wallet.gap() {
            wallet.with_gap(highest.saturating_add(DEFAULT_GAP))
        } else {
            wallet
        };
        let holder_index = unused(&wallet, &utxos, Chain::Receive, next.receive.max(1))?;
        let change_index = unused(&wallet, &utxos, Chain::Change, next.change)?;
        let holder = wallet.script_pubkey(Chain::Receive, holder_index)?;
        let destination = match destination {
            Some(a) => check_address(a, network)
                .map_err(Error::Destination)?
                .script_pubkey(),
            None => holder.clone(),
        };
        let change = wallet.script_pubkey(Chain::Change, change_index)?;
        let next = next.max(NextIndices {
            receive: holder_index + 1,
            change: change_index + 1,
        });
        Ok(Session {
            network,
            wallet,
            utxos,
            destination,
            holder,
            change,
            next,
            spending,
            secp: Secp256k1::new(),
            progress: Box::new(|_| {}),
        })
    }

    /// The same session, telling `progress` what it does.
    pub fn with_progress(mut self, progress: impl Fn(&Event<'_>) + 'static) -> Session {
        self.progress = Box::new(progress);
        self
    }

    /// Tells the progress callback.
    pub fn event(&self, event: Event<'_>) {
        (self.progress)(&event);
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The wallet.
    pub fn wallet(&self) -> &Wallet {
        &self.wallet
    }

    /// Every UTXO the run knows of, inscribed or not.
    pub fn utxos(&self) -> &[Utxo] {
        &self.utxos
    }

    /// Where inscriptions go.
    pub fn destination(&self) -> &ScriptBuf {
        &self.destination
    }

    /// The run's own fresh receive address of the wallet: where inscriptions go unless
    /// `--destination` says otherwise, and where an inscription the wallet must keep (a
    /// parent for later children) goes.
    pub fn holder(&self) -> &ScriptBuf {
        &self.holder
    }

    /// Where change goes: the run's own fresh change address.
    pub fn change(&self) -> &ScriptBuf {
        &self.change
    }

    /// The next unused index of each chain once this run is written: past its receive
    /// address and its change address. Record it only for a run that was written.
    pub fn next_indices(&self) -> NextIndices {
        self.next
    }

    /// The fee rate, caps and postage.
    pub fn spending(&self) -> &Spending {
        &self.spending
    }

    /// The signing context.
    pub fn secp(&self) -> &Secp256k1<All> {
        &self.secp
    }

    /// The wallet's coins that may pay fees (see [`fee_coins`]).
    pub fn fee_coins(&self) -> Vec<Coin> {
        fee_coins(&self.utxos)
    }

    /// The outputs kept from fees, and why (see [`set_aside`]).
    pub fn set_aside(&self) -> Vec<SetAside> {
        set_aside(&self.utxos)
    }

    /// `error`, naming the outputs set aside if it is a shortage of funds and some were.
    pub fn explain(&self, error: Error) -> Error {
        match error {
            Error::Build(BuildError::InsufficientFunds { needed, available }) => {
                let set_aside = self.set_aside();
                if set_aside.is_empty() {
                    error
                } else {
                    Error::InsufficientFunds {
                        needed,
                        available,
                        set_aside,
                    }
                }
            }
            other => other,
        }
    }

    /// `body` as `content_type`, checked against the network's content limit and
    /// compressed when `compress` and that makes it smaller (see [`Content::new`]).
    pub fn content(
        &self,
        name: &str,
        content_type: &str,
        body: Vec<u8>,
        compress: bool,
    ) -> Result<Content, ContentError> {
        if compress {
            self.event(Event::Compressing { name });
        }
        Content::new(name, content_type, body, compress, self.network)
    }

    /// The wallet output holding `parent`, to spend into the reveal and back to the wallet.
    pub fn parent(&self, parent: InscriptionId) -> Result<ParentInput, Error> {
        let id = parent.to_string();
        let utxo = self
            .utxos
            .iter()
            .find(|u| u.inscriptions.contains(&id))
            .ok_or(Error::ParentNotListed { id: parent })?;
        if self.wallet.find(&utxo.script_pubkey).is_none() {
            return Err(Error::ParentNotOurs {
                id: parent,
                outpoint: utxo.outpoint,
            });
        }
        Ok(ParentInput {
            id: parent,
            outpoint: utxo.outpoint,
            txout: utxo.txout(),
            return_to: utxo.script_pubkey.clone(),
        })
    }

    /// A plan sending every inscription to the destination with the session's postage.
    pub fn plan(&self, inscriptions: Vec<Inscription>, parents: Vec<ParentInput>) -> RevealPlan {
        RevealPlan {
            destinations: vec![self.destination.clone(); inscriptions.len()],
            inscriptions,
            postage: self.spending.postage,
            parents,
        }
    }

    /// A fresh random leaf key (also the taproot internal key), as ord makes one.
    pub fn leaf_key(&self) -> Keypair {
        Keypair::new(&self.secp, &mut bitcoin::secp256k1::rand::thread_rng())
    }

    /// One commit/reveal pair for `plan`, paid from the fee coins with change to the
    /// wallet.
    pub fn prepare(&self, plan: &RevealPlan) -> Result<Prepared, Error> {
        self.event(Event::Building);
        Prepared::build(
            &self.secp,
            plan,
            self.leaf_key(),
            &self.fee_coins(),
            vec![],
            self.change.clone(),
            self.spending.fee_rate,
        )
        .map_err(|e| self.explain(e.into()))
    }
}

/// The first index of `chain` from `from` whose script no UTXO of `utxos` pays.
fn unused(wallet: &Wallet, utxos: &[Utxo], chain: Chain, from: u32) -> Result<u32, Error> {
    let mut index = from;
    loop {
        let script = wallet.script_pubkey(chain, index)?;
        if !utxos.iter().any(|u| u.script_pubkey == script) {
            return Ok(index);
        }
        // script_pubkey refused an index past 2^31 - 1 above, so this cannot overflow.
        index += 1;
    }
}

#[cfg(test)]
mod tests;
