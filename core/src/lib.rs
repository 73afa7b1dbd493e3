//! # ppdb-core: the PPDB engine
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod memtable;
pub mod sync;
