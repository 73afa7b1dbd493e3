//! # ppdb-platform-sim: a deterministic simulator of the platform traits
