//! The wallet's keys: BIP86 single-key taproot, `m/86'/coin'/0'/chain/index`.
//!
//! A [`Wallet`] holds the account key derived from the seed (never the seed itself), derives
//! receive (chain 0) and change (chain 1) addresses, recognises its own outputs, signs BIP86
//! key-path inputs, and describes itself to Bitcoin Core and to PSBTs.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, KeySource, Xpriv, Xpub};
use bitcoin::hashes::Hash;
use bitcoin::key::{Keypair, TapTweak, XOnlyPublicKey};
use bitcoin::secp256k1::{All, Message, Secp256k1};
use bitcoin::sighash::{Prevouts, SighashCache, TapSighashType};
use bitcoin::{taproot, Address, Network, Script, ScriptBuf, Transaction, TxOut, Witness};

use super::descriptor::with_checksum;
use super::network::coin_type;

/// How many indices of each chain [`Wallet::find`] looks at, from 0, unless changed with
/// [`Wallet::with_gap`].
pub const DEFAULT_GAP: u32 = 1_000;

/// The BIP86 purpose, `86'`.
pub const PURPOSE: u32 = 86;

/// Which of the account's two chains a key is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Chain {
    /// Chain 0: addresses handed out to receive funds.
    Receive,
    /// Chain 1: change outputs of the wallet's own transactions.
    Change,
}

impl Chain {
    /// Both chains, receive first.
    pub const ALL: [Chain; 2] = [Chain::Receive, Chain::Change];

    /// The chain's number in the derivation path: 0 receive, 1 change.
    pub fn number(self) -> u32 {
        match self {
            Chain::Receive => 0,
            Chain::Change => 1,
        }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Chain::Receive => "receive",
            Chain::Change => "change",
        })
    }
}

/// A key that cannot be derived.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Address indices are unhardened BIP32 indices: below 2^31.
    #[error("address index {0} is out of range (at most 2147483647)")]
    Index(u32),
    /// BIP32 itself failed (a derived key out of range: astronomically unlikely).
    #[error("BIP32 derivation failed: {0}")]
    Bip32(bitcoin::bip32::Error),
}

impl From<bitcoin::bip32::Error> for KeyError {
    fn from(e: bitcoin::bip32::Error) -> Self {
        KeyError::Bip32(e)
    }
}

/// Why [`Wallet::sign_key_path`] did not sign.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// `input_index` is past the transaction's inputs.
    #[error("input {input_index} does not exist: the transaction has {inputs} inputs")]
    NoSuchInput { input_index: usize, inputs: usize },
    /// Taproot signatures commit to every spent output, so all are needed, in input order.
    #[error("{prevouts} spent outputs given for {inputs} inputs; give one per input, in order")]
    Prevouts { prevouts: usize, inputs: usize },
    /// The spent output is not one of this wallet's (within the gap).
    #[error(
        "input {input_index} spends {script_pubkey}, which is not a key-path output of this \
         wallet (looked at indices 0..{gap} of both chains)"
    )]
    NotOurs {
        input_index: usize,
        script_pubkey: String,
        gap: u32,
    },
    /// The sighash could not be computed.
    #[error("computing the taproot sighash of input {input_index}: {error}")]
    Sighash {
        input_index: usize,
        error: bitcoin::sighash::TaprootError,
    },
    /// The key could not be derived.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A BIP86 wallet: the account key `m/86'/coin'/0'` of one seed, for one network.
pub struct Wallet {
    network: Network,
    secp: Secp256k1<All>,
    fingerprint: Fingerprint,
    account: Xpriv,
    account_xpub: Xpub,
    chain_xpubs: [Xpub; 2],
    gap: u32,
    scripts: OnceLock<HashMap<ScriptBuf, (Chain, u32)>>,
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private key.
        f.debug_struct("Wallet")
            .field("network", &self.network)
            .field("fingerprint", &self.fingerprint)
            .field("gap", &self.gap)
            .finish_non_exhaustive()
    }
}

impl Wallet {
    /// The wallet of a BIP32 seed (for a BIP39 mnemonic, its 64-byte PBKDF2 output).
    pub fn from_seed(seed: &[u8], network: Network) -> Result<Wallet, KeyError> {
        let secp = Secp256k1::new();
        let master = Xpriv::new_master(network, seed)?;
        let fingerprint = master.fingerprint(&secp);
        let account = master.derive_priv(&secp, &account_path(network))?;
        let account_xpub = Xpub::from_priv(&secp, &account);
        let chain_xpubs = [
            account_xpub.ckd_pub(&secp, ChildNumber::Normal { index: 0 })?,
            account_xpub.ckd_pub(&secp, ChildNumber::Normal { index: 1 })?,
        ];
        Ok(Wallet {
            network,
            secp,
            fingerprint,
            account,
            account_xpub,
            chain_xpubs,
            gap: DEFAULT_GAP,
            scripts: OnceLock::new(),
        })
    }

    /// The wallet of a BIP39 mnemonic and passphrase (`""` for none).
    pub fn from_mnemonic(
        mnemonic: &bip39::Mnemonic,
        passphrase: &str,
        network: Network,
    ) -> Result<Wallet, KeyError> {
        Wallet::from_seed(&mnemonic.to_seed(passphrase), network)
    }

    /// The same wallet, with [`Wallet::find`] looking at indices `0..gap` of each chain.
    pub fn with_gap(mut self, gap: u32) -> Wallet {
        self.gap = gap.min(1 << 31);
        self.scripts = OnceLock::new();
        self
    }

    /// The network the wallet's addresses and keys are for.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The master key's fingerprint (the `[fingerprint/…]` of descriptors and PSBTs).
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// How many indices of each chain [`Wallet::find`] looks at.
    pub fn gap(&self) -> u32 {
        self.gap
    }

    /// The account's extended public key, `m/86'/coin'/0'` (xpub on mainnet, tpub elsewhere).
    pub fn account_xpub(&self) -> Xpub {
        self.account_xpub
    }

    /// `m/86'/coin'/0'/chain/index` (bitcoin's `Display` writes it without the `m/`).
    pub fn path(&self, chain: Chain, index: u32) -> Result<DerivationPath, KeyError> {
        Ok(account_path(self.network).extend([
            ChildNumber::Normal {
                index: chain.number(),
            },
            normal(index)?,
        ]))
    }

    /// The untweaked x-only key at `chain/index` (the PSBT's `tap_internal_key`).
    pub fn internal_key(&self, chain: Chain, index: u32) -> Result<XOnlyPublicKey, KeyError> {
        let xpub = self.chain_xpubs[chain.number() as usize].ckd_pub(&self.secp, normal(index)?)?;
        Ok(xpub.public_key.into())
    }

    /// The P2TR output script at `chain/index` (BIP86: tweaked with no script tree).
    pub fn script_pubkey(&self, chain: Chain, index: u32) -> Result<ScriptBuf, KeyError> {
        Ok(ScriptBuf::new_p2tr(
            &self.secp,
            self.internal_key(chain, index)?,
            None,
        ))
    }

    /// The P2TR address at `chain/index`.
    pub fn address(&self, chain: Chain, index: u32) -> Result<Address, KeyError> {
        Ok(Address::p2tr(
            &self.secp,
            self.internal_key(chain, index)?,
            None,
            self.network,
        ))
    }

    /// Receive address `index` (`…/0/index`).
    pub fn receive_address(&self, index: u32) -> Result<Address, KeyError> {
        self.address(Chain::Receive, index)
    }

    /// Change address `index` (`…/1/index`).
    pub fn change_address(&self, index: u32) -> Result<Address, KeyError> {
        self.address(Chain::Change, index)
    }

    /// Where `script_pubkey` is in this wallet, if it is one of indices `0..gap` of either
    /// chain. The first call derives and caches every script of the gap.
    pub fn find(&self, script_pubkey: &Script) -> Option<(Chain, u32)> {
        self.scripts
            .get_or_init(|| {
                let mut scripts = HashMap::with_capacity(2 * self.gap as usize);
                for chain in Chain::ALL {
                    for index in 0..self.gap {
                        let script = self
                            .script_pubkey(chain, index)
                            .expect("indices below the gap are below 2^31");
                        scripts.insert(script, (chain, index));
                    }
                }
                scripts
            })
            .get(script_pubkey)
            .copied()
    }

    /// Signs input `input_index` of `tx`, which spends one of this wallet's outputs by the
    /// BIP86 key path: SIGHASH_DEFAULT, a 64-byte schnorr signature as the only witness item.
    ///
    /// `prevouts` are the outputs every input spends, in input order (taproot signs them all).
    /// The key is found with [`Wallet::find`]; the input's witness is replaced.
    pub fn sign_key_path(
        &self,
        tx: &mut Transaction,
        input_index: usize,
        prevouts: &[TxOut],
    ) -> Result<(), SignError> {
        check_shape(tx, input_index, prevouts)?;
        let spent = &prevouts[input_index].script_pubkey;
        let (chain, index) = self.find(spent).ok_or_else(|| SignError::NotOurs {
            input_index,
            script_pubkey: spent.to_hex_string(),
            gap: self.gap,
        })?;
        self.sign_key_path_at(tx, input_index, prevouts, chain, index)
    }

    /// [`Wallet::sign_key_path`] with the key given, for an index beyond the gap. The spent
    /// output is not checked against the key: a wrong key makes an invalid signature.
    pub fn sign_key_path_at(
        &self,
        tx: &mut Transaction,
        input_index: usize,
        prevouts: &[TxOut],
        chain: Chain,
        index: u32,
    ) -> Result<(), SignError> {
        check_shape(tx, input_index, prevouts)?;
        let tweaked = self.keypair(chain, index)?.tap_tweak(&self.secp, None);
        let sighash = SighashCache::new(&*tx)
            .taproot_key_spend_signature_hash(
                input_index,
                &Prevouts::All(prevouts),
                TapSighashType::Default,
            )
            .map_err(|error| SignError::Sighash { input_index, error })?;
        let message = Message::from_digest(sighash.to_raw_hash().to_byte_array());
        let signature = taproot::Signature {
            signature: self.secp.sign_schnorr(&message, &tweaked.to_keypair()),
            sighash_type: TapSighashType::Default,
        };
        tx.input[input_index].witness = Witness::p2tr_key_spend(&signature);
        Ok(())
    }

    /// What a PSBT input or output needs about the key at `chain/index`: the x-only internal
    /// key (`tap_internal_key`, and the key of `tap_key_origins`) and its BIP32 origin
    /// (master fingerprint, full path) for `tap_key_origins` (with no leaf hashes).
    pub fn bip32_origin(
        &self,
        chain: Chain,
        index: u32,
    ) -> Result<(XOnlyPublicKey, KeySource), KeyError> {
        Ok((
            self.internal_key(chain, index)?,
            (self.fingerprint, self.path(chain, index)?),
        ))
    }

    /// The public descriptor of one chain, with its checksum, for Bitcoin Core's
    /// `importdescriptors`: `tr([fingerprint/86'/coin'/0']xpub/chain/*)#checksum`.
    pub fn descriptor(&self, chain: Chain) -> String {
        let body = format!(
            "tr([{}/{}]{}/{}/*)",
            self.fingerprint,
            account_path(self.network),
            self.account_xpub,
            chain.number()
        );
        with_checksum(&body).expect("xpub descriptors use only descriptor characters")
    }

    /// The receive and change descriptors, in that order.
    pub fn descriptors(&self) -> [String; 2] {
        [
            self.descriptor(Chain::Receive),
            self.descriptor(Chain::Change),
        ]
    }

    /// The untweaked keypair at `chain/index`.
    fn keypair(&self, chain: Chain, index: u32) -> Result<Keypair, KeyError> {
        let path = [
            ChildNumber::Normal {
                index: chain.number(),
            },
            normal(index)?,
        ];
        Ok(self
            .account
            .derive_priv(&self.secp, &path)?
            .to_keypair(&self.secp))
    }
}

/// `m/86'/coin'/0'`.
pub fn account_path(network: Network) -> DerivationPath {
    DerivationPath::from(vec![
        ChildNumber::Hardened { index: PURPOSE },
        ChildNumber::Hardened {
            index: coin_type(network),
        },
        ChildNumber::Hardened { index: 0 },
    ])
}

fn normal(index: u32) -> Result<ChildNumber, KeyError> {
    ChildNumber::from_normal_idx(index).map_err(|_| KeyError::Index(index))
}

fn check_shape(tx: &Transaction, input_index: usize, prevouts: &[TxOut]) -> Result<(), SignError> {
    let inputs = tx.input.len();
    if input_index >= inputs {
        return Err(SignError::NoSuchInput {
            input_index,
            inputs,
        });
    }
    if prevouts.len() != inputs {
        return Err(SignError::Prevouts {
            prevouts: prevouts.len(),
            inputs,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
