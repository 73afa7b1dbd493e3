//! # ppdb-platform-std: the platform traits on the Rust standard library
