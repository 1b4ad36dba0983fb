//! Library side of the `lumamesh` command: logic the subcommands share and tests reach.

pub mod estimate;
pub mod page;
pub mod reveal;
pub mod wallet;
