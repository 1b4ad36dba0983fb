#![no_main]

use bootstrap_codec::RelayEntry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = RelayEntry::decode(data) {
        assert_eq!(
            entry.to_bytes(),
            data,
            "accepted entry must re-encode byte-equal"
        );
        assert_eq!(RelayEntry::from_line(&entry.to_line()).as_ref(), Ok(&entry));
    }
});
