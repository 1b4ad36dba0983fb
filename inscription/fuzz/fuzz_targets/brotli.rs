#![no_main]

//! Feeds arbitrary bytes to the bounded brotli decoder. It must never panic, never return
//! more than its limit, and agree with itself: a body that decodes to `n` bytes decodes the
//! same under a limit of exactly `n` and is refused under `n - 1`.

use inscription::{decompress_brotli_limited, CompressError};
use libfuzzer_sys::fuzz_target;

/// Small enough that bombs in the corpus are cut short quickly.
const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    match decompress_brotli_limited(data, LIMIT) {
        Ok(out) => {
            assert!(out.len() <= LIMIT);
            assert_eq!(decompress_brotli_limited(data, out.len()).ok(), Some(out.clone()));
            if !out.is_empty() {
                assert!(matches!(
                    decompress_brotli_limited(data, out.len() - 1),
                    Err(CompressError::TooLarge { .. })
                ));
            }
        }
        Err(CompressError::TooLarge { limit }) => assert_eq!(limit, LIMIT),
        Err(CompressError::Io(_)) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
});
