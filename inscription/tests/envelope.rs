//! Integration tests for the inscription crate: golden vectors (some taken from ord's own
//! repository), ord's parser edge cases and curses on real transactions, reading reveals
//! from hostile input, property tests, and a cross-check against micro-ordinals, an
//! independent JavaScript implementation.

mod envelope {
    pub mod decompress;
    pub mod micro_ordinals;
    pub mod ord_sourced;
    pub mod parse;
    pub mod props;
    pub mod reveal;
    pub mod support;
    pub mod vectors;
}
