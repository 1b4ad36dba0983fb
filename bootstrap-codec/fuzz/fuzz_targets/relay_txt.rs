#![no_main]

use bootstrap_codec::RelayTxt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let txt = RelayTxt::parse(text);
    let lines = text.lines().count();
    assert!(txt.entries.iter().all(|e| e.line >= 1 && e.line <= lines));
    assert!(txt.errors.iter().all(|e| e.line >= 1 && e.line <= lines));
});
