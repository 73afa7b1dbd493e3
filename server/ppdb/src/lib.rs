//! # ppdb: the server, command line and load generator
//!
//! Subcommands live in their own modules; `main.rs` only parses arguments and dispatches.
//!
//! - [`bench`](mod@bench): `ppdb bench`, a load generator for any memcached-protocol server.

pub mod bench;
pub mod exec;
pub mod server;
pub mod shared;
pub mod store;
