//! Layer-1 relay frames (`RelayMessage::decode`): decoding never panics, and a frame that
//! decodes re-encodes to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lumamesh_relay::protocol::RelayMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = RelayMessage::decode(data) {
        let mut out = Vec::new();
        message.encode(&mut out);
        assert_eq!(out, data, "accepted frame must re-encode byte-equal");
    }
});
