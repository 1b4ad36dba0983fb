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
mod tests {
    use std::str::FromStr;

    use bitcoin::absolute::LockTime;
    use bitcoin::transaction::Version;
    use bitcoin::{Amount, OutPoint, Sequence, TxIn, Txid};

    use super::*;

    fn abandon() -> bip39::Mnemonic {
        let words = format!("{}about", "abandon ".repeat(11));
        bip39::Mnemonic::from_str(&words).unwrap()
    }

    fn wallet(network: Network) -> Wallet {
        Wallet::from_mnemonic(&abandon(), "", network).unwrap()
    }

    /// The test vectors of BIP-86 ("abandon … about", no passphrase).
    #[test]
    fn bip86_test_vectors() {
        let w = wallet(Network::Bitcoin);
        assert_eq!(w.fingerprint().to_string(), "73c5da0a");
        assert_eq!(
            w.account_xpub().to_string(),
            "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ"
        );
        assert_eq!(
            w.internal_key(Chain::Receive, 0).unwrap().to_string(),
            "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115"
        );
        assert_eq!(
            w.script_pubkey(Chain::Receive, 0).unwrap().to_hex_string(),
            "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"
        );
        assert_eq!(
            w.receive_address(0).unwrap().to_string(),
            "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"
        );
        assert_eq!(
            w.receive_address(1).unwrap().to_string(),
            "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh"
        );
        assert_eq!(
            w.change_address(0).unwrap().to_string(),
            "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7"
        );
        assert_eq!(
            w.path(Chain::Change, 7).unwrap().to_string(),
            "86'/0'/0'/1/7"
        );
    }

    #[test]
    fn test_networks_use_coin_type_1() {
        let w = wallet(Network::Regtest);
        assert_eq!(
            w.path(Chain::Receive, 0).unwrap().to_string(),
            "86'/1'/0'/0/0"
        );
        assert!(w
            .receive_address(0)
            .unwrap()
            .to_string()
            .starts_with("bcrt1p"));
        assert!(w.account_xpub().to_string().starts_with("tpub"));
        // Same keys on every test network; only the address form differs.
        let t = wallet(Network::Testnet4);
        assert_eq!(
            t.script_pubkey(Chain::Receive, 3).unwrap(),
            w.script_pubkey(Chain::Receive, 3).unwrap()
        );
        assert!(t
            .receive_address(0)
            .unwrap()
            .to_string()
            .starts_with("tb1p"));
        assert_ne!(
            wallet(Network::Bitcoin)
                .script_pubkey(Chain::Receive, 0)
                .unwrap(),
            w.script_pubkey(Chain::Receive, 0).unwrap()
        );
    }

    #[test]
    fn passphrase_changes_the_wallet() {
        let w = Wallet::from_mnemonic(&abandon(), "TREZOR", Network::Bitcoin).unwrap();
        assert_ne!(
            w.receive_address(0).unwrap(),
            wallet(Network::Bitcoin).receive_address(0).unwrap()
        );
    }

    #[test]
    fn indices_are_unhardened() {
        let w = wallet(Network::Regtest);
        assert!(w.receive_address((1 << 31) - 1).is_ok());
        let err = w.receive_address(1 << 31).unwrap_err();
        assert!(matches!(err, KeyError::Index(2147483648)), "{err}");
    }

    #[test]
    fn find_scans_both_chains_within_the_gap() {
        let w = wallet(Network::Regtest).with_gap(50);
        for (chain, index) in [
            (Chain::Receive, 0),
            (Chain::Change, 49),
            (Chain::Receive, 17),
        ] {
            let spk = w.script_pubkey(chain, index).unwrap();
            assert_eq!(w.find(&spk), Some((chain, index)));
        }
        assert_eq!(w.find(&w.script_pubkey(Chain::Receive, 50).unwrap()), None);
        let other = wallet(Network::Bitcoin);
        assert_eq!(
            w.find(&other.script_pubkey(Chain::Receive, 0).unwrap()),
            None
        );
        assert_eq!(wallet(Network::Regtest).gap(), DEFAULT_GAP);
    }

    #[test]
    fn descriptors_for_bitcoin_core() {
        // Checksums computed independently with the Python in descriptor.rs's tests.
        let xpub = "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ";
        assert_eq!(
            wallet(Network::Bitcoin).descriptors(),
            [
                format!("tr([73c5da0a/86'/0'/0']{xpub}/0/*)#rg247h69"),
                format!("tr([73c5da0a/86'/0'/0']{xpub}/1/*)#ju05rz2a"),
            ]
        );
        let regtest = wallet(Network::Regtest).descriptor(Chain::Receive);
        assert!(
            regtest.starts_with("tr([73c5da0a/86'/1'/0']tpub"),
            "{regtest}"
        );
        assert!(regtest.contains("/0/*)#"), "{regtest}");
        assert!(super::super::descriptor::verify_checksum(&regtest).is_ok());
    }

    #[test]
    fn bip32_origin_for_psbts() {
        let w = wallet(Network::Regtest);
        let (key, (fingerprint, path)) = w.bip32_origin(Chain::Change, 4).unwrap();
        assert_eq!(key, w.internal_key(Chain::Change, 4).unwrap());
        assert_eq!(fingerprint, w.fingerprint());
        assert_eq!(path.to_string(), "86'/1'/0'/1/4");
    }

    fn spend(prevouts: &[TxOut], outputs: Vec<TxOut>) -> Transaction {
        Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: (0..prevouts.len())
                .map(|i| TxIn {
                    previous_output: OutPoint::new(Txid::from_byte_array([7; 32]), i as u32),
                    sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                    ..TxIn::default()
                })
                .collect(),
            output: outputs,
        }
    }

    /// libbitcoinconsensus on every input (taproot on) and standardness: the same check
    /// every transaction `lumamesh` builds must pass.
    fn consensus_verify(tx: &Transaction, prevouts: &[TxOut]) -> Result<(), String> {
        crate::reveal::verify_transaction(tx, prevouts).map_err(|e| e.to_string())
    }

    #[test]
    fn key_path_signatures_pass_consensus_and_tampering_fails() {
        let w = wallet(Network::Regtest);
        let prevouts = vec![
            TxOut {
                value: Amount::from_sat(50_000),
                script_pubkey: w.script_pubkey(Chain::Receive, 3).unwrap(),
            },
            TxOut {
                value: Amount::from_sat(20_000),
                script_pubkey: w.script_pubkey(Chain::Change, 0).unwrap(),
            },
        ];
        let outputs = vec![TxOut {
            value: Amount::from_sat(69_000),
            script_pubkey: w.script_pubkey(Chain::Receive, 4).unwrap(),
        }];
        let mut tx = spend(&prevouts, outputs);
        assert!(
            consensus_verify(&tx, &prevouts).is_err(),
            "unsigned must fail"
        );
        w.sign_key_path(&mut tx, 0, &prevouts).unwrap();
        w.sign_key_path(&mut tx, 1, &prevouts).unwrap();
        for input in &tx.input {
            assert_eq!(input.witness.len(), 1);
            assert_eq!(
                input.witness.nth(0).unwrap().len(),
                64,
                "SIGHASH_DEFAULT: 64 bytes"
            );
        }
        consensus_verify(&tx, &prevouts).unwrap();

        // Any change to what was signed invalidates it.
        let mut tampered = tx.clone();
        tampered.output[0].value = Amount::from_sat(68_000);
        assert!(consensus_verify(&tampered, &prevouts).is_err());
        // So does claiming a different spent amount.
        let mut other = prevouts.clone();
        other[1].value = Amount::from_sat(20_001);
        assert!(consensus_verify(&tx, &other).is_err());
    }

    #[test]
    fn signing_refuses_what_it_cannot_sign() {
        let w = wallet(Network::Regtest).with_gap(5);
        let ours = TxOut {
            value: Amount::from_sat(1_000),
            script_pubkey: w.script_pubkey(Chain::Receive, 0).unwrap(),
        };
        let foreign = TxOut {
            value: Amount::from_sat(1_000),
            script_pubkey: wallet(Network::Bitcoin)
                .script_pubkey(Chain::Receive, 0)
                .unwrap(),
        };
        let mut tx = spend(&[ours.clone(), foreign.clone()], vec![ours.clone()]);
        let prevouts = [ours.clone(), foreign];
        let err = w.sign_key_path(&mut tx, 1, &prevouts).unwrap_err();
        assert!(
            matches!(
                err,
                SignError::NotOurs {
                    input_index: 1,
                    gap: 5,
                    ..
                }
            ),
            "{err}"
        );
        let err = w.sign_key_path(&mut tx, 2, &prevouts).unwrap_err();
        assert!(
            matches!(err, SignError::NoSuchInput { inputs: 2, .. }),
            "{err}"
        );
        let err = w.sign_key_path(&mut tx, 0, &prevouts[..1]).unwrap_err();
        assert!(
            matches!(
                err,
                SignError::Prevouts {
                    prevouts: 1,
                    inputs: 2
                }
            ),
            "{err}"
        );

        // Beyond the gap, the caller names the key.
        let far = TxOut {
            value: Amount::from_sat(5_000),
            script_pubkey: w.script_pubkey(Chain::Change, 999).unwrap(),
        };
        let mut tx = spend(std::slice::from_ref(&far), vec![ours]);
        assert!(w
            .sign_key_path(&mut tx, 0, std::slice::from_ref(&far))
            .is_err());
        w.sign_key_path_at(&mut tx, 0, std::slice::from_ref(&far), Chain::Change, 999)
            .unwrap();
        consensus_verify(&tx, std::slice::from_ref(&far)).unwrap();
    }
}
