//! # ppdb: the server, command line and load generator
//!
//! Subcommands live in their own modules; `main.rs` only parses arguments and dispatches.
//!
//! - [`bench`](mod@bench): `ppdb bench`, a load generator for any memcached-protocol server.
//! - [`cli`]: `ppdb cli`, `run`, `shell`, `dump` and `load`, the command line.

pub mod alloc;
pub mod bench;
pub mod cli;
pub mod exec;
pub mod server;
pub mod shared;
pub mod store;
