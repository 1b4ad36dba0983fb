//! Mesh gossip (`MeshMessage::decode`): decoding never panics, and a message that decodes
//! re-encodes to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lumamesh_relay::mesh::wire::MeshMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = MeshMessage::decode(data) {
        let mut out = Vec::new();
        message.encode(&mut out);
        assert_eq!(out, data, "accepted message must re-encode byte-equal");
    }
});
