//! Helpers shared by the integration tests.

use bitcoin::absolute::LockTime;
use bitcoin::hex::{DisplayHex, FromHex};
use bitcoin::script::{Builder, PushBytesBuf, ScriptBuf};
use bitcoin::transaction::Version;
use bitcoin::{OutPoint, Sequence, Transaction, TxIn, Witness, XOnlyPublicKey};

/// The x-only key of every vector's leaf script: the x coordinate of secp256k1's generator.
pub const KEY_HEX: &str = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

pub fn key() -> XOnlyPublicKey {
    KEY_HEX.parse().unwrap()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.to_lower_hex_string()
}

pub fn unhex(s: &str) -> Vec<u8> {
    Vec::from_hex(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

/// A script-path reveal witness as ord's wallet writes one: a 64-byte signature (zeros
/// here), the leaf script, and a 33-byte control block for a single-leaf tree.
pub fn reveal_witness(leaf: &[u8]) -> Witness {
    let mut control_block = vec![0xc0];
    control_block.extend_from_slice(&key().serialize());
    Witness::from_slice(&[vec![0; 64], leaf.to_vec(), control_block])
}

/// The same as a plain list of elements.
pub fn reveal_stack(leaf: &[u8]) -> Vec<Vec<u8>> {
    reveal_witness(leaf).iter().map(<[u8]>::to_vec).collect()
}

/// A key-path spend: just a signature.
pub fn key_path_witness() -> Witness {
    Witness::from_slice(&[vec![0x01; 64]])
}

/// A version-2 transaction with one input per witness and no outputs.
pub fn transaction(witnesses: Vec<Witness>) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: witnesses
            .into_iter()
            .enumerate()
            .map(|(i, witness)| TxIn {
                previous_output: OutPoint::new(
                    "1111111111111111111111111111111111111111111111111111111111111111"
                        .parse()
                        .unwrap(),
                    i as u32,
                ),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness,
            })
            .collect(),
        output: Vec::new(),
    }
}

/// One item of a hand-written script.
pub enum Item<'a> {
    /// A data push (an empty one is `OP_0`).
    Push(&'a [u8]),
    /// A bare opcode.
    Op(bitcoin::Opcode),
}

/// Assembles a script from data pushes and opcodes, as ord's test helper `envelope()` does.
pub fn script(items: &[Item<'_>]) -> ScriptBuf {
    let mut builder = Builder::new();
    for item in items {
        builder = match item {
            Item::Push(data) => builder.push_slice(PushBytesBuf::try_from(data.to_vec()).unwrap()),
            Item::Op(op) => builder.push_opcode(*op),
        };
    }
    builder.into_script()
}

/// `OP_FALSE OP_IF` + the pushes + `OP_ENDIF`: ord's `envelope(&[...])` test helper.
pub fn envelope(pushes: &[&[u8]]) -> ScriptBuf {
    use bitcoin::opcodes::all::{OP_ENDIF, OP_IF};
    use bitcoin::opcodes::OP_FALSE;
    let mut items = vec![Item::Op(OP_FALSE), Item::Op(OP_IF)];
    items.extend(pushes.iter().map(|p| Item::Push(p)));
    items.push(Item::Op(OP_ENDIF));
    script(&items)
}

/// A witness whose leaf script is `script` and whose control block is empty, as ord's tests
/// write them.
pub fn leaf_witness(script: &ScriptBuf) -> Witness {
    Witness::from_slice(&[script.to_bytes(), Vec::new()])
}
