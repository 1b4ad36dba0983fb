//! One key everywhere: a relay's libp2p PeerId is its Ed25519 node key `nk`.
//!
//! An Ed25519 PeerId is the identity multihash of the protobuf-encoded public key, so it
//! holds the 32 key bytes themselves and converts both ways without a lookup.

use bootstrap_codec::{NodeKey, NodeSecret};
use libp2p::identity::{ed25519, Keypair, PublicKey};
use libp2p::PeerId;

/// Multihash code of the identity "hash" (the digest is the data itself).
const IDENTITY_MULTIHASH: u64 = 0;

/// The libp2p keypair of the relay whose node key is `secret`.
pub(crate) fn keypair(secret: &NodeSecret) -> Keypair {
    let mut seed = secret.seed();
    // Any 32 bytes are a valid Ed25519 seed, so this cannot fail.
    Keypair::ed25519_from_bytes(&mut *seed).expect("a 32-byte seed is an Ed25519 secret key")
}

/// The PeerId of the relay whose node key is `nk`.
pub fn peer_id(nk: &NodeKey) -> PeerId {
    // `NodeKey` only holds valid curve points, which libp2p accepts as well.
    let key = ed25519::PublicKey::try_from_bytes(nk.as_bytes())
        .expect("a NodeKey is a valid Ed25519 public key");
    PublicKey::from(key).to_peer_id()
}

/// The node key inside `peer`; `None` for a PeerId that does not embed an Ed25519 key (a
/// hashed key of another type: not one of our relays).
pub fn node_key(peer: &PeerId) -> Option<NodeKey> {
    let multihash = peer.as_ref();
    if multihash.code() != IDENTITY_MULTIHASH {
        return None;
    }
    let public = PublicKey::try_decode_protobuf(multihash.digest()).ok()?;
    let ed = public.try_into_ed25519().ok()?;
    NodeKey::from_bytes(&ed.to_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use bootstrap_codec::NodeSecret;
    use libp2p::identity::Keypair;
    use libp2p::PeerId;

    use super::{keypair, node_key, peer_id};

    #[test]
    fn peer_id_and_node_key_convert_both_ways() {
        let secret = NodeSecret::generate().expect("random key");
        let nk = secret.public();
        let peer = peer_id(&nk);
        assert_eq!(node_key(&peer), Some(nk));
        assert_eq!(keypair(&secret).public().to_peer_id(), peer);
        // The PeerId text relays print is a stable function of the key.
        assert_eq!(peer.to_base58(), peer_id(&nk).to_string());
    }

    #[test]
    fn foreign_peer_ids_have_no_node_key() {
        let other = Keypair::generate_ed25519().public().to_peer_id();
        assert!(node_key(&other).is_some(), "any Ed25519 PeerId holds a key");
        // A hashed (sha2-256) PeerId, as RSA keys get, holds no key at all.
        let hashed: PeerId = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"
            .parse()
            .unwrap();
        assert_eq!(node_key(&hashed), None);
    }
}
