//! The memtable: an arena skiplist of versioned entries.

pub mod arena;
pub mod rng;
pub mod skiplist;
