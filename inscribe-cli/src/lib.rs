//! Library side of the `lumamesh` command: the starter page, which the subcommands and the
//! tests share. The money is the `onchain` crate's.

pub mod page;
