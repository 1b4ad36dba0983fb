#![no_main]

//! Feeds arbitrary bytes to the envelope parser twice: as a tapscript, and as a
//! consensus-encoded transaction (when they decode as one), and to the reveal reader as
//! hex or raw bytes. The parsers must never panic, and what they find must be consistent.

use bitcoin::consensus::encode::deserialize;
use bitcoin::script::Script;
use bitcoin::Transaction;
use inscription::{parse_transaction, Envelope, Reveal};
use libfuzzer_sys::fuzz_target;

fn check(envelopes: &[Envelope]) {
    for e in envelopes {
        let _ = e.curse();
        let _ = e.unbound();
        let _ = e.inscription.pointer();
        let _ = e.inscription.parent_ids();
        let _ = e.inscription.delegate_id();
        // Whatever was read re-encodes and reads back the same (bar empty chunked fields,
        // which ord writes as nothing).
        let script = e.inscription.envelope_script();
        let again = Envelope::from_tapscript(&script, 0).expect("our envelope decodes");
        assert_eq!(again.len(), 1);
        let mut expected = e.inscription.clone();
        if expected.metadata.as_deref() == Some(&[]) {
            expected.metadata = None;
        }
        if expected.properties.as_deref() == Some(&[]) {
            expected.properties = None;
        }
        assert_eq!(again[0].inscription, expected);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(found) = Envelope::from_tapscript(Script::from_bytes(data), 0) {
        for (n, e) in found.iter().enumerate() {
            assert_eq!(e.offset as usize, n);
        }
        check(&found);
    }
    if let Ok(tx) = deserialize::<Transaction>(data) {
        let found = Envelope::from_transaction(&tx);
        assert!(found.windows(2).all(|w| (w[0].input, w[0].offset) < (w[1].input, w[1].offset)));
        assert!(found.iter().all(|e| (e.input as usize) < tx.input.len()));
        check(&found);
        match Reveal::from_transaction(&tx) {
            Ok(reveal) => {
                assert_eq!(reveal.envelopes(), found.as_slice());
                assert_eq!(reveal.ids().len(), found.len());
            }
            Err(_) => assert!(found.is_empty()),
        }
    }
    // Whatever the reader takes reads back the same from its own bytes and their hex.
    if let Ok(tx) = parse_transaction(data) {
        let raw = bitcoin::consensus::encode::serialize(&tx);
        // Raw bytes that are all hex digits (and whitespace around them) read as hex.
        if !raw.trim_ascii().iter().all(u8::is_ascii_hexdigit) {
            assert_eq!(parse_transaction(&raw).ok(), Some(tx.clone()));
        }
        let hex = bitcoin::consensus::encode::serialize_hex(&tx);
        assert_eq!(parse_transaction(hex.as_bytes()).ok(), Some(tx));
    }
});
